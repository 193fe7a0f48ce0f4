"""A new model framework: a plain Python callable behind the adapter contract.

SHAP (model-agnostic algorithms), LIME and every faithfulness measure run on it with no change to
explainer or metric code, because they ask the adapter's capabilities, never a framework name.
"""

from __future__ import annotations

import numpy as np

from audit.adapters import Adapter, Capabilities, ClassView
from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness.evaluate import EvaluationSettings, ExplainedGroup, evaluate_explainer
from audit.types import CallCounter, FeatureSpace
from explainers import select
from explainers.testing import check_explainer


class CallableAdapter(ClassView):
    """A regression function ``fn(X) -> y`` over raw numeric columns."""

    framework = "python-callable"

    def __init__(self, fn, names):
        self.fn = fn
        self.space = FeatureSpace(tuple(names), as_frame=False)
        self.task, self.classes, self.class_index, self.output = "regression", None, None, "value"
        self.counter = CallCounter()
        self.capabilities = Capabilities(margin=True)

    @property
    def native(self):
        return self.fn

    @property
    def type_name(self):
        return "callable"

    def predict(self, X):
        self.counter.add(len(X))
        return np.asarray(self.fn(np.asarray(X, dtype=float)), dtype=float)

    predict_label = predict
    margin = predict

    def predict_all(self, X):
        return self.predict(X)[:, None]

    def randomised(self, dataset, rng):
        raise NotImplementedError("a callable cannot be refit")


def truth(X):
    return 3.0 * X[:, 0] - 2.0 * X[:, 1] + 0.5 * X[:, 2] ** 2


def test_shap_lime_and_the_metrics_run_on_a_new_framework():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    adapter = CallableAdapter(truth, ["a", "b", "c", "d"])
    assert isinstance(adapter, Adapter)
    chosen, _ = select(adapter, None, settings={"lime": {"num_samples": 300}})
    assert [e.name for e in chosen] == ["shap", "lime"]  # in-space and gradient methods do not apply
    for ex in chosen:
        check_explainer(ex, adapter, X[:5], background=X[100:160], seed=0)
    shap = chosen[0]
    assert shap.explain(adapter, X[:2], background=X[100:132], seed=0).meta["choice"] == "exact"

    rows, background = np.arange(40), X[100:160]
    baseline = Baseline.from_background(background, adapter.space.categorical_mask)
    group = ExplainedGroup(adapter, rows, "output")
    group.ctx = FaithfulnessContext(adapter.predict, X[rows], baseline, seed=0, n_random=4, n_bootstrap=50)
    settings = EvaluationSettings(stability_rows=5, stability_seeds=2, sensitivity_rows=3)
    scores = {}
    for ex in chosen:
        group.attributions[ex.name] = ex.explain(adapter, X[rows], background=background, seed=0)
        ev = evaluate_explainer(ex, [group], X, background, settings, randomised=None,
                                randomised_note="a callable cannot be refit", seconds=0.0)
        scores[ex.name] = ev.result.faithfulness_score
        assert ev.result.randomisation == {"similarity": None, "not_run": "a callable cannot be refit"}
        assert set(ev.result.faithfulness) >= {"deletion_auc", "monotonicity", "infidelity", "max_sensitivity"}
    # exact Shapley values of an additive function are its true attribution (relative to the SHAP
    # background, while the metrics remove features to the mean): well above random, near the reference
    assert scores["shap"] >= 0.75
    assert scores["lime"] > 0.3
    add = evaluate_explainer(shap, [group], X, background, settings, randomised=None, randomised_note="",
                             seconds=0.0).result.additivity_error
    assert add is not None and add < 1e-9
    assert adapter.counter.calls > 0
