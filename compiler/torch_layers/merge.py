"""The torch half of the merges: `add`, `mul` over any number of operands and a constant, `concat`, `matmul`."""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds


class Add(nn.Module):
    def __init__(self, constant: float | None = None):
        super().__init__()
        self.constant = constant  # a number among the operands (`add(1.0)`)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out if self.constant is None else out + self.constant


class Mul(nn.Module):
    def __init__(self, constant: float | None = None):
        super().__init__()
        self.constant = constant  # a number among the operands (`mul(0.044)`)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out if self.constant is None else out * self.constant


class Concat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim  # batch included

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


def _sums(node: Node) -> bool:
    """A sum is a new tensor (one operand alone is given back as it is); its backward keeps nothing."""
    return len(node.inputs) > 1 or node.args.get("constant") is not None


@builds("add", fresh=_sums)
def _add(node: Node, ins: list[Shape]) -> nn.Module:
    return Add(node.args.get("constant"))


@builds("mul")
def _mul(node: Node, ins: list[Shape]) -> nn.Module:
    return Mul(node.args.get("constant"))


@builds("concat")
def _concat(node: Node, ins: list[Shape]) -> nn.Module:
    return Concat(node.args["dim"] + 1)  # the checker resolved and recorded the axis; skip batch


class MatMul(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


@builds("matmul")
def _matmul(node: Node, ins: list[Shape]) -> nn.Module:
    return MatMul()
