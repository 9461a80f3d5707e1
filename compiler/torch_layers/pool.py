"""The torch half of pooling: max/avg, adaptive and global pooling (torch's own classes)."""

from __future__ import annotations

from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds, by_rank


@builds("maxpool", "avgpool")
def _pool(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    table = ({1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d} if node.layer == "maxpool"
             else {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d})
    return by_rank(table, len(ins[0]))(a["kernel"], stride=a["stride"], padding=a["padding"],
                                       ceil_mode=a["ceil_mode"])


@builds("adaptive_avgpool", "adaptive_maxpool", "global_avgpool")
def _adaptive(node: Node, ins: list[Shape]) -> nn.Module:
    table = ({1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d}
             if node.layer == "adaptive_maxpool"
             else {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d})
    return by_rank(table, len(ins[0]))(node.args.get("size", 1))
