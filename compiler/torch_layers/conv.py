"""The torch half of the convolutions: `conv`, `conv_transpose` (torch's own Conv*d classes)."""

from __future__ import annotations

from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, always, builds, by_rank


@builds("conv", fresh=always)
def _conv(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = by_rank({1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}, len(ins[0]))
    return cls(ins[0][0], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
               dilation=a["dilation"], groups=a["groups"], bias=a["bias"])


@builds("conv_transpose")
def _conv_transpose(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = by_rank({1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}, len(ins[0]))
    return cls(ins[0][0], a["out"], a["kernel"], stride=a["stride"], padding=a["padding"],
               output_padding=a["output_padding"], dilation=a["dilation"], groups=a["groups"], bias=a["bias"])
