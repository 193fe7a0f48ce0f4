"""The demo models are byte-reproducible, so the model SHA-256 on a sample report's cover is stable
(issue item 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def test_skops_samples_are_byte_reproducible_and_load(tmp_path):
    from audit.loading import load_model
    from samples.make_samples import main

    main(tmp_path / "a")
    main(tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").glob("*.skops"))
    assert names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    loaded = load_model(Path(tmp_path / "a" / "synthetic_logreg.skops"))
    assert np.asarray(loaded.obj.coef_).shape[1] == 10
