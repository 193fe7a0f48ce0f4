"""Progress of long steps: a sink the CLI backs with rich and the Python API leaves silent."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Progress", "Clock"]


class Progress:
    """Progress sink; the CLI passes a rich-backed one, the API a silent one."""

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        yield

    def note(self, message: str) -> None:
        pass

    @contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A counted step (rows of a portfolio): yields ``advance(n)``; the CLI shows rows/s and the ETA."""
        yield lambda n: None


class Clock:
    """Named timings of the audit's steps, each shown as a progress step."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def __call__(self, name: str, label: str) -> Iterator[None]:
        t0 = time.perf_counter()
        with self.progress.step(label):
            yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
