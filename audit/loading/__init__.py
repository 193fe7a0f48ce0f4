"""The only box that reads input files: models (safely), data and configuration."""

from __future__ import annotations

from audit.loading._config import load_config_file
from audit.loading._data import load_data
from audit.loading._imports import import_object
from audit.loading._model import LoadedModel, load_model, sha256_bytes
from audit.loading._results import load_results_file

__all__ = ["LoadedModel", "load_model", "load_data", "load_config_file", "sha256_bytes", "import_object",
           "load_results_file"]
