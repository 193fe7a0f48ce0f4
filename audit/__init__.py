"""Explainability audit toolkit for regulated models.

Public surface: :func:`run_audit` and the configuration, result and error types.
"""

from __future__ import annotations

from audit.version import __version__

__all__ = ["__version__", "run_audit", "AuditConfig", "Policy", "AuditError"]


def __getattr__(name: str):  # lazy: `import audit` stays cheap for the CLI's --help
    if name == "run_audit":
        from audit.commands.runner import run_audit

        return run_audit
    if name in ("AuditConfig", "Policy"):
        from audit import config

        return getattr(config, name)
    if name == "AuditError":
        from audit.errors import AuditError

        return AuditError
    raise AttributeError(name)
