"""Every optional dependency missing at the point of use is exit 2 naming the extra to install, never an
internal error (exit 3). Each is tested by hiding the installed module from the import system."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from tests.conftest import FAST_TOML, SAMPLES

MODEL = SAMPLES / "models" / "credit_logreg.skops"
DATA = SAMPLES / "german_credit.csv"


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``import name`` (and its submodules) fail as if the package were not installed."""
    for key in list(sys.modules):
        if key.split(".")[0] in names:
            monkeypatch.setitem(sys.modules, key, None)
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _expect_exit_2(cli, args: list, extra: str, tmp_path, *, where: str = "") -> None:
    code, _out, err = cli(*map(str, args))
    text = " ".join(err.split())
    assert code == 2, err
    assert text.startswith("error:") and f"pip install 'xai-audit[{extra}]'" in text, err
    assert "internal error" not in text and "Traceback" not in text
    assert where in text, err


def _native(module: str, tmp_path) -> tuple:
    """(a real model file of ``module``'s format, the extra that installs it); ONNX needs only its header."""
    if module == "onnxruntime":
        path = tmp_path / "model.onnx"
        path.write_bytes(b"\x08\x07\x12\x07ai.onnx" + b"\0" * 32)
        return path, "onnx"
    pytest.importorskip(module)
    if module == "catboost":
        import catboost

        df = pd.read_csv(DATA)
        model = catboost.CatBoostClassifier(iterations=5, depth=2, random_seed=0, verbose=False, thread_count=1,
                                           allow_writing_files=False)
        model.fit(df[["duration", "age"]], df["risk"])
        model.save_model(str(tmp_path / "model.cbm"))
        return tmp_path / "model.cbm", "catboost"
    from tests.adapters.native_models import credit_models

    return credit_models(tmp_path, module, ".json" if module == "xgboost" else ".txt")[0], module


@pytest.mark.parametrize("module", ["catboost", "lightgbm", "onnxruntime", "xgboost"])
def test_native_model_without_its_library(module, cli, tmp_path, monkeypatch):
    model, extra = _native(module, tmp_path)
    hide(monkeypatch, module)
    _expect_exit_2(cli, ["run", model, DATA, "--out", tmp_path / "out", "--quiet"], extra, tmp_path,
                   where=f"model {model}")
    assert not (tmp_path / "out").exists()


@pytest.fixture()
def parquet(tmp_path):
    path = tmp_path / "data.parquet"
    pd.read_csv(DATA).to_parquet(path)
    return path


def test_reasons_on_parquet_without_pyarrow(cli, tmp_path, parquet, monkeypatch):
    hide(monkeypatch, "pyarrow")
    _expect_exit_2(cli, ["reasons", MODEL, parquet, "--out", tmp_path / "r.csv", "--quiet"], "parquet", tmp_path,
                   where=f"data {parquet}")
    _expect_exit_2(cli, ["reasons", MODEL, DATA, "--out", tmp_path / "r.parquet", "--quiet"], "parquet", tmp_path,
                   where="--out")
    assert not list(tmp_path.glob("r.*"))


def test_run_on_parquet_without_pyarrow(cli, tmp_path, parquet, monkeypatch):
    hide(monkeypatch, "pyarrow")
    _expect_exit_2(cli, ["run", MODEL, parquet, "--out", tmp_path / "out", "--quiet"], "parquet", tmp_path)


def test_mlflow_and_dask_options_without_their_extras(cli, tmp_path, monkeypatch):
    hide(monkeypatch, "mlflow")
    _expect_exit_2(cli, ["run", MODEL, DATA, "--mlflow", "--out", tmp_path / "a", "--quiet"], "mlflow", tmp_path)
    monkeypatch.undo()
    hide(monkeypatch, "dask", "distributed")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    _expect_exit_2(cli, ["run", MODEL, DATA, "--config", cfg, "--scheduler", "local:1", "--out", tmp_path / "b",
                         "--quiet"], "dask", tmp_path)


def test_torch_model_without_torch(cli, tmp_path, monkeypatch):
    model = tmp_path / "net.pt"
    model.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    hide(monkeypatch, "torch", "captum", "safetensors")
    _expect_exit_2(cli, ["run", model, DATA, "--model-class", "samples.torch_models:LoanMLP", "--out",
                         tmp_path / "out", "--quiet"], "torch", tmp_path)


def test_captum_method_without_captum(cli, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from samples.make_torch_samples import build_spec, encode
    from samples.torch_models import LoanMLP

    df = pd.read_csv(DATA)
    spec = build_spec(df)
    X, _ = encode(df, spec)
    torch.manual_seed(0)
    net = LoanMLP(X.shape[1])
    torch.save(net.state_dict(), tmp_path / "net.pt")
    import json

    (tmp_path / "net.spec.json").write_text(json.dumps({**spec, "model_kwargs": {"n_inputs": X.shape[1]}}))
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    hide(monkeypatch, "captum")
    _expect_exit_2(cli, ["run", tmp_path / "net.pt", DATA, "--model-class", "samples.torch_models:LoanMLP",
                         "--explainers", "integrated_gradients", "--target", "risk", "--config", cfg, "--out",
                         tmp_path / "out", "--quiet"], "torch", tmp_path)
    assert not (tmp_path / "out").exists()
