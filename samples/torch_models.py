"""Small PyTorch scorers for the loan sample: an MLP and an FT-Transformer-style tabular model.

Both take the input matrix built from the preprocessing spec (standardised numerics, one-hot
categories) and return one logit (probability of good credit risk after a sigmoid).
"""

from __future__ import annotations

import torch
from torch import nn


class LoanMLP(nn.Module):
    """Two hidden ReLU layers."""

    def __init__(self, n_inputs: int, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FeatureTokenizer(nn.Module):
    """One token per raw feature: a linear map of that feature's input columns (1 numeric or k one-hot)."""

    def __init__(self, groups: list[list[int]], d: int) -> None:
        super().__init__()
        self.groups = [list(g) for g in groups]
        self.proj = nn.ModuleList(nn.Linear(len(g), d) for g in self.groups)
        for i, g in enumerate(self.groups):
            self.register_buffer(f"idx{i}", torch.tensor(g, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = [proj(x.index_select(1, getattr(self, f"idx{i}"))) for i, proj in enumerate(self.proj)]
        return torch.stack(tokens, dim=1)  # (n, f, d)


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.norm1 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.norm2 = nn.LayerNorm(d)

    def attend(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, t, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, dim=-1)  # (n, heads, t, t)
        mixed = (att @ v).transpose(1, 2).reshape(n, t, d)
        return h + self.out(mixed), att.mean(1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h, _ = self.attend(h)
        return h + self.ff(self.norm2(h))


class TabTransformer(nn.Module):
    """FT-Transformer-style: feature tokens + [CLS], self-attention blocks, head on [CLS]."""

    def __init__(self, groups: list[list[int]], d: int = 16, heads: int = 2, layers: int = 2) -> None:
        super().__init__()
        self.tokenizer = FeatureTokenizer(groups, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 1))

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        tok = self.tokenizer(x)
        return torch.cat([self.cls.expand(x.shape[0], -1, -1), tok], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._tokens(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h[:, 0])

    @torch.jit.unused
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Head-averaged attention of every layer, (n, 1 + f, 1 + f) each."""
        h = self._tokens(x)
        maps = []
        for block in self.blocks:
            h, att = block.attend(h)
            h = h + block.ff(block.norm2(h))
            maps.append(att)
        return maps
