"""The restricted loader: refuses code, fails closed, reports every refused name."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from audit.errors import InputError, UnsafeModelError
from audit.loading import load_model
from audit.loading._allowlist import is_allowed


class _RunsShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _small_model() -> LogisticRegression:
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


def test_os_system_pickle_is_refused_and_never_runs(tmp_path, cli, credit):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_RunsShell(marker)))
    code, _out, err = cli("run", evil, tmp_path / "whatever.csv", "--out", tmp_path / "out", "--quiet")
    assert code == 2
    assert "posix.system" in err or "os.system" in err
    assert "--trust-model" in err
    assert not marker.exists(), "the pickle's command ran"
    assert not (tmp_path / "out").exists()


def test_every_refused_global_is_reported(tmp_path):
    payload = {"a": os.system, "b": eval, "c": io.open}
    path = tmp_path / "many.pkl"
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(UnsafeModelError) as info:
        load_model(path)
    msg = str(info.value)
    for name in ("system", "builtins.eval", "io.open"):
        assert name in msg


def test_joblib_file_goes_through_restricted_unpickler(tmp_path):
    marker = tmp_path / "pwned-joblib"
    path = tmp_path / "evil.joblib"
    joblib.dump({"x": np.arange(3), "evil": _RunsShell(marker)}, path)
    with pytest.raises(UnsafeModelError):
        load_model(path)
    assert not marker.exists()


def test_compressed_joblib_model_loads(tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(_small_model(), path, compress=3)
    loaded = load_model(path)
    assert loaded.format == "joblib" and not loaded.trusted
    np.testing.assert_allclose(loaded.obj.predict_proba([[1.5]]), _small_model().predict_proba([[1.5]]))


def test_trailing_data_is_refused(tmp_path):
    path = tmp_path / "trail.pkl"
    path.write_bytes(pickle.dumps(_small_model()) + b"extra")
    with pytest.raises(UnsafeModelError, match="trailing"):
        load_model(path)


def test_garbage_is_refused_not_crashed(tmp_path):
    path = tmp_path / "junk.pkl"
    path.write_bytes(b"\x80\x05\xffnot a pickle")
    with pytest.raises(UnsafeModelError):
        load_model(path)


@pytest.mark.parametrize("module,name", [
    ("numpy.testing._private.utils", "runstring"), ("builtins", "getattr"), ("functools", "partial"),
    ("operator", "attrgetter"), ("importlib", "import_module"), ("pickle", "loads"), ("numpy", "load"),
    ("sklearn.tree._tree", "Tree.__reduce__"), ("builtins", "__import__"), ("numpy", "testing"),
])
def test_dangerous_names_are_not_allowed(module, name):
    assert not is_allowed(module, name)


def test_sample_pipelines_load_with_restricted_pickle(tmp_path, credit_logreg, credit_gbm):
    from tests.conftest import save_pickle

    for model in (credit_logreg, credit_gbm):
        loaded = load_model(save_pickle(model, tmp_path / "m.pkl"))
        assert loaded.how.startswith("restricted")
        assert type(loaded.obj).__name__ == "Pipeline"


def test_trust_model_allows_other_globals(tmp_path):
    path = tmp_path / "ft.pkl"
    model = _small_model()
    path.write_bytes(pickle.dumps({"model": model, "fn": np.linalg.norm}))
    with pytest.raises(UnsafeModelError):
        load_model(path)
    with pytest.raises(Exception, match="predict"):
        load_model(path, trust_model=True)  # loads (trusted) but a dict is not a model


def test_callable_parameter_outside_allow_list_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline

    from audit.loading._model import _check_callable_params

    X, y = np.abs(np.random.default_rng(0).normal(size=(20, 2))), [0, 1] * 10
    bad = make_pipeline(FunctionTransformer(func=np.linalg.norm), LogisticRegression())
    with pytest.raises(UnsafeModelError, match="norm"):
        _check_callable_params(bad, Path("m.pkl"))
    good = make_pipeline(FunctionTransformer(func=np.log1p), LogisticRegression()).fit(X, y)
    path = tmp_path / "good.pkl"
    path.write_bytes(pickle.dumps(good))
    assert load_model(path).how.startswith("restricted")


def test_skops_model_loads_with_explicit_trusted_list(tmp_path, credit_logreg):
    path = tmp_path / "m.skops"
    sio.dump(credit_logreg, path)
    loaded = load_model(path)
    assert loaded.format == "skops" and "allow-list" in loaded.how


def test_sha256_is_of_the_loaded_bytes(tmp_path):
    import hashlib

    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_small_model()))
    assert load_model(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name,content,needle", [
    ("m.csv", b"x", "unsupported file type"),
    ("m.txt", b"x", "content is not"),  # .txt is LightGBM's text format: told by content
    ("empty.pkl", b"", "empty"),
])
def test_bad_model_files(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=needle):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "nope.pkl")
