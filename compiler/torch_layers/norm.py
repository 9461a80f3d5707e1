"""The torch half of normalisation and dropout (torch's own classes), a channels-first layernorm,
`scale` (layer scale, bare where asked), `drop_path` (stochastic depth) and `RMSNorm` computed in float32."""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, always, builds


@builds("batchnorm", fresh=always)
def _batchnorm(node: Node, ins: list[Shape]) -> nn.Module:
    cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(ins[0])]
    return cls(ins[0][0], eps=node.args["eps"], momentum=node.args["momentum"])


class DimLayerNorm(nn.LayerNorm):
    """`nn.LayerNorm` over dimension `dim` (batch included) instead of the last: torchvision's
    LayerNorm2d on `[batch, C, H, W]` with `dim=1`; keys `weight`, `bias` as nn.LayerNorm's."""

    def __init__(self, normalized_shape: int, dim: int, eps: float = 1e-5, bias: bool = True):
        super().__init__(normalized_shape, eps=eps, bias=bias)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(self.dim, -1)).movedim(-1, self.dim)


def _last_dim(node: Node) -> bool:
    """nn.LayerNorm's output is new; DimLayerNorm's (another dim) is a view, moved back."""
    return node.args.get("dim", len(node.shape) - 1) == len(node.shape) - 1


@builds("layernorm", fresh=_last_dim)
def _layernorm(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    dim = a.get("dim", len(ins[0]) - 1)
    if dim == len(ins[0]) - 1:
        return nn.LayerNorm(ins[0][-1], eps=a["eps"], bias=a.get("bias", True))
    return DimLayerNorm(ins[0][dim], dim + 1, eps=a["eps"], bias=a["bias"])  # skip batch


@builds("groupnorm", fresh=always)
def _groupnorm(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.GroupNorm(node.args["groups"], ins[0][0], eps=node.args["eps"])


@builds("dropout")
def _dropout(node: Node, ins: list[Shape]) -> nn.Module:
    return nn.Dropout(node.args["p"])


class Scale(nn.Module):
    """Multiplies by a learned `weight` (layer scale), `[d]` or `[C, 1, 1]`: it broadcasts over the rest.

    Bare where asked: lowering registers `weight` as a plain parameter at the
    element's path, as torchvision's CNBlock keeps `layer_scale`.
    """

    def __init__(self, shape: tuple[int, ...], init: float = 1.0):
        super().__init__()
        self.shape, self.init = tuple(shape), init
        self.weight = nn.Parameter(torch.full(self.shape, float(init)))

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x * weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.weight)


@builds("scale", bare=lambda args: args["bare"])
def _scale(node: Node, ins: list[Shape]) -> nn.Module:
    return Scale(tuple(node.args["shape"]), node.args["init"])


class DropPath(nn.Module):
    """Stochastic depth as torchvision's `StochasticDepth(p, "row")`: each sample's whole value is
    zeroed with probability `p` while training, the rest scaled by 1/(1-p); identity in eval."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        noise = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device)
        noise.bernoulli_(keep)
        if keep > 0.0:
            noise.div_(keep)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}"


@builds("drop_path")
def _drop_path(node: Node, ins: list[Shape]) -> nn.Module:
    return DropPath(node.args["p"])
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
