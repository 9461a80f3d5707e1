"""The torch half of the sequence layers: embedding, positions, class token, first/last/mean.

Two are bare (§6) where the registry entry says so: `class_token` always, and
`positional(..., bare=true)`; their classes keep the one tensor as `weight`
and compute from it in a static `apply`, which lowering calls with the plain
parameter it registers at the element's path.
"""

from __future__ import annotations

import math

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds


@builds("embedding")
def _embedding(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return nn.Embedding(a["vocab"], a["dim"], padding_idx=a["padding_idx"])


class LearnedPositional(nn.Module):
    """Adds `weight[:seq]` ([max_len, d]) to a `[batch, seq, d]` value.

    `bare`: the table is `[1, max_len, d]`, which lowering registers as a
    plain parameter at the element's own path (torchvision's ViT
    `encoder.pos_embedding`).
    """

    def __init__(self, max_len: int, dim: int, bare: bool = False):
        super().__init__()
        self.max_len, self.dim, self.bare = max_len, dim, bare
        self.weight = nn.Parameter(torch.empty((1,) * bare + (max_len, dim)))
        nn.init.normal_(self.weight, std=0.02)

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x + weight[..., : x.shape[1], :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.weight)

    def extra_repr(self) -> str:
        return f"max_len={self.weight.shape[-2]}, dim={self.weight.shape[-1]}"


def sinusoid_table(max_len: int, dim: int) -> torch.Tensor:
    """`Attention is all you need`'s table: sin on even features, cos on odd ones."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(max_len, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table.to(torch.get_default_dtype())


class SinusoidalPositional(nn.Module):
    """Adds a fixed sinusoid table; the table is a non-persistent buffer (not in state_dict)."""

    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.max_len, self.dim = max_len, dim
        self.register_buffer("table", sinusoid_table(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]].to(x.dtype)

    def extra_repr(self) -> str:
        return f"max_len={self.table.shape[0]}, dim={self.table.shape[1]}"


def _bare_table(args) -> bool:
    return args["learned"] and args["bare"]


@builds("positional", bare=_bare_table)
def _positional(node: Node, ins: list[Shape]) -> nn.Module:
    if node.args["learned"]:
        return LearnedPositional(node.args["max_len"], ins[0][-1], node.args["bare"])
    return SinusoidalPositional(node.args["max_len"], ins[0][-1])


class ClassToken(nn.Module):
    """Prepends one learned token ([1, 1, d]) to the sequence.

    Bare: lowering registers the token as a plain parameter at the element's
    path, as torchvision's ViT keeps `class_token`.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.weight = nn.Parameter(torch.zeros(1, 1, dim))

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return torch.cat([weight.expand(x.shape[0], -1, -1), x], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.weight)


@builds("class_token", bare=lambda args: True)
def _class_token(node: Node, ins: list[Shape]) -> nn.Module:
    return ClassToken(ins[0][-1])


class First(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


class Last(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1]


class Mean(nn.Module):
    """The average over the sequence (dimension 1), or over `dims` (batch included)."""

    def __init__(self, dims: tuple[int, ...] | None = None, keepdim: bool = False):
        super().__init__()
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims is None:
            return x.mean(dim=1)
        return x.mean(dim=self.dims, keepdim=self.keepdim)


@builds("first", "last")
def _pick(node: Node, ins: list[Shape]) -> nn.Module:
    return {"first": First, "last": Last}[node.layer]()


def _dims(args) -> tuple[int, ...] | None:
    return None if args.get("dim") is None else tuple(d + 1 for d in args["dim"])  # skip batch


@builds("mean")
def _mean(node: Node, ins: list[Shape]) -> nn.Module:
    return Mean(_dims(node.args), node.args.get("keepdim", False))


class Sum(nn.Module):
    def __init__(self, dims: tuple[int, ...], keepdim: bool = False):
        super().__init__()
        self.dims, self.keepdim = tuple(dims), keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=self.dims, keepdim=self.keepdim)


@builds("sum")
def _sum(node: Node, ins: list[Shape]) -> nn.Module:
    return Sum(_dims(node.args), node.args["keepdim"])
