"""The failure paths of ``audit/loading/_model.py`` that issue #28's mutation run found untested: every way a
load can fail maps to one clear error class and message, joblib containers are bounded and named, refused
names are reported once each, and callable parameters are matched by what they are."""

from __future__ import annotations

import functools
import io
import pickle
import zlib
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_array

from audit.errors import ModelError, UnsafeModelError
from audit.loading import _model, load_model
from audit.loading._model import _check_callable_params, _run_load, _run_read1
from audit.loading._unpickler import BoundedReader, Refusal

PATH = Path("m.pkl")


def _logreg():
    return LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])


# --- joblib containers ------------------------------------------------------------------------------

def test_a_joblib_file_from_before_joblib_0_10_is_refused_by_name(tmp_path):
    path = tmp_path / "m.joblib"
    path.write_bytes(b"ZF0x00000010" + zlib.compress(pickle.dumps(_logreg())))
    with pytest.raises(UnsafeModelError, match=r"a joblib file from before joblib 0\.10 \(ZF format\)"):
        load_model(path)


def test_a_joblib_compression_that_cannot_be_read_here_is_refused_by_name(tmp_path):
    path = tmp_path / "m.joblib"
    path.write_bytes(b"\x04\x22\x4d\x18" + b"\x00" * 64)  # LZ4's frame magic; lz4 is not installed
    with pytest.raises(UnsafeModelError, match=r"a joblib file compressed with 'lz4', which cannot be read here"):
        load_model(path)


def test_a_compressed_joblib_stream_is_bounded_after_decompression(tmp_path):
    """A few kilobytes of zlib that expand to megabytes: the byte budget counts the decompressed stream."""
    model = LinearRegression()
    model.coef_, model.intercept_, model.n_features_in_ = np.zeros(400_000), 0.0, 400_000
    path = tmp_path / "m.joblib"
    joblib.dump(model, path, compress=3)
    assert path.stat().st_size < 100_000
    with pytest.raises(UnsafeModelError):
        load_model(path, max_model_bytes=1_000_000)
    assert load_model(path).obj.coef_.shape == (400_000,)  # the default budget admits it: the bound decided


def test_a_damaged_compressed_tail_counts_as_trailing_data():
    class Tail(io.RawIOBase):
        def read(self, n=-1):
            raise zlib.error("invalid stored block lengths")

    assert _run_read1(BoundedReader(Tail(), 100)) == b"?"


# --- plain pickles ----------------------------------------------------------------------------------

def test_a_pickle_with_an_unknown_opcode_is_not_well_formed(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(b"\x80\x04\xff\xff\xff.")
    with pytest.raises(UnsafeModelError, match="not a well-formed pickle"):
        load_model(path)


def test_a_refused_name_used_twice_is_reported_once_in_a_plain_list(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(b"(cos\nsystem\ncos\nsystem\ncposix\nsystem\nt.")
    with pytest.raises(UnsafeModelError) as err:
        load_model(path)
    assert "references 2 name(s) outside the allow-list: os.system, posix.system. Nothing was" in str(err.value)


@pytest.mark.parametrize("raised,reason", [
    (Refusal("a global off the list"), "refused: a global off the list"),
    (RecursionError("deep"), "refused: nested too deeply"),
    (MemoryError(), "refused: it asks for more memory than is available"),
    (ValueError("bad\n  state " + "x" * 300), "ValueError: bad state " + "x" * 190 + "..."),
])
def test_each_way_an_unpickler_fails_is_a_reason_not_an_exception(raised, reason):
    class Failing:
        def load(self):
            raise raised

    assert _run_load(Failing()) == (None, reason)


# --- errors raised around the load --------------------------------------------------------------------

@pytest.mark.parametrize("raised,kind,message", [
    (Refusal("a partial of eval"), UnsafeModelError, "refused: a partial of eval."),
    (RecursionError(), UnsafeModelError, "refused: RecursionError while loading; the file is nested too deeply"),
    (MemoryError(), UnsafeModelError, "refused: MemoryError while loading"),
    (ModuleNotFoundError("No module named 'mypkg'", name="mypkg"), ModelError, "refers to module mypkg"),
    (OSError("coef_\n" + "y" * 400), ModelError, "could not be loaded (OSError: coef_ " + "y" * 190),
])
def test_every_failure_around_a_load_is_one_audit_error(monkeypatch, tmp_path, raised, kind, message):
    def failing(*args, **kwargs):
        raise raised

    monkeypatch.setattr(_model, "_load_sklearn_like", failing)
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_logreg()))
    with pytest.raises(kind) as err:
        load_model(path)
    assert type(err.value) is kind and message in str(err.value) and "\n" not in str(err.value)


# --- callable parameters ----------------------------------------------------------------------------

class _Callable:
    """A callable object: matched by its class, whatever name it carries."""

    __name__ = 7

    def __call__(self, X):
        return X


def test_a_partial_of_an_admitted_function_passes_and_of_another_is_named():
    _check_callable_params(FunctionTransformer(func=functools.partial(check_array, ensure_2d=True)), PATH)
    with pytest.raises(UnsafeModelError, match=r"outside the allow-list: 'func=functools\.partial\(print\)'\."):
        _check_callable_params(FunctionTransformer(func=functools.partial(print)), PATH)


def test_a_callable_object_is_matched_by_its_class():
    with pytest.raises(UnsafeModelError) as err:
        _check_callable_params(FunctionTransformer(func=_Callable()), PATH)
    assert f"'func={__name__}._Callable'." in str(err.value)


def test_every_refused_callable_is_named_in_one_list():
    model = FunctionTransformer(func=functools.partial(print), inverse_func=_Callable())
    with pytest.raises(UnsafeModelError) as err:
        _check_callable_params(model, PATH)
    assert f"'func=functools.partial(print)', 'inverse_func={__name__}._Callable'." in str(err.value)


def test_damaged_parameters_are_reported_on_one_short_line():
    class Damaged:
        def get_params(self, deep=True):
            raise AttributeError("coef_\n" + "z" * 400)

    with pytest.raises(ModelError) as err:
        _check_callable_params(Damaged(), PATH)
    assert "(AttributeError: coef_ " + "z" * 194 + "...)" in str(err.value)


# --- kinds of model ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make,kind", [
    (lambda X: __import__("sklearn.cluster", fromlist=["KMeans"]).KMeans(2, n_init=1, random_state=0).fit(X),
     "a clusterer"),
    (lambda X: __import__("sklearn.ensemble", fromlist=["IsolationForest"]).IsolationForest(
        n_estimators=5, random_state=0).fit(X), "an outlier detector"),
])
def test_models_whose_predict_is_not_a_score_are_refused_by_kind(tmp_path, make, kind):
    X = np.random.default_rng(0).normal(size=(40, 2))
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(make(X)))
    with pytest.raises(ModelError, match=f"{kind}; the audit explains classifiers and regressors"):
        load_model(path)
    path.write_bytes(pickle.dumps(_logreg()))
    assert load_model(path).obj.predict([[3.0]]).tolist() == [1]  # a classifier loads


def test_a_partial_carrying_attributes_is_named():
    carrying = functools.partial(check_array, ensure_2d=True)
    carrying.note = "set after construction"
    with pytest.raises(UnsafeModelError, match=r"'func=functools\.partial\(check_array\)'"):
        _check_callable_params(FunctionTransformer(func=carrying), PATH)
