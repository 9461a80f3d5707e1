"""The torch half of normalisation and dropout: torch's own classes, and `RMSNorm` computed in float32."""

from __future__ import annotations

import torch
from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


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


class RMSNorm(nn.Module):
    """`weight · x / sqrt(mean(x²) + eps)` over the last dimension, as Hugging Face's `LlamaRMSNorm` computes it:
    in float32 whatever the input's dtype, the result cast back before the scale."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.dim, self.eps = dim, eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wide = x.to(torch.float32)
        wide = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * wide.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps}"


@builds("rmsnorm")
def _rmsnorm(node: Node, ins: list[Shape]) -> nn.Module:
    return RMSNorm(ins[0][-1], eps=node.args["eps"])
