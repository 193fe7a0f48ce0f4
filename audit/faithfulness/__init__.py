"""Faithfulness scoring: metrics (pure functions) and scoring against random and oracle controls."""

from audit.faithfulness.metrics import Baseline
from audit.faithfulness.scoring import METRICS, FaithfulnessContext, FaithfulnessScores, MetricResult

__all__ = ["Baseline", "METRICS", "FaithfulnessContext", "FaithfulnessScores", "MetricResult"]
