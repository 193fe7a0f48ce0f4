"""Train the torch demo models on the German credit data and save them (seeded).

    python samples/make_torch_samples.py [OUT_DIR]      # default: samples/models

For each of ``loan_mlp`` and ``loan_transformer`` it writes a state_dict (``.pt``), safetensors
(``.safetensors``), TorchScript (``.ts``) and the preprocessing spec (``.spec.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from samples.torch_models import LoanMLP, TabTransformer  # noqa: E402

CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]
NUMERIC = ["job", "credit_amount", "duration", "age"]


def build_spec(df: pd.DataFrame) -> dict:
    feats = []
    for name in CATEGORICAL + NUMERIC:
        if name in CATEGORICAL:
            feats.append({"name": name, "type": "categorical", "categories": sorted(df[name].dropna().unique().tolist())})
        else:
            feats.append({"name": name, "type": "numeric", "mean": float(df[name].mean()), "std": float(df[name].std())})
    return {"task": "binary", "classes": [0, 1], "output": "logits", "features": feats, "target": "risk",
            "favorable_class": 1}


def encode(df: pd.DataFrame, spec: dict) -> tuple[np.ndarray, list[list[int]]]:
    cols, groups, start = [], [], 0
    for f in spec["features"]:
        if f["type"] == "numeric":
            cols.append(((df[f["name"]] - f["mean"]) / f["std"]).to_numpy()[:, None])
            groups.append([start])
            start += 1
        else:
            onehot = np.stack([(df[f["name"]] == c).to_numpy(dtype=float) for c in f["categories"]], axis=1)
            cols.append(onehot)
            groups.append(list(range(start, start + onehot.shape[1])))
            start += onehot.shape[1]
    return np.hstack(cols).astype(np.float32), groups


def train(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, lr: float) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(X)[:, 0], y)
        loss.backward()
        opt.step()
    model.eval()


def save_all(model: torch.nn.Module, stem: Path, spec: dict, example: torch.Tensor) -> None:
    torch.save(model.state_dict(), stem.with_suffix(".pt"))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(stem.with_suffix(".safetensors")))
    torch.jit.trace(model, example).save(str(stem.with_suffix(".ts")))
    stem.with_suffix(".spec.json").write_text(json.dumps(spec, indent=2))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    df = pd.read_csv(HERE / "german_credit.csv")
    spec = build_spec(df)
    X_np, groups = encode(df, spec)
    X, y = torch.from_numpy(X_np), torch.from_numpy(df["risk"].to_numpy(dtype=np.float32))
    mlp = LoanMLP(X.shape[1])
    train(mlp, X, y, epochs=300, lr=1e-2)
    save_all(mlp, out / "loan_mlp", {**spec, "model_kwargs": {"n_inputs": X.shape[1]}}, X[:4])
    tab = TabTransformer(groups)
    train(tab, X, y, epochs=150, lr=5e-3)
    save_all(tab, out / "loan_transformer", {**spec, "model_kwargs": {"groups": groups}}, X[:4])
    print(f"wrote torch demo models to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "models")
