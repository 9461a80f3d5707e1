"""The torch side of the layer catalogue: one builder per layer name.

Stage: lowering. `BUILDERS[name](node, inputs)` returns the `nn.Module` for
one checked node; every size comes from the checked graph (the input
shapes, the node's validated arguments), never inferred again. The checker's
half of each entry is in `dsl/layers/`; a test proves the two name sets equal.

archlang's own module classes keep each constructor argument as an attribute
of the same name, as torch's layers do: `compiler.codegen` reads them back to
write the constructor call into standalone source.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dsl.graph import Node

Shape = tuple[int, ...]
Builder = Callable[[Node, list[Shape]], nn.Module]
BUILDERS: dict[str, Builder] = {}


def builds(*names: str):
    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = fn
        return fn
    return register


def _nd(table: dict[int, type], rank: int) -> type:
    return table[rank - 1]  # rank excludes batch: [C, L] → 1-D, [C, H, W] → 2-D


@builds("conv")
def _conv(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = _nd({1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}, len(ins[0]))
    return cls(ins[0][0], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
               dilation=a["dilation"], groups=a["groups"], bias=a["bias"])


@builds("conv_transpose")
def _conv_transpose(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = _nd({1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}, len(ins[0]))
    return cls(ins[0][0], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
               output_padding=a["output_padding"], dilation=a["dilation"], groups=a["groups"], bias=a["bias"])


@builds("maxpool", "avgpool")
def _pool(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    table = ({1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d} if node.layer == "maxpool"
             else {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d})
    return _nd(table, len(ins[0]))(a["kernel"], stride=a["stride"], padding=a["padding"], ceil_mode=a["ceil_mode"])


@builds("adaptive_avgpool", "adaptive_maxpool", "global_avgpool")
def _adaptive(node: Node, ins: list[Shape]) -> nn.Module:
    table = ({1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d}
             if node.layer == "adaptive_maxpool"
             else {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d})
    return _nd(table, len(ins[0]))(node.args.get("size", 1))


@builds("linear")
def _linear(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Linear(ins[0][-1], node.args["out"], bias=node.args["bias"])


@builds("flatten")
def _flatten(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Flatten()


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


@builds("batchnorm")
def _batchnorm(node: Node, ins: list[Shape]) -> nn.Module:
    cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(ins[0])]
    return cls(ins[0][0], eps=node.args["eps"], momentum=node.args["momentum"])


@builds("layernorm")
def _layernorm(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.LayerNorm(ins[0][-1], eps=node.args["eps"])


@builds("groupnorm")
def _groupnorm(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.GroupNorm(node.args["groups"], ins[0][0], eps=node.args["eps"])


@builds("dropout")
def _dropout(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Dropout(node.args["p"])


_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "silu": nn.SiLU, "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid, "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "identity": nn.Identity,
}


@builds(*_ACTIVATIONS)
def _activation(node: Node, ins: list[Shape]) -> nn.Module:
    return _ACTIVATIONS[node.layer]()


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


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim  # batch included

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


@builds("add")
def _add(node: Node, ins: list[Shape]) -> nn.Module:
    return Add()


@builds("mul")
def _mul(node: Node, ins: list[Shape]) -> nn.Module:
    return Mul()


@builds("concat")
def _concat(node: Node, ins: list[Shape]) -> nn.Module:
    return Concat(node.args["dim"] + 1)  # the checker resolved the axis; skip batch


from . import (
    torch_recurrent,  # noqa: E402,F401  (registers the recurrent builders)
    torch_sequence,  # noqa: E402,F401  (registers the sequence builders)
)
