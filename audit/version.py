"""The tool's version, in a module of its own so that modules recording it (the runner, compare) need
not import the ``audit`` package's ``__init__``, which itself reaches the runner lazily (an import cycle)."""

from __future__ import annotations

__version__ = "0.1.0"
