"""A torch model whose margin is linear in the standardised inputs (imported through --model-class)."""

from __future__ import annotations

from torch import nn


class LinearHead(nn.Module):
    def __init__(self, n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return self.linear(x)
