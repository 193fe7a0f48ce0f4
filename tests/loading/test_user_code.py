"""A model whose own code was defined in the training script (``__main__``) is the user's input: exit 2
with the fix, never an internal error (issue item 8)."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from audit.errors import ModelError
from audit.loading import load_model


class Clip(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.clip(X, -3, 3)


def _as_if_defined_in_main(obj, path, dump):
    """Save ``obj`` as a training script would: its class recorded as ``__main__.Clip``."""
    main = sys.modules["__main__"]
    Clip.__module__ = "__main__"
    main.Clip = Clip
    try:
        dump(obj, path)
    finally:
        Clip.__module__ = __name__
        del main.Clip
    return path


def test_pickle_naming_a_class_of_main_is_exit_2_with_the_fix(cli, tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 2))
    model = Pipeline([("clip", Clip()), ("lr", LogisticRegression())]).fit(X, X[:, 0] > 0)
    path = _as_if_defined_in_main(model, tmp_path / "m.pkl", lambda o, p: p.write_bytes(pickle.dumps(o)))
    with pytest.raises(ModelError, match=r"Define Clip in an importable module.*--trust-model"):
        load_model(path, trust_model=True)
    data = tmp_path / "d.csv"
    data.write_text("x0,x1\n0.1,0.2\n")
    code, _, err = cli("run", path, data, "--trust-model", "--out", tmp_path / "o")
    assert code == 2 and "__main__" in err and "internal error" not in err


def test_torch_module_of_main_under_trust_model_is_exit_2(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def forward(self, x):
            return x

    Net.__qualname__ = Net.__name__ = "Clip"
    path = tmp_path / "net.pt"
    (tmp_path / "net.spec.json").write_text("{}")
    _as_if_defined_in_main_torch(Net(), path, torch)
    with pytest.raises(ModelError, match=r"Define Clip in an importable module"):
        load_model(path, trust_model=True)


def _as_if_defined_in_main_torch(module, path, torch):
    main = sys.modules["__main__"]
    cls = type(module)
    cls.__module__ = "__main__"
    main.Clip = cls
    try:
        torch.save(module, path)
    finally:
        del main.Clip
