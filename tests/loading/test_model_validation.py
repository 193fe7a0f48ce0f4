"""Every model family still loads (pickle, joblib, skops) and predicts as before the checks."""

from __future__ import annotations

import numpy as np
import pytest

from audit.loading import load_model
from tests.security.models import X, families, save

FAMILIES = families()


@pytest.mark.parametrize("suffix", [".pkl", ".joblib", ".skops"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_loads_and_predicts_the_same(tmp_path, name, suffix):
    model = FAMILIES[name]
    loaded = load_model(save(model, tmp_path / f"m{suffix}"))
    assert not loaded.trusted
    rows = np.abs(X[:10]) if name == "pipeline" else X[:10]
    if name == "column_tf":
        rows = np.c_[X[:10, :3], np.arange(10) % 4]
    np.testing.assert_allclose(loaded.obj.predict(rows), model.predict(rows), rtol=0, atol=0)
