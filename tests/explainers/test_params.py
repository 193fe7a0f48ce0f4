"""Explainer parameters: declared, validated at construction, set from [explainers.NAME] tables."""

from __future__ import annotations

import numpy as np
import pytest

import explainers
from audit.commands.runner import run_audit
from audit.config import parse_config
from audit.errors import ConfigError
from explainers import ExplainerBase, ExplainerParams, explainer_settings, registry
from explainers.lime_tabular import Lime
from tests.conftest import FAST_TOML, SAMPLES, save_pickle


def test_a_misspelt_parameter_is_an_error_not_a_silent_default():
    with pytest.raises(ConfigError, match=r"explainer lime: unknown parameter 'lime_num_sample'\. Valid parameters: "
                                          r"num_samples, n_jobs"):
        Lime(lime_num_sample=600)
    with pytest.raises(ConfigError, match="parameter 'num_samples' has invalid value 10"):
        Lime(num_samples=10)
    assert Lime(num_samples=600).params.num_samples == 600


def test_every_builtin_declares_its_parameters():
    for name, cls in registry().items():
        assert issubclass(cls.Params, ExplainerParams), name
        cls()  # the defaults are valid
        for key, param in cls.config_keys.items():
            assert param in cls.Params.model_fields, f"{name}: {key} maps to undeclared {param}"


def test_table_overrides_the_top_level_key():
    cfg = parse_config('lime_num_samples = 500\n[explainers.lime]\nnum_samples = 700\n')
    assert explainer_settings(Lime, cfg.top_level(), cfg.explainer_settings.get("lime"))["num_samples"] == 700
    cfg = parse_config('lime_num_samples = 500\n')
    assert explainer_settings(Lime, cfg.top_level(), cfg.explainer_settings.get("lime"))["num_samples"] == 500


def test_explainers_table_with_select():
    cfg = parse_config('[explainers]\nselect = ["shap"]\n[explainers.shap]\nalgorithm = "permutation"\n')
    assert cfg.explainers == ["shap"] and cfg.explainer_settings == {"shap": {"algorithm": "permutation"}}
    with pytest.raises(ConfigError, match="must be a table"):
        parse_config('[explainers]\nshap = 3\n')


class Scaled(ExplainerBase):
    """A plugin with its own parameter: attributions are ``scale`` x (x - background mean)."""

    name = "scaled_plugin"
    kind = "approximate"

    class Params(ExplainerParams):
        scale: float = 1.0

    def supports(self, adapter):
        return True

    def explain(self, adapter, X, *, background, seed):
        return self.attribution(adapter, self.params.scale * (X - background.mean(0)), np.zeros(len(X)),
                                meta={"algorithm": "scaled centred values", "parameters": {"scale": self.params.scale}})


class _EntryPoint:
    name = "scaled_plugin"

    def load(self):
        return Scaled


@pytest.fixture()
def with_plugin(monkeypatch):
    monkeypatch.setattr(explainers, "entry_points", lambda group: [_EntryPoint()])


def test_an_entry_point_explainer_receives_its_table(with_plugin, credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    toml = FAST_TOML + '\n[explainers]\nselect = ["scaled_plugin"]\n[explainers.scaled_plugin]\nscale = 3.0\n'
    result = run_audit(path, SAMPLES / "german_credit.csv", config=parse_config(toml, overrides={"target": "risk"}))
    (e,) = result.explanations
    assert e.method == "scaled_plugin" and e.algorithm["parameters"] == {"scale": 3.0}
    base = run_audit(path, SAMPLES / "german_credit.csv",
                     config=parse_config(FAST_TOML + '\nexplainers = ["scaled_plugin"]\n', overrides={"target": "risk"}))
    for k, v in base.explanations[0].global_importance.items():
        assert e.global_importance[k] == pytest.approx(3.0 * v)


def test_a_misspelt_plugin_parameter_is_exit_2(with_plugin, credit_logreg, tmp_path, cli):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML + '\n[explainers.scaled_plugin]\nscael = 3.0\n')
    code, _, err = cli("run", path, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "unknown parameter 'scael'" in err and "Valid parameters: scale" in err
    assert not (tmp_path / "o").exists()


def test_an_unknown_explainer_table_lists_the_valid_names(credit_logreg, tmp_path, cli):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML + '\n[explainers.limes]\nnum_samples = 300\n')
    code, _, err = cli("run", path, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "[explainers.limes]" in err and "Valid names: coefficients" in err
