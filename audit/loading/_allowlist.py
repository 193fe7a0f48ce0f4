"""The exact (module, qualified name) pairs a model pickle may reference.

What is admitted is derived from the installed libraries when the first model is loaded, never
hand-listed per estimator, and never from anything a file names:

1. **Estimators**: every class :func:`sklearn.utils.all_estimators` returns for the installed
   scikit-learn (classifiers, regressors, transformers, clusterers, meta-estimators, pipelines),
   each recorded as the ``(__module__, __qualname__)`` pair pickle writes
   (``sklearn.linear_model.LogisticRegression`` is pickled as
   ``sklearn.linear_model._logistic.LogisticRegression``).
2. **Helpers** fitted estimators hold (:data:`_HELPERS`): column selectors, calibrators, the
   HistGradientBoosting bin mapper and predictors, the compiled ``Tree``, KD/Ball trees and their
   metrics, optimisers, scipy's ``BSpline`` (``SplineTransformer``), plus every subclass that
   scikit-learn defines of its loss, link and Gaussian-process kernel bases (:data:`_HELPER_FAMILIES`).
3. **Reference-only functions** (:data:`_REFERENCE_FUNCTIONS`): scikit-learn's own validation
   functions, which estimators keep inside a ``functools.partial`` (HistGradientBoosting with
   ``categorical_features="from_dtype"`` holds ``partial(check_array, ...)``), and the array-API
   ``asarray`` that scipy's ``BSpline`` keeps (read from a BSpline built here). They may be held;
   the unpickler never calls them while loading, and ``functools.partial`` is admitted only around
   them with plain-data arguments (see ``audit.loading._unpickler``).
4. **Pickle mechanics** (:data:`_INTERNAL`): numpy arrays, dtypes, scalars and random states,
   a few builtins, and the exact constructor pairs compiled classes pickle with.

Every derived pair must come from a module under ``sklearn.``, ``numpy.`` or ``scipy.``, name a real
class (functions only from the reference-only list), be found again at that exact path, and carry
no dunder or dotted name; anything else is dropped. There are no wildcards: a pair is allowed only
if it is in the resulting set. A few constructor helpers have dunder names
(``numpy.random._pickle.__randomstate_ctor``, Cython's ``__pyx_unpickle_*``); they are admitted as
the exact pairs listed in :data:`_INTERNAL` only. :data:`NEVER` is subtracted last, whatever the
lists above say.

Admission is not trust: every object of a loaded model is then validated structurally
(``audit.loading._validate``) before anything predicts with it.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
import warnings
from functools import lru_cache
from typing import Any

__all__ = ["NEVER", "allowed_pairs", "allowed_type_names", "is_allowed", "reference_functions", "describe"]

_ROOTS = ("sklearn.", "numpy.", "scipy.")

# Helper classes fitted estimators hold, by an importable path; recorded where pickle finds them.
_HELPERS: dict[str, tuple[str, ...]] = {
    "sklearn.compose": ("make_column_selector",),
    "sklearn.compose._column_transformer": ("_RemainderColsList",),
    "sklearn.calibration": ("_CalibratedClassifier", "_SigmoidCalibration", "_TemperatureScaling"),
    "sklearn.ensemble._hist_gradient_boosting.binning": ("_BinMapper",),
    "sklearn.ensemble._hist_gradient_boosting.predictor": ("TreePredictor",),
    "sklearn.tree._tree": ("Tree",),
    "sklearn.neural_network._stochastic_optimizers": ("AdamOptimizer", "SGDOptimizer"),
    "sklearn.neighbors": ("KDTree", "BallTree"),
    "sklearn.metrics._dist_metrics": ("EuclideanDistance64", "ManhattanDistance64", "MinkowskiDistance64",
                                      "ChebyshevDistance64"),
    "sklearn.utils": ("Bunch",),
    "sklearn.multiclass": ("_ConstantPredictor",),
    "sklearn.gaussian_process._gpc": ("_BinaryGaussianProcessClassifierLaplace",),
    "sklearn._loss.link": ("Interval",),
    "sklearn.utils._metadata_requests": ("MetadataRequest", "MethodMetadataRequest", "MetadataRouter",
                                         "MethodMapping", "MethodPair", "RouterMappingPair"),
    # Scorer objects (TunedThresholdClassifierCV keeps one); the metric function inside is not admitted.
    "sklearn.metrics._scorer": ("_Scorer", "_CurveScorer"),
    "scipy.interpolate": ("BSpline",),
}

# Every subclass of these bases that the listed modules define (losses, links and kernels estimators
# keep); the modules are imported first, so the result does not depend on what else was imported.
_HELPER_FAMILIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("sklearn._loss.loss", "BaseLoss"): ("sklearn._loss.loss",),
    ("sklearn._loss.link", "BaseLink"): ("sklearn._loss.link",),
    ("sklearn._loss._loss", "CyLossFunction"): ("sklearn._loss._loss", "sklearn.linear_model._sgd_fast"),
    ("sklearn.gaussian_process.kernels", "Kernel"): ("sklearn.gaussian_process.kernels",),
}

# Functions that may be held (inside a functools.partial) but are never called while loading.
_REFERENCE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "sklearn.utils.validation": ("check_array",),
}

# Pickle mechanics, as pickle records them.
_INTERNAL: tuple[tuple[str, str], ...] = (
    ("sklearn.neighbors._kd_tree", "newObj"),
    ("sklearn.neighbors._ball_tree", "newObj"),
    ("sklearn.metrics._dist_metrics", "newObj"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyHalfMultinomialLoss"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyPinballLoss"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyHuberLoss"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("numpy.random.mtrand", "RandomState"),
    ("numpy.random._generator", "Generator"),
    ("builtins", "slice"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "bytearray"),
    ("builtins", "object"),
    ("copyreg", "_reconstructor"),
    ("collections", "OrderedDict"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
) + tuple(
    ("numpy", t) for t in (
        "float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32",
        "uint16", "uint8", "bool_", "str_", "object_",
    )
) + tuple(
    # Element-wise functions a FunctionTransformer may reference by name.
    ("numpy", f) for f in ("log1p", "expm1", "log", "exp", "sqrt", "square", "abs", "arcsinh")
)

# Names that are never admitted, whatever a future edit of the lists above says. functools.partial is
# here too: the unpickler admits it only in the checked form described in the module docstring.
NEVER: frozenset[tuple[str, str]] = frozenset({
    ("builtins", n) for n in ("eval", "exec", "compile", "getattr", "setattr", "__import__", "open",
                              "globals", "locals", "vars", "input", "breakpoint")
} | {
    ("functools", "partial"), ("functools", "reduce"), ("operator", "attrgetter"),
    ("operator", "methodcaller"), ("operator", "itemgetter"), ("importlib", "import_module"),
    ("pkgutil", "resolve_name"), ("pickle", "loads"), ("pickle", "load"), ("joblib", "load"),
    ("numpy", "load"), ("torch", "load"), ("os", "system"), ("posix", "system"), ("subprocess", "Popen"),
    ("numpy.testing._private.utils", "runstring"), ("numpy._core._ufunc_config", "_ufunc_reconstruct"),
    ("sklearn.metrics._dist_metrics", "PyFuncDistance64"), ("sklearn.metrics._dist_metrics", "PyFuncDistance32"),
})


def _pickled_as(obj: Any, *, function: bool = False) -> tuple[str, str] | None:
    """The pair pickle records for ``obj``, or None when it may not be admitted by derivation.

    The module must be under sklearn/numpy/scipy with no dunder part, the name a plain identifier
    (no dots, no leading double underscore), the object a class (or, for reference-only entries, a
    function), and the module must give back this very object under that name.
    """
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(name, str):
        return None
    if not module.startswith(_ROOTS) or any(p.startswith("__") for p in module.split(".")):
        return None
    if not name.isidentifier() or name.startswith("__"):
        return None
    kinds = (types.FunctionType, types.BuiltinFunctionType) if function else (type,)
    if not isinstance(obj, kinds) or getattr(sys.modules.get(module), name, None) is not obj:
        return None
    return module, name


def _named(table: dict[str, tuple[str, ...]]) -> list[Any]:
    """The objects a table names (names missing from this version are skipped)."""
    out = []
    for module_name, names in table.items():
        module = importlib.import_module(module_name)
        out.extend(obj for obj in (getattr(module, n, None) for n in names) if obj is not None)
    return out


def _subclasses(base: type) -> list[type]:
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


def _walk_public_modules(path: str, prefix: str) -> list[str]:
    """Public scikit-learn module names under ``path``, found on disk (nothing imported to find them)."""
    import pkgutil

    from sklearn.utils.discovery import _MODULE_TO_IGNORE

    found, todo = [], [(path, prefix)]
    while todo:
        folder, pre = todo.pop()
        for info in pkgutil.iter_modules([folder]):
            name = pre + info.name
            if any(part in _MODULE_TO_IGNORE for part in name.split(".")) or "._" in name:
                continue
            found.append(name)
            if info.ispkg:
                todo.append((os.path.join(folder, info.name), name + "."))
    return sorted(found)


def _estimator_classes() -> list[type]:
    """The classes ``sklearn.utils.all_estimators()`` returns, found the same way.

    ``all_estimators`` itself imports every package on its walk, test packages included, and these
    pull in optional libraries (torch through the array-API test helpers): seconds and memory a load
    does not need. Here the public modules are listed from disk with the same exclusions, imported,
    and their public, concrete ``BaseEstimator`` subclasses kept; a test checks the result equals
    ``all_estimators()``.
    """
    import inspect

    import sklearn
    from sklearn.base import BaseEstimator

    classes: set[type] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module_name in _walk_public_modules(os.path.dirname(sklearn.__file__), "sklearn."):
            module = importlib.import_module(module_name)
            classes.update(c for n, c in inspect.getmembers(module, inspect.isclass)
                           if not n.startswith("_") and n != "BaseEstimator" and issubclass(c, BaseEstimator)
                           and not getattr(c, "__abstractmethods__", None))
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def _bspline_asarray() -> Any:
    """The array-API ``asarray`` scipy's BSpline keeps for numpy inputs (read from one built here)."""
    import numpy as np
    from scipy.interpolate import BSpline

    return getattr(BSpline(np.array([0.0, 1.0]), np.array([1.0]), 0), "_asarray", None)


@lru_cache(maxsize=1)
def _derived() -> dict[str, frozenset[tuple[str, str]]]:
    """The derived pairs by source (computed once per process)."""
    helpers = _named(_HELPERS)
    for (base_module, base_name), modules in _HELPER_FAMILIES.items():
        for module in modules:
            importlib.import_module(module)
        base = getattr(importlib.import_module(base_module), base_name, None)
        if isinstance(base, type):
            helpers += [c for c in _subclasses(base) if c.__module__ in modules]
    functions = _named(_REFERENCE_FUNCTIONS)
    alias = _bspline_asarray()
    if alias is not None:
        functions.append(alias)

    def pairs(objs: list[Any], *, function: bool = False) -> frozenset[tuple[str, str]]:
        return frozenset(p for p in (_pickled_as(o, function=function) for o in objs) if p is not None) - NEVER

    return {"estimators": pairs(_estimator_classes()), "helpers": pairs(helpers),
            "functions": pairs(functions, function=True)}


@lru_cache(maxsize=1)
def allowed_pairs() -> frozenset[tuple[str, str]]:
    """The exact pairs a safe load admits (derived once per process).

    >>> ("sklearn.tree._tree", "Tree") in allowed_pairs()
    True
    """
    derived = _derived()
    return frozenset((set(_INTERNAL) | derived["estimators"] | derived["helpers"] | derived["functions"]) - NEVER)


def reference_functions() -> frozenset[tuple[str, str]]:
    """Admitted functions that may be held (a partial's target) but never called while loading.

    >>> ("sklearn.utils.validation", "check_array") in reference_functions()
    True
    """
    return _derived()["functions"] & allowed_pairs()


def is_allowed(module: str, name: str) -> bool:
    """Exact membership, with no wildcard, no dotted or module lookups."""
    if not module or not name or "." in name:
        return False
    return (module, name) in allowed_pairs()


def allowed_type_names() -> list[str]:
    """The same allow-list as ``module.name`` strings, the form skops uses for trusted types."""
    return sorted(f"{m}.{n}" for m, n in allowed_pairs())


def describe() -> dict[str, int]:
    """How many pairs each source contributes (for documentation and ``--debug`` output).

    >>> describe()["estimators"] > 100
    True
    """
    derived = _derived()
    return {"estimators": len(derived["estimators"]), "helpers": len(derived["helpers"]),
            "functions": len(derived["functions"]), "internal": len(set(_INTERNAL) - NEVER)}
