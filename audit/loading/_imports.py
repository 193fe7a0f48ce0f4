"""Importing a user's object named on the command line (``--model-class``, ``--oracle``).

Importing a module runs its code: these options are for packages the user vouches for.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from audit.errors import InputError

__all__ = ["import_object"]


def import_object(ref: str, option: str, what: str = "Class") -> Any:
    """``package.module:Name`` -> the object, resolving the user's package from the working directory."""
    if ":" not in ref:
        raise InputError(f"{option} {ref!r}: expected 'package.module:{what}'.")
    module_name, _, qualname = ref.partition(":")
    added = os.getcwd() not in sys.path
    if added:  # like `python -m`, resolve the user's own package from the working directory
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"{option} {ref!r}: cannot import {module_name!r} ({exc}).") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InputError(f"{option} {ref!r}: {module_name} has no {qualname!r}.")
    return obj
