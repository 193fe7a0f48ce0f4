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
    config = parse_config(text, source=str(path or "defaults"), overrides=overrides)
    if path is not None and config.report.logo:
        config = config.model_copy(update={"report": config.report.model_copy(
            update={"logo": str(_logo_inside(path, config.report.logo))})})
    return config, text


def _logo_inside(config_path: Path, logo: str) -> Path:
    """``[report] logo`` resolved against the config file's folder, refused outside it, when missing, or
    when the file is not a PNG or JPEG image by its content."""
    folder = config_path.resolve().parent
    candidate = (folder / logo).resolve()
    if folder not in candidate.parents:
        raise ConfigError(f"{config_path}: [report] logo {logo!r} is outside the config file's folder. Put the "
                          "PNG beside audit.toml (or below it) and name it relative to it.")
    if not candidate.is_file():
        raise ConfigError(f"{config_path}: [report] logo {logo!r} not found at {candidate}. Fix the path.")
    with open(candidate, "rb") as fh:
        head = fh.read(8)
    if not (head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff")):
        raise ConfigError(f"{config_path}: [report] logo {logo!r} is not a PNG or JPEG image (by its content). "
                          "Give the path of a PNG or JPEG file.")
    return candidate
