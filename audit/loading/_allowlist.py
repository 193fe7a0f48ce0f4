"""The exact (module, qualified name) pairs a model pickle may reference.

Public scikit-learn classes are listed by their public import path and resolved once to the private
module that pickles record (``sklearn.linear_model.LogisticRegression`` is pickled as
``sklearn.linear_model._logistic.LogisticRegression``); resolving imports only scikit-learn itself,
never anything named by the file. Internal helpers that fitted estimators carry are listed as the
literal pairs pickle writes. There are no wildcards: a pair is allowed only if it is in this set.

A few constructor helpers have dunder names (``numpy.random._pickle.__randomstate_ctor``,
Cython's ``__pyx_unpickle_*``). They are admitted as exact pairs only; a dunder name that is not
listed verbatim is refused like any other.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

_PUBLIC: dict[str, tuple[str, ...]] = {
    "sklearn.linear_model": (
        "LogisticRegression", "LogisticRegressionCV", "LinearRegression", "Ridge", "RidgeCV",
        "RidgeClassifier", "RidgeClassifierCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV",
        "SGDClassifier", "SGDRegressor", "HuberRegressor", "BayesianRidge", "Perceptron",
        "PoissonRegressor", "GammaRegressor", "TweedieRegressor", "QuantileRegressor",
    ),
    "sklearn.svm": ("LinearSVC", "LinearSVR", "SVC", "SVR", "NuSVC", "NuSVR"),
    "sklearn.tree": ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
                     "ExtraTreeRegressor"),
    "sklearn.ensemble": (
        "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
        "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
        "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "AdaBoostClassifier",
        "AdaBoostRegressor", "BaggingClassifier", "BaggingRegressor", "VotingClassifier",
        "VotingRegressor", "StackingClassifier", "StackingRegressor",
    ),
    "sklearn.neighbors": ("KNeighborsClassifier", "KNeighborsRegressor", "KDTree", "BallTree"),
    "sklearn.neural_network": ("MLPClassifier", "MLPRegressor"),
    "sklearn.naive_bayes": ("GaussianNB", "BernoulliNB", "MultinomialNB", "CategoricalNB"),
    "sklearn.discriminant_analysis": ("LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis"),
    "sklearn.dummy": ("DummyClassifier", "DummyRegressor"),
    "sklearn.calibration": ("CalibratedClassifierCV",),
    "sklearn.pipeline": ("Pipeline", "FeatureUnion"),
    "sklearn.compose": ("ColumnTransformer", "TransformedTargetRegressor"),
    "sklearn.preprocessing": (
        "OneHotEncoder", "OrdinalEncoder", "StandardScaler", "MinMaxScaler", "RobustScaler",
        "MaxAbsScaler", "Normalizer", "PolynomialFeatures", "SplineTransformer", "KBinsDiscretizer",
        "FunctionTransformer", "LabelEncoder", "LabelBinarizer", "QuantileTransformer",
        "PowerTransformer", "Binarizer", "TargetEncoder",
    ),
    "sklearn.impute": ("SimpleImputer", "MissingIndicator"),
    "sklearn.feature_selection": ("VarianceThreshold", "SelectKBest", "SelectFromModel"),
    "sklearn.decomposition": ("PCA", "TruncatedSVD"),
}

# Internal objects that fitted estimators hold, as pickle records them.
_INTERNAL: tuple[tuple[str, str], ...] = (
    ("sklearn.tree._tree", "Tree"),
    ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
    ("sklearn.neural_network._stochastic_optimizers", "AdamOptimizer"),
    ("sklearn.neural_network._stochastic_optimizers", "SGDOptimizer"),
    ("sklearn.neighbors._kd_tree", "KDTree"),
    ("sklearn.neighbors._kd_tree", "newObj"),
    ("sklearn.neighbors._ball_tree", "BallTree"),
    ("sklearn.neighbors._ball_tree", "newObj"),
    ("sklearn.metrics._dist_metrics", "EuclideanDistance64"),
    ("sklearn.metrics._dist_metrics", "ManhattanDistance64"),
    ("sklearn.metrics._dist_metrics", "MinkowskiDistance64"),
    ("sklearn.metrics._dist_metrics", "newObj"),
    ("sklearn.compose._column_transformer", "_RemainderColsList"),
    ("sklearn.utils._bunch", "Bunch"),
    ("sklearn._loss.loss", "HalfBinomialLoss"),
    ("sklearn._loss.loss", "HalfMultinomialLoss"),
    ("sklearn._loss.loss", "HalfSquaredError"),
    ("sklearn._loss.loss", "AbsoluteError"),
    ("sklearn._loss.loss", "HalfPoissonLoss"),
    ("sklearn._loss.loss", "PinballLoss"),
    ("sklearn._loss.loss", "HuberLoss"),
    ("sklearn._loss.loss", "ExponentialLoss"),
    ("sklearn._loss._loss", "CyHalfBinomialLoss"),
    ("sklearn._loss._loss", "CyHalfMultinomialLoss"),
    ("sklearn._loss._loss", "CyHalfSquaredError"),
    ("sklearn._loss._loss", "CyAbsoluteError"),
    ("sklearn._loss._loss", "CyHalfPoissonLoss"),
    ("sklearn._loss._loss", "CyPinballLoss"),
    ("sklearn._loss._loss", "CyHuberLoss"),
    ("sklearn._loss._loss", "CyExponentialLoss"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyHalfMultinomialLoss"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyPinballLoss"),
    ("sklearn._loss._loss", "__pyx_unpickle_CyHuberLoss"),
    ("sklearn._loss.link", "IdentityLink"),
    ("sklearn._loss.link", "LogitLink"),
    ("sklearn._loss.link", "LogLink"),
    ("sklearn._loss.link", "MultinomialLogit"),
    ("sklearn._loss.link", "Interval"),
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

# Names that are never admitted, whatever a future edit of the lists above says.
NEVER: frozenset[tuple[str, str]] = frozenset({
    ("builtins", n) for n in ("eval", "exec", "compile", "getattr", "setattr", "__import__", "open",
                              "globals", "locals", "vars", "input", "breakpoint")
} | {
    ("functools", "partial"), ("functools", "reduce"), ("operator", "attrgetter"),
    ("operator", "methodcaller"), ("operator", "itemgetter"), ("importlib", "import_module"),
    ("pkgutil", "resolve_name"), ("pickle", "loads"), ("pickle", "load"), ("joblib", "load"),
    ("numpy", "load"), ("torch", "load"), ("os", "system"), ("posix", "system"), ("subprocess", "Popen"),
    ("numpy.testing._private.utils", "runstring"), ("numpy._core._ufunc_config", "_ufunc_reconstruct"),
})


@lru_cache(maxsize=1)
def allowed_pairs() -> frozenset[tuple[str, str]]:
    """The exact pairs a safe load admits (resolved once per process).

    >>> ("sklearn.tree._tree", "Tree") in allowed_pairs()
    True
    """
    pairs = set(_INTERNAL)
    for module_name, names in _PUBLIC.items():
        module = importlib.import_module(module_name)
        for name in names:
            obj = getattr(module, name, None)
            if obj is None:  # not in this scikit-learn version
                continue
            pairs.add((obj.__module__, obj.__qualname__))
    return frozenset(pairs - NEVER)


def is_allowed(module: str, name: str) -> bool:
    """Exact membership, with no wildcard, no dotted or module lookups."""
    if not module or not name or "." in name:
        return False
    return (module, name) in allowed_pairs()


def allowed_type_names() -> list[str]:
    """The same allow-list as ``module.name`` strings, the form skops uses for trusted types."""
    return sorted(f"{m}.{n}" for m, n in allowed_pairs())
