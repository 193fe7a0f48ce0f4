"""Generated from the installed scikit-learn: every classifier and regressor that ``all_estimators()``
returns and that fits with default parameters on a small mixed-type frame, bare and behind a
ColumnTransformer/OneHotEncoder front, is saved with joblib and skops, loaded without
``--trust-model`` and predicts exactly as before.

Nothing is listed by hand: a new scikit-learn version brings its new estimators into this test. A
meta-estimator whose constructor requires ``estimator`` or ``estimators`` (stacking, voting,
one-vs-rest, threshold tuning, ...) gets a small tree (and a linear model) of its kind; every other
parameter keeps its default. An estimator the library itself cannot fit on this frame (a
multi-output-only model, a 1-D-only model) is skipped with the library's reason;
the skipped list is printed at the end of the run (``tests/loading/conftest.py``) and must stay
small. A loader refusal is never a skip: it fails the test.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.utils import all_estimators

from audit.errors import UnsafeModelError
from audit.loading import load_model
from audit.loading._allowlist import _estimator_classes, allowed_pairs

RNG = np.random.default_rng(0)
N = 60
NUM = np.abs(RNG.normal(size=(N, 3)))  # non-negative: count models (MultinomialNB, ...) accept it
CAT = RNG.choice(["a", "b", "c"], size=N)
FRAME = pd.DataFrame({"x0": NUM[:, 0], "x1": NUM[:, 1], "x2": NUM[:, 2], "grade": pd.Series(CAT, dtype=object)})
Y = {"classifier": np.where(NUM[:, 0] + (CAT == "a") > 1.0, 1, 0),
     "regressor": 1.0 + NUM[:, 0] + 0.5 * (CAT == "b")}  # positive: Poisson, Gamma and Tweedie accept it
SKIPPED: dict[str, str] = {}  # "Name (front)" -> reason; printed by conftest.py
MAX_SKIPPED = 12  # distinct estimators

@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """OpenMP models (HistGradientBoosting) spin for seconds on a shared, busy machine; one thread is
    plenty for 60 rows."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


CASES = [(kind, name, cls) for kind in ("classifier", "regressor")
         for name, cls in sorted(all_estimators(type_filter=kind), key=lambda p: p[0])]


def _front(estimator):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["grade"])],
                            remainder="passthrough")
    return make_pipeline(pre, estimator)


def _inner(kind: str) -> dict[str, object]:
    """What a meta-estimator is given for its required ``estimator``/``estimators`` argument."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    tree = (DecisionTreeClassifier if kind == "classifier" else DecisionTreeRegressor)(max_depth=2, random_state=0)
    linear = LogisticRegression() if kind == "classifier" else Ridge()
    return {"estimator": tree, "estimators": [("tree", tree), ("linear", linear)]}


def _fitted(kind: str, cls: type, front: bool):
    """The fitted model, or the reason scikit-learn cannot fit it with defaults here.

    Tried in order: as constructed; with the small tree as ``estimator`` where the default is None
    (SelfTrainingClassifier); with a two-column target (multi-output-only models).
    """
    inner = _inner(kind)
    required = [p.name for p in inspect.signature(cls).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(name not in inner for name in required):
        return None, f"needs constructor arguments {required}"
    X = FRAME if front else NUM
    y = Y[kind]
    first = None
    for variant in ("default", "estimator", "two targets"):
        est = cls(**{name: inner[name] for name in required})
        params = est.get_params(deep=False)
        if variant == "estimator":
            if params.get("estimator", "") is not None:
                continue
            est.set_params(estimator=inner["estimator"])
        if "random_state" in params:
            est.set_params(random_state=0)
        target = np.c_[y, y[::-1]] if variant == "two targets" else y
        model = _front(est) if front else est
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return model.fit(X, target), None
            except Exception as exc:  # noqa: BLE001 - the library's own refusal is the skip reason
                first = first or f"{type(exc).__name__}: {' '.join(str(exc).split())[:80]}"
    return None, first


def _refused_functions_only(exc: UnsafeModelError) -> list[str] | None:
    """The refused names when every one is a function (policy: only validation functions are
    admitted, e.g. the metric inside TunedThresholdClassifierCV's scorer); None if any is a class."""
    import importlib

    text = str(exc)
    if "outside the allow-list: " not in text:
        return None
    names = text.split("outside the allow-list: ")[1].split(". ")[0].replace(" ...", "").split(", ")
    for ref in names:
        module, _, name = ref.strip("'").rpartition(".")
        obj = getattr(importlib.import_module(module), name, None)
        if obj is None or isinstance(obj, type) or not callable(obj):
            return None
    return names


def _outputs(model, X) -> dict[str, np.ndarray]:
    out = {"predict": np.asarray(model.predict(X))}
    for method in ("predict_proba", "decision_function"):
        if hasattr(model, method):
            try:
                out[method] = np.asarray(getattr(model, method)(X))
            except Exception:  # noqa: BLE001 - e.g. predict_proba of SVC(probability=False)
                pass
    return out


def test_the_generated_estimator_set_is_all_estimators():
    """The loader's derivation finds exactly ``all_estimators()`` (it walks modules from disk instead
    of importing test packages) and records each class where pickle finds it."""
    assert set(_estimator_classes()) == {cls for _n, cls in all_estimators()}
    pairs = allowed_pairs()
    for _name, cls in all_estimators():
        assert (cls.__module__, cls.__qualname__) in pairs


@pytest.mark.parametrize("front", [False, True], ids=["bare", "onehot-front"])
@pytest.mark.parametrize("kind,name,cls", CASES, ids=[n for _k, n, _c in CASES])
def test_every_estimator_round_trips_without_trust(tmp_path: Path, kind, name, cls, front):
    model, why = _fitted(kind, cls, front)
    label = f"{name} ({'onehot front' if front else 'bare'})"
    if model is None:
        SKIPPED[label] = why
        pytest.skip(why)
    X = FRAME.iloc[:15] if front else NUM[:15]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _outputs(model, X)
        for suffix in (".joblib", ".skops"):
            path = tmp_path / f"m{suffix}"
            if suffix == ".skops":
                sio.dump(model, path)
            else:
                joblib.dump(model, path)
            try:
                loaded = load_model(path)
            except UnsafeModelError as exc:
                functions = _refused_functions_only(exc)
                if functions is None:
                    raise
                SKIPPED[label] = f"holds function(s) {', '.join(functions)}: refused by policy (only validation functions)"
                pytest.skip(SKIPPED[label])
            assert not loaded.trusted and type(loaded.obj) is type(model)
            got = _outputs(loaded.obj, X)
            assert got.keys() == expected.keys(), f"{label} {suffix}"
            for method, values in expected.items():
                np.testing.assert_array_equal(got[method], values, err_msg=f"{label} {suffix} {method}")


def test_few_estimators_are_skipped():
    """Runs after the generated cases (same module, defined last): the skipped list stays small and
    every entry names the library's reason."""
    if not SKIPPED:
        pytest.skip("the generated cases did not run in this session")
    names = {label.split(" (")[0] for label in SKIPPED}
    assert len(names) <= MAX_SKIPPED, "\n".join(f"{k}: {v}" for k, v in sorted(SKIPPED.items()))
    assert all(reason for reason in SKIPPED.values())
