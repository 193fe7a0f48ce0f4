"""The Captum explainers, in registry order (gradient methods first)."""

from __future__ import annotations

from explainers.attention_rollout import AttentionRollout
from explainers.deep_lift import DeepLift
from explainers.feature_ablation import FeatureAblation
from explainers.gradient_shap import GradientShap
from explainers.input_x_gradient import InputXGradient
from explainers.integrated_gradients import IntegratedGradients
from explainers.layer_integrated_gradients import LayerIntegratedGradients
from explainers.saliency import Saliency

CAPTUM_EXPLAINERS: tuple[type, ...] = (
    IntegratedGradients, DeepLift, GradientShap, InputXGradient, Saliency, FeatureAblation,
    LayerIntegratedGradients, AttentionRollout,
)
