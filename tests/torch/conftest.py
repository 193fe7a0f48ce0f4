from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")


@pytest.fixture(scope="session")
def torch_models(tmp_path_factory):
    """The torch demo models, built by the same seeded script users run."""
    from samples.make_torch_samples import main

    out = tmp_path_factory.mktemp("torch_models")
    main(out)
    return out
