"""The torch half of the activations: torch's own classes, and `Softmax`, `LogSoftmax` that count the batch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds

_PLAIN: dict[str, Callable[[], nn.Module]] = {
    "silu": nn.SiLU, "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid, "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "identity": nn.Identity,
}


@builds(*_PLAIN)
def _activation(node: Node, ins: list[Shape]) -> nn.Module:
    return _PLAIN[node.layer]()


_IN_PLACE: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "relu6": nn.ReLU6}


@builds(*_IN_PLACE, in_place=True)  # the plan may switch them in place (`nn.ReLU(inplace=True)`)
def _in_place_activation(node: Node, ins: list[Shape]) -> nn.Module:
    return _IN_PLACE[node.layer]()


@builds("gelu")
def _gelu(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.GELU(approximate=node.args["approximate"])


@builds("leaky_relu")
def _leaky(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.LeakyReLU(node.args["slope"])


class Softmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim  # batch included

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)


@builds("softmax")
def _softmax(node: Node, ins: list[Shape]) -> nn.Module:
    return Softmax(node.args["dim"] % len(ins[0]) + 1)  # skip batch


class LogSoftmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim  # batch included

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(x, dim=self.dim)


@builds("log_softmax")
def _log_softmax(node: Node, ins: list[Shape]) -> nn.Module:
    return LogSoftmax(node.args["dim"] % len(ins[0]) + 1)  # skip batch
