"""How the allow-list is derived (issue #28's survivors in ``audit/loading/_allowlist.py``): the name rules of
``_pickled_as``, the subclass walk, the module walk, the helper families, the reference-only functions, the
never-list applied to every source, and the counts ``describe`` reports. Each test names the rule it pins."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
from scipy.interpolate import BSpline

from audit.loading import _allowlist as A
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def fresh_derivation(monkeypatch):
    """Every test derives afresh (the derivation is cached per process: a test that only read the cache would
    not run it), may patch the tables, and leaves the caches cleared for the next."""
    A._derived.cache_clear(), A.allowed_pairs.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    A._derived.cache_clear(), A.allowed_pairs.cache_clear()


def _planted(monkeypatch, module: types.ModuleType, name: str) -> type:
    """A class the module really holds under ``name``, with ``name`` as its qualified name."""
    cls = type("Planted", (), {"__module__": module.__name__})
    cls.__qualname__ = name
    monkeypatch.setattr(module, name, cls, raising=False)
    return cls


def test_a_class_a_scikit_learn_module_holds_under_its_own_name_is_derived(monkeypatch):
    import sklearn.base

    cls = _planted(monkeypatch, sklearn.base, "PlantedForTheTest")
    assert A._pickled_as(cls) == ("sklearn.base", "PlantedForTheTest")  # the control for the refusals below


@pytest.mark.parametrize("name", ["__planted", "Outer.Inner"], ids=["dunder", "dotted"])
def test_a_dunder_or_dotted_name_is_never_derived_even_where_the_module_holds_it(monkeypatch, name):
    import sklearn.base

    cls = _planted(monkeypatch, sklearn.base, name)
    assert getattr(sklearn.base, name) is cls  # the module does give it back under that name
    assert A._pickled_as(cls) is None


def test_a_dunder_part_in_the_module_path_is_never_derived(monkeypatch):
    module = types.ModuleType("sklearn.__planted")
    monkeypatch.setitem(sys.modules, "sklearn.__planted", module)
    cls = _planted(monkeypatch, module, "Planted")
    assert A._pickled_as(cls) is None


def test_a_module_or_name_that_is_not_a_string_is_refused_without_an_error():
    assert A._pickled_as(types.SimpleNamespace(__module__="sklearn.base", __qualname__=5)) is None
    assert A._pickled_as(types.SimpleNamespace(__module__=5, __qualname__="BaseEstimator")) is None


def test_the_subclass_walk_finds_every_descendant_once():
    class Base: ...
    class Left(Base): ...
    class Right(Base): ...
    class Both(Left, Right): ...  # reachable twice
    class Grandchild(Both): ...

    found = A._subclasses(Base)
    assert sorted(c.__name__ for c in found) == ["Both", "Grandchild", "Left", "Right"]
    assert len(found) == len(set(found))


def test_the_module_walk_descends_into_packages_and_lists_public_modules_sorted():
    import os

    import sklearn

    found = A._walk_public_modules(os.path.dirname(sklearn.__file__), "sklearn.")
    assert found == sorted(found)
    assert {"sklearn.ensemble", "sklearn.feature_extraction.text", "sklearn.linear_model"} <= set(found)
    assert not [m for m in found if "._" in m or ".tests" in m]


def test_the_estimator_classes_are_sorted_by_module_and_name():
    classes = A._estimator_classes()
    keys = [(c.__module__, c.__qualname__) for c in classes]
    assert keys == sorted(keys) and len(keys) > 100


def test_helper_families_admit_subclasses_in_the_named_modules_only():
    from sklearn._loss.loss import BaseLoss, HalfBinomialLoss
    from sklearn.gaussian_process.kernels import RBF

    helpers = A._derived()["helpers"]
    assert ("sklearn.linear_model._sgd_fast", "Hinge") in helpers  # CyLossFunction's family, a second module
    assert ("sklearn._loss.loss", "HalfBinomialLoss") in helpers and issubclass(HalfBinomialLoss, BaseLoss)
    assert ("sklearn.gaussian_process.kernels", "RBF") in helpers and RBF.__module__ == "sklearn.gaussian_process.kernels"


def test_a_fresh_interpreter_derives_the_helper_families_without_other_imports():
    """In a new process that imported nothing else, the SGD losses (defined in ``sklearn.linear_model._sgd_fast``)
    are admitted. The derivation imports each family's modules itself, but with this scikit-learn the helpers'
    own modules already import them, so this test does not tell the two apart (the mutation run left that loop's
    deletion alive: bench/README.md)."""
    code = ("import json, sys\nfrom audit.loading._allowlist import _derived\n"
            "before = 'sklearn.linear_model._sgd_fast' in sys.modules\n"
            "print(json.dumps([before, ['sklearn.linear_model._sgd_fast', 'Hinge'] in "
            "[list(p) for p in _derived()['helpers']]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True]


def test_scipys_bspline_asarray_is_the_admitted_reference_function():
    alias = A._bspline_asarray()
    assert alias is BSpline(np.array([0.0, 1.0]), np.array([1.0]), 0)._asarray
    assert callable(alias) and A._pickled_as(alias, function=True) in A.reference_functions()
    assert ("sklearn.utils.validation", "check_array") in A.reference_functions()
    assert A._pickled_as(alias) is None  # a function is admitted only as a reference function


def test_no_bspline_alias_means_no_extra_reference_function(fresh_derivation):
    fresh_derivation.setattr(A, "_bspline_asarray", lambda: None)
    assert A._derived()["functions"] == frozenset({("sklearn.utils.validation", "check_array")})


def test_the_never_list_names_the_dangerous_builtins_and_loaders():
    for pair in [("builtins", "eval"), ("builtins", "exec"), ("builtins", "__import__"), ("builtins", "open"),
                 ("functools", "partial"), ("pickle", "loads"), ("os", "system"), ("numpy", "load")]:
        assert pair in A.NEVER


def test_a_never_pair_is_dropped_from_every_source(fresh_derivation):
    """Were a table edited to name a never-admitted object, the derivation still drops it: a reference
    function (numpy.testing's ``runstring``, which executes a string) and a pickle-mechanics pair (``functools.partial``)."""
    fresh_derivation.setattr(A, "_REFERENCE_FUNCTIONS", {"sklearn.utils.validation": ("check_array",),
                                                         "numpy.testing._private.utils": ("runstring",)})
    fresh_derivation.setattr(A, "_INTERNAL", (*A._INTERNAL, ("functools", "partial")))
    assert ("numpy.testing._private.utils", "runstring") not in A._derived()["functions"]
    assert ("sklearn.utils.validation", "check_array") in A._derived()["functions"]
    pairs = A.allowed_pairs()
    assert ("numpy.testing._private.utils", "runstring") not in pairs and ("functools", "partial") not in pairs
    assert isinstance(pairs, frozenset)
    assert A.describe()["internal"] == len(set(A._INTERNAL)) - 1


def test_describe_counts_each_source():
    derived, counts = A._derived(), A.describe()
    assert counts == {"estimators": len(derived["estimators"]), "helpers": len(derived["helpers"]),
                      "functions": len(derived["functions"]), "internal": len(set(A._INTERNAL) - A.NEVER)}
    assert all(type(v) is int for v in counts.values())


def test_is_allowed_answers_false_not_none():
    assert A.is_allowed("", "Tree") is False and A.is_allowed("sklearn.tree._tree", "") is False
    assert A.is_allowed("sklearn.tree._tree", "Tree") is True
    assert A.is_allowed("sklearn.tree", "_tree.Tree") is False
