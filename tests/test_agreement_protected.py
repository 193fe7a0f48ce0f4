"""Method agreement and protected-attribute shares on small arrays with known answers."""

from __future__ import annotations

import numpy as np

from audit.measures.agreement import agreement
from audit.measures.protected import protected_shares
from audit.types import Attribution

NAMES = ("a", "b", "c", "d")


def _attr(values, method):
    values = np.asarray(values, dtype=float)
    return Attribution(values, np.zeros(len(values)), NAMES, method, "approximate")


def test_identical_rankings_agree_and_reversed_ones_disagree():
    x = np.array([[4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    out = agreement({"p": _attr(x, "p"), "q": _attr(2 * x, "q"), "r": _attr(-x, "r")})
    sp = np.array(out["spearman"])
    np.testing.assert_allclose(sp[0, 1], 1.0)
    np.testing.assert_allclose(sp[0, 2], -1.0)
    assert out["least_agreeing_pair"]["spearman"] == -1.0 and {out["least_agreeing_pair"]["a"],
                                                              out["least_agreeing_pair"]["b"]} & {"r"}
    # top-3 by size is the same set for x and -x: overlap 1 although the ranks are reversed
    np.testing.assert_allclose(np.array(out["topk_overlap"])[0, 2], 1.0)
    assert out["k"] == 3


def test_protected_share_is_the_mass_on_protected_inputs():
    attr = _attr([[1.0, -1.0, 2.0, 0.0], [3.0, 1.0, -2.0, 0.0]], "m")  # mean |.|: 2, 1, 2, 0 -> total 5
    out = protected_shares({"m": attr}, ["b", "zz"], NAMES)
    np.testing.assert_allclose(out["by_explainer"]["m"]["share"], 1 / 5)
    assert out["by_explainer"]["m"]["per_attribute"] == {"b": 0.2}
    assert out["not_model_inputs"] == ["zz"]
    assert protected_shares({"m": attr}, [], NAMES) == {"attributes": [], "by_explainer": {}}
