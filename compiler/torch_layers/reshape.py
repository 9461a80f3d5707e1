"""The torch half of `reshape`, `transpose` and `permute`: two small modules that keep the batch first."""

from __future__ import annotations

import torch
from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


class Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Permute(nn.Module):
    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = tuple(dims)  # batch included (the builders keep it first)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


@builds("reshape")
def _reshape(node: Node, ins: list[Shape]) -> nn.Module:
    return Reshape(node.shape)


@builds("transpose")
def _transpose(node: Node, ins: list[Shape]) -> nn.Module:
    rank = len(ins[0])
    order = list(range(rank))
    i, j = node.args["a"] % rank, node.args["b"] % rank
    order[i], order[j] = order[j], order[i]
    return Permute((0, *(d + 1 for d in order)))


@builds("permute")
def _permute(node: Node, ins: list[Shape]) -> nn.Module:
    rank = len(ins[0])
    return Permute((0, *(d % rank + 1 for d in node.args["dims"])))
