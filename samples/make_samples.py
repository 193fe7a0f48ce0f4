"""Train and save the demo models (seeded, reproducible).

    python samples/make_samples.py [OUT_DIR]     # default: samples/models

Writes, for the German credit data (target ``risk``: 1 = good, 0 = bad):
- credit_logreg.skops / .pkl: Pipeline(ColumnTransformer(OneHotEncoder, StandardScaler), LogisticRegression)
- credit_gbm.skops / .pkl: Pipeline(ColumnTransformer(OneHotEncoder, passthrough), GradientBoostingClassifier)
- credit_logreg_fair.skops / .pkl: the logistic regression without `sex` and `age` as inputs
  (both models above take them, and the credit policy in samples/audit.toml fails them for it)
and for the synthetic loan data (``synthetic_loans.csv``, written beside them):
- synthetic_logreg.skops: LogisticRegression on the 10 numeric columns
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synthetic import make_loans  # noqa: E402

SEED = 0
CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]
NUMERIC = ["job", "credit_amount", "duration", "age"]


def credit_frame() -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(HERE / "german_credit.csv")
    return df[CATEGORICAL + NUMERIC], df["risk"]


def credit_logreg() -> Pipeline:
    pre = ColumnTransformer([
        ("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ("scale", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
    ])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000, C=1.0))])


PROTECTED = ["sex", "age"]


def credit_logreg_fair() -> Pipeline:
    """The same logistic regression without the protected attributes as inputs (what a lender would ship)."""
    cats = [c for c in CATEGORICAL if c not in PROTECTED]
    nums = [c for c in NUMERIC if c not in PROTECTED]
    pre = ColumnTransformer([
        ("onehot", OneHotEncoder(handle_unknown="ignore"), cats),
        ("scale", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
    ])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000, C=1.0))])


def credit_gbm() -> Pipeline:
    pre = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder="passthrough")
    return Pipeline([("pre", pre), ("model", GradientBoostingClassifier(n_estimators=150, max_depth=3,
                                                                          learning_rate=0.05, random_state=SEED))])


def dump_skops(model: object, path: Path) -> None:
    """skops.io.dump made byte-reproducible, so the same model has the same SHA-256 on the report's cover
    on every run: skops names arrays and memo entries by ``id()`` (memory addresses) and stamps the zip
    members with the current time; here the ids are renumbered in order of first appearance and the
    times fixed."""
    import io
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    schema = src.read("schema.json").decode()
    order: dict[str, str] = {}
    for found in re.finditer(r'"__id__": (\d+)|"(\d+)\.npy"', schema):
        order.setdefault(found.group(1) or found.group(2), str(len(order) + 1))

    def renumber(text: str) -> str:
        return re.sub(r"(?<!\d)(\d{6,})(?=\.npy|\b)", lambda m: order.get(m.group(1), m.group(1)), text)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist(), key=renumber):
            info = zipfile.ZipInfo(renumber(name), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, renumber(schema) if name == "schema.json" else src.read(name))
    path.write_bytes(buf.getvalue())


def save(model: object, stem: Path) -> None:
    dump_skops(model, stem.with_suffix(".skops"))
    with open(stem.with_suffix(".pkl"), "wb") as fh:
        pickle.dump(model, fh, protocol=5)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    X, y = credit_frame()
    save(credit_logreg().fit(X, y), out / "credit_logreg")
    save(credit_gbm().fit(X, y), out / "credit_gbm")
    inputs = [c for c in X.columns if c not in PROTECTED]
    save(credit_logreg_fair().fit(X[inputs], y), out / "credit_logreg_fair")
    loans = make_loans(2000, seed=SEED)
    loans.to_csv(out / "synthetic_loans.csv", index=False)
    features = [c for c in loans.columns if c != "default"]
    synth = LogisticRegression(max_iter=1000).fit(loans[features], loans["default"])
    dump_skops(synth, out / "synthetic_logreg.skops")
    print(f"wrote demo models to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "models")
