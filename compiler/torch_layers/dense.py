"""The torch half of `linear` and `flatten`: torch's own classes, and `TransposedLinear` (GPT-2's `Conv1D`)."""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, always, builds


class TransposedLinear(nn.Module):
    """`x @ weight + bias` with `weight` `[in_features, out_features]`: Hugging Face's `Conv1D` layout
    (GPT-2's `c_attn`, `c_proj`, `c_fc`), so its state_dict loads strictly. Initialised as `Conv1D` is."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        nn.init.normal_(self.weight, std=0.02)
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


@builds("linear", fresh=always)
def _linear(node: Node, ins: list[Shape]) -> nn.Module:
    cls = TransposedLinear if node.args["transposed"] else nn.Linear
    return cls(ins[0][-1], node.args["out"], bias=node.args["bias"])


@builds("flatten")
def _flatten(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Flatten()
