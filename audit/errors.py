"""Errors raised by the audit toolkit.

Every error a user can cause is an :class:`AuditError`; the CLI turns it into one message on stderr
and exit code 2. Each also subclasses the matching built-in so callers of the Python API can catch
what they already know::

    AuditError (exit 2)
    ├── InputError(ValueError)          bad file, option or config value
    │   ├── DataError                   the data file: missing/empty, columns, types, NaN
    │   └── ConfigError                 audit.toml: unknown key, wrong type
    ├── UnsafeModelError(PermissionError)  the model file would run code we did not allow
    └── ModelError(TypeError)           a model the adapters cannot drive

Messages say what is wrong, where (file, column, row, option), the value seen and the fix.
"""

from __future__ import annotations

__all__ = ["AuditError", "InputError", "DataError", "ConfigError", "UnsafeModelError", "ModelError"]


class AuditError(Exception):
    """Base class: a problem with the user's input, reported with exit code 2."""

    exit_code = 2


class GateRefusal(AuditError):
    """A command refused to write output the policy gate does not back (exit code 1, as a failed gate)."""

    exit_code = 1


class InputError(AuditError, ValueError):
    """A file, option or value supplied by the user is not usable."""


class DataError(InputError):
    """The data file cannot be used with this model."""


class ConfigError(InputError):
    """The configuration file is invalid."""


class UnsafeModelError(AuditError, PermissionError):
    """Loading the model would import or call something outside the allow-list."""


class ModelError(AuditError, TypeError):
    """The model is of a kind no adapter supports, or misbehaved when called."""


def name_some(items: list[str] | tuple[str, ...], limit: int = 5) -> str:
    """Quote at most ``limit`` names, saying how many more there are.

    >>> name_some(["a", "b"])
    "'a', 'b'"
    """
    shown = ", ".join(repr(str(i)) for i in list(items)[:limit])
    extra = len(items) - limit
    return shown + (f" and {extra} more" if extra > 0 else "")
