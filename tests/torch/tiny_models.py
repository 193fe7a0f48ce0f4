"""A tiny torch head used by the multiclass/regression tests (imported through --model-class)."""

from __future__ import annotations

from torch import nn


class TinyHead(nn.Module):
    def __init__(self, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_inputs, 8), nn.ReLU(), nn.Linear(8, n_outputs))

    def forward(self, x):
        return self.net(x)
