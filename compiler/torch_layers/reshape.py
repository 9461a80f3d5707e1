"""The torch half of `reshape`, `transpose`, `permute`, `pad`, `slice`, `crop` and `roll`: small modules
that keep the batch first (every `dim` they keep counts the batch)."""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

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


class Pad(nn.Module):
    def __init__(self, before: int, after: int, dim: int, value: float = 0.0):
        super().__init__()
        self.before, self.after, self.dim, self.value = before, after, dim, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # F.pad lists (before, after) pairs from the last dimension backwards.
        widths = [0, 0] * (x.dim() - 1 - self.dim) + [self.before, self.after]
        return torch.nn.functional.pad(x, widths, value=self.value)


@builds("pad")
def _pad(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return Pad(a["before"], a["after"], a["dim"] + 1, a["value"])


class Slice(nn.Module):
    def __init__(self, start: int, end: int | None, dim: int):
        super().__init__()
        self.start, self.end, self.dim = start, end, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None)] * self.dim + [slice(self.start, self.end)]
        return x[tuple(index)]


@builds("slice")
def _slice(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return Slice(a["start"], a["end"], a["dim"] + 1)


class CenterCrop(nn.Module):
    """The centre `sizes` of the last dimensions; an odd margin leaves its extra element at the end."""

    def __init__(self, sizes: tuple[int, ...]):
        super().__init__()
        self.sizes = tuple(sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.dim() - len(self.sizes)
        index = [slice(None)] * lead
        for size, want in zip(x.shape[lead:], self.sizes):
            start = (size - want) // 2
            index.append(slice(start, start + want))
        return x[tuple(index)]


@builds("crop")
def _crop(node: Node, ins: list[Shape]) -> nn.Module:
    return CenterCrop(tuple(node.args["sizes"]))


class Roll(nn.Module):
    def __init__(self, shifts: tuple[int, ...], dims: tuple[int, ...]):
        super().__init__()
        self.shifts, self.dims = tuple(shifts), tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.roll(x, self.shifts, self.dims)


@builds("roll")
def _roll(node: Node, ins: list[Shape]) -> nn.Module:
    return Roll(tuple(node.args["shifts"]), tuple(d + 1 for d in node.args["dim"]))
