"""Captum explainers are registered here (filled in by the torch adapter work)."""

from __future__ import annotations

CAPTUM_EXPLAINERS: tuple[type, ...] = ()
