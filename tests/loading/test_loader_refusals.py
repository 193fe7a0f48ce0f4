"""Loader refusals that had no test: a ``.skops`` file naming a type off the allow-list, trailing data
after a joblib stream, the NEVER list, and the small decisions ``_model.py`` takes on the way.

Each test states the defect it catches; expectations come from DESIGN.md's security model.
"""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from audit.errors import InputError, ModelError, UnsafeModelError
from audit.loading import _allowlist, load_model
from audit.loading._allowlist import NEVER, allowed_pairs, allowed_type_names, is_allowed
from audit.loading._base import short as _short
from audit.loading._model import _check_callable_params


def _model():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LogisticRegression().fit(X, [0, 0, 1, 1])


# --- skops -----------------------------------------------------------------------------------------

def test_a_skops_file_with_a_type_off_the_allow_list_is_refused_by_name(tmp_path):
    """skops itself trusts many numpy functions by default; the loader must not. Fails if the schema walk
    is skipped or ``trusted=True`` is used."""
    model = make_pipeline(FunctionTransformer(func=np.tanh), LogisticRegression())
    model.fit(np.abs(np.random.default_rng(0).normal(size=(10, 2))), [0, 1] * 5)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    with pytest.raises(UnsafeModelError, match="tanh"):
        load_model(path)


def test_a_skops_file_that_is_not_a_zip_is_bad_input(tmp_path):
    path = tmp_path / "m.skops"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(InputError, match="not a readable skops file"):
        load_model(path)


# --- trailing data ---------------------------------------------------------------------------------

def test_trailing_data_after_a_joblib_stream_is_refused(tmp_path):
    """DESIGN: 'trailing data ... refuse'. Fails if the joblib branch stops checking what follows STOP."""
    path = tmp_path / "m.joblib"
    joblib.dump(_model(), path)
    assert load_model(path).format == "joblib"  # the clean file loads
    path.write_bytes(path.read_bytes() + b"\x00hidden")
    with pytest.raises(UnsafeModelError, match="trailing data"):
        load_model(path)


def test_trailing_data_after_a_compressed_joblib_stream_is_refused(tmp_path):
    path = tmp_path / "m.joblib"
    joblib.dump(_model(), path, compress=3)
    data = path.read_bytes()
    inner = zlib.decompress(data)
    path.write_bytes(zlib.compress(inner + b"extra payload"))
    with pytest.raises(UnsafeModelError, match="trailing"):
        load_model(path)


def test_plain_pickle_trailing_data_names_the_byte_count(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_model()) + b"12345")
    with pytest.raises(UnsafeModelError, match="5 bytes of trailing data"):
        load_model(path)


def test_a_joblib_stream_saved_as_pkl_is_still_recognised_as_joblib(tmp_path):
    """Detection by content, not only by suffix: fails if a compressed stream is parsed as a plain pickle."""
    path = tmp_path / "m.pkl"
    joblib.dump(_model(), path, compress=3)
    loaded = load_model(path)
    assert loaded.format == "joblib" and loaded.how == "restricted unpickler, exact allow-list"
    assert not loaded.trusted


# --- the NEVER list ----------------------------------------------------------------------------------

DESIGN_NEVER = {
    ("builtins", "getattr"), ("builtins", "eval"), ("builtins", "exec"), ("builtins", "open"),
    ("builtins", "__import__"), ("functools", "partial"), ("operator", "attrgetter"), ("operator", "methodcaller"),
    ("importlib", "import_module"), ("pkgutil", "resolve_name"), ("pickle", "loads"), ("joblib", "load"),
    ("numpy", "load"), ("torch", "load"),
}


def test_never_holds_every_name_design_md_forbids():
    """Deleting an entry (or the whole list) fails here."""
    assert DESIGN_NEVER <= NEVER


def test_never_wins_over_a_future_edit_of_the_allow_lists(monkeypatch):
    """If someone adds a forbidden pair to the allow-list, it is still refused. Fails if
    ``allowed_pairs`` stops subtracting NEVER."""
    monkeypatch.setattr(_allowlist, "_INTERNAL", _allowlist._INTERNAL + tuple(sorted(NEVER)))
    allowed_pairs.cache_clear()
    try:
        pairs = allowed_pairs()
        assert not (pairs & NEVER)
        for module, name in sorted(DESIGN_NEVER):
            assert not is_allowed(module, name)
        assert ("numpy", "ndarray") in pairs
    finally:
        allowed_pairs.cache_clear()


def test_a_never_name_in_a_pickle_is_refused_and_not_called(tmp_path):
    class Evil:
        def __reduce__(self):
            return (getattr, (0, "real"))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UnsafeModelError, match="builtins.getattr"):
        load_model(path)


def test_exact_membership_only():
    """No dotted names, no empty parts, exact (module, name); public classes resolved to where pickle
    records them."""
    assert is_allowed("sklearn.linear_model._logistic", "LogisticRegression")
    assert not is_allowed("sklearn.linear_model", "LogisticRegression")  # the public path is not what pickle writes
    assert not is_allowed("sklearn.tree._tree", "Tree.__reduce__")
    assert not is_allowed("", "Tree") and not is_allowed("numpy", "")
    names = allowed_type_names()
    assert names == sorted(names) and "sklearn.tree._tree.Tree" in names and "numpy.ndarray" in names
    assert not any(n in names for n in ("builtins.getattr", "functools.partial"))


def test_a_helper_name_missing_from_this_sklearn_is_skipped(monkeypatch):
    """A helper renamed or removed in another scikit-learn version is skipped, not an import error."""
    monkeypatch.setitem(_allowlist._HELPERS, "sklearn.calibration", ("_SigmoidCalibration", "NoSuchHelper"))
    _allowlist._derived.cache_clear()
    allowed_pairs.cache_clear()
    try:
        assert ("sklearn.calibration", "_SigmoidCalibration") in allowed_pairs()
        assert not any(name == "NoSuchHelper" for _m, name in allowed_pairs())
    finally:
        _allowlist._derived.cache_clear()
        allowed_pairs.cache_clear()


# --- the rest of _model.py ---------------------------------------------------------------------------

def test_suffix_is_case_insensitive_and_unsupported_suffixes_list_the_supported(tmp_path):
    path = tmp_path / "M.PKL"
    path.write_bytes(pickle.dumps(_model()))
    assert load_model(path).format == "pickle"
    bad = tmp_path / "m.h5"
    bad.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported file type '\.h5'.*\.pkl.*\.skops.*\.pt"):
        load_model(bad)
    none = tmp_path / "model"
    none.write_bytes(b"x")
    with pytest.raises(InputError, match=r"'\(none\)'"):
        load_model(none)


def test_a_directory_is_bad_input(tmp_path):
    (tmp_path / "d.pkl").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        load_model(tmp_path / "d.pkl")


def test_an_object_without_predict_is_refused(tmp_path):
    path = tmp_path / "scaler.pkl"
    path.write_bytes(pickle.dumps(StandardScaler().fit(np.ones((3, 2)))))
    with pytest.raises(ModelError, match="no predict method"):
        load_model(path)


def test_trust_model_loads_joblib_and_pickle_and_says_so(tmp_path):
    p = tmp_path / "m.joblib"
    joblib.dump(_model(), p)
    loaded = load_model(p, trust_model=True)
    assert loaded.trusted and loaded.format == "joblib" and "--trust-model" in loaded.how
    q = tmp_path / "m.pickle"
    q.write_bytes(pickle.dumps(_model()))
    loaded = load_model(q, trust_model=True)
    assert loaded.trusted and loaded.format == "pickle"


def test_restricted_load_records_how_and_the_digest(tmp_path):
    import hashlib

    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_model()))
    loaded = load_model(path)
    assert (loaded.format, loaded.trusted, loaded.how) == ("pickle", False, "restricted unpickler, exact allow-list")
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and loaded.path == str(path)


def test_a_byte_budget_below_the_model_is_refused(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(make_pipeline(StandardScaler(), _model())))
    with pytest.raises(UnsafeModelError):
        load_model(path, max_model_bytes=64)


def test_callable_params_on_the_allow_list_pass_and_damaged_params_are_bad_input():
    _check_callable_params(make_pipeline(FunctionTransformer(func=np.log1p), LogisticRegression()), Path("m.pkl"))
    _check_callable_params(object(), Path("m.pkl"))  # nothing to check

    class Damaged:
        def get_params(self, deep=True):
            raise AttributeError("coef_")

    with pytest.raises(ModelError, match="damaged parameters"):
        _check_callable_params(Damaged(), Path("m.pkl"))


def test_short_cuts_long_messages_to_one_line():
    assert _short(ValueError("a\n  b")) == "a b"
    long = _short(ValueError("x" * 300))
    assert long == "x" * 200 + "..."
    assert _short(ValueError("y" * 200)) == "y" * 200


def test_deeply_nested_pickle_is_refused_not_crashed(tmp_path):
    data = b"\x80\x04" + b"]" * 100_000 + b"."
    path = tmp_path / "deep.pkl"
    path.write_bytes(data)
    with pytest.raises((UnsafeModelError, InputError, ModelError)):
        load_model(path)


def test_a_dotted_or_empty_name_is_refused_even_if_it_were_listed(monkeypatch):
    """The guard in ``is_allowed`` is defence in depth: a dotted name (an attribute path) or an empty
    part must be refused even if an edit put it on the list."""
    monkeypatch.setattr(_allowlist, "_INTERNAL", _allowlist._INTERNAL + (("sklearn.tree._tree", "Tree.__reduce__"),
                                                                        ("", "Tree"), ("numpy", "")))
    allowed_pairs.cache_clear()
    try:
        assert ("sklearn.tree._tree", "Tree.__reduce__") in allowed_pairs()
        assert not is_allowed("sklearn.tree._tree", "Tree.__reduce__")
        assert not is_allowed("", "Tree") and not is_allowed("numpy", "")
    finally:
        allowed_pairs.cache_clear()


def test_untrusted_loads_are_validated_and_trusted_ones_are_not(tmp_path):
    """An unfitted estimator is refused after a restricted load (fails if validation is skipped for
    untrusted files); with --trust-model the user vouches for the object and it is returned as is."""
    path = tmp_path / "unfitted.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(ModelError, match="not fitted"):
        load_model(path)
    assert load_model(path, trust_model=True).trusted


def test_loaded_model_is_frozen(tmp_path):
    import dataclasses

    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_model()))
    loaded = load_model(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.trusted = True


def test_a_regressor_with_predict_only_loads_and_skops_loads_are_not_marked_trusted(tmp_path):
    from sklearn.linear_model import LinearRegression

    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])))
    assert not hasattr(load_model(path).obj, "predict_proba")
    sk = tmp_path / "m.skops"
    sio.dump(_model(), sk)
    loaded = load_model(sk)
    assert loaded.format == "skops" and loaded.trusted is False


def test_a_callable_is_matched_by_its_own_module_not_by_its_name():
    """``math.sqrt`` is not ``numpy.sqrt``: fails if the module is ignored when matching the allow-list."""
    import math

    with pytest.raises(UnsafeModelError, match=r"math\.sqrt"):
        _check_callable_params(make_pipeline(FunctionTransformer(func=math.sqrt), LogisticRegression()),
                               Path("m.pkl"))


@pytest.mark.parametrize("count", [10, 11])
def test_refused_names_are_listed_up_to_ten(tmp_path, count):
    import math

    funcs = [math.sin, math.cos, math.tan, math.asin, math.acos, math.atan, math.sinh, math.cosh, math.tanh,
             math.floor, math.ceil][:count]
    path = tmp_path / "many.pkl"
    path.write_bytes(pickle.dumps(funcs))
    with pytest.raises(UnsafeModelError) as info:
        load_model(path)
    text = str(info.value)
    assert f"references {count} name(s) outside the allow-list" in text
    listed = text.split("allow-list: ")[1].split(". Nothing")[0]
    assert listed.count("math.") == 10 and listed.endswith(" ...") is (count > 10)
