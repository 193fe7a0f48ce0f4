"""Reading audit.toml (the loading box reads every input file)."""

from __future__ import annotations

from pathlib import Path

from audit.config import AuditConfig, parse_config
from audit.errors import ConfigError


def load_config_file(path: Path | None, overrides: dict | None = None) -> tuple[AuditConfig, str]:
    """Read ``path`` (or nothing) and return the config and the exact text used (for hashing)."""
    text = ""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"--config {path}: file not found. Give the path of an audit.toml.")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--config {path}: cannot be read ({exc}).") from None
    return parse_config(text, source=str(path or "defaults"), overrides=overrides), text
