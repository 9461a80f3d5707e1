"""The torch side of the sequence layers: embedding, positions, class token, pooling, attention.

Registered into `BUILDERS` by `compiler/torch_layers.py`, which imports this
module at its end. Every size comes from the checked node and input shapes.
`Attention` keeps `torch.nn.MultiheadAttention`'s parameter layout, so their
state_dicts load into each other with `strict=True`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dsl.graph import Node

from .torch_layers import Shape, builds


@builds("embedding")
def _embedding(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return nn.Embedding(a["vocab"], a["dim"], padding_idx=a["padding_idx"])


class LearnedPositional(nn.Module):
    """Adds `weight[:seq]` ([max_len, d]) to a `[batch, seq, d]` value.

    `bare`: the table is `[1, max_len, d]` and lowering registers it as a
    plain parameter at the element's own path (torchvision's ViT
    `encoder.pos_embedding`) — see `compiler.lower`.
    """

    def __init__(self, max_len: int, dim: int, bare: bool = False):
        super().__init__()
        self.max_len, self.dim, self.bare = max_len, dim, bare
        self.weight = nn.Parameter(torch.empty((1,) * bare + (max_len, dim)))
        nn.init.normal_(self.weight, std=0.02)

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x + weight[..., : x.shape[1], :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.weight)

    def extra_repr(self) -> str:
        return f"max_len={self.weight.shape[-2]}, dim={self.weight.shape[-1]}"


def sinusoid_table(max_len: int, dim: int) -> torch.Tensor:
    """`Attention is all you need`'s table: sin on even features, cos on odd ones."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    table = torch.zeros(max_len, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table.to(torch.get_default_dtype())


class SinusoidalPositional(nn.Module):
    """Adds a fixed sinusoid table; the table is a non-persistent buffer (not in state_dict)."""

    def __init__(self, max_len: int, dim: int):
        super().__init__()
        self.max_len, self.dim = max_len, dim
        self.register_buffer("table", sinusoid_table(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]].to(x.dtype)

    def extra_repr(self) -> str:
        return f"max_len={self.table.shape[0]}, dim={self.table.shape[1]}"


@builds("positional")
def _positional(node: Node, ins: list[Shape]) -> nn.Module:
    if node.args["learned"]:
        return LearnedPositional(node.args["max_len"], ins[0][-1], node.args["bare"])
    return SinusoidalPositional(node.args["max_len"], ins[0][-1])


class ClassToken(nn.Module):
    """Prepends one learned token ([1, 1, d]) to the sequence.

    Bare: lowering registers the token as a plain parameter at the element's
    path, as torchvision's ViT keeps `class_token`.
    """
    bare = True

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.weight = nn.Parameter(torch.zeros(1, 1, dim))

    @staticmethod
    def apply(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return torch.cat([weight.expand(x.shape[0], -1, -1), x], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply(x, self.weight)


@builds("class_token")
def _class_token(node: Node, ins: list[Shape]) -> nn.Module:
    return ClassToken(ins[0][-1])


class First(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0]


class Last(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1]


class Mean(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


@builds("first", "last", "mean")
def _pick(node: Node, ins: list[Shape]) -> nn.Module:
    return {"first": First, "last": Last, "mean": Mean}[node.layer]()


class Attention(nn.Module):
    """Multi-head attention with `nn.MultiheadAttention`'s parameters, batch first.

    `forward(x)` is self-attention; `forward(x, memory)` takes keys and values
    from `memory` (a module built with `cross=True` insists on one). Computed
    by `F.scaled_dot_product_attention`.
    """

    def __init__(self, dim: int, heads: int, causal: bool = False, dropout: float = 0.0, bias: bool = True,
                 cross: bool = False):
        super().__init__()
        self.dim, self.heads, self.causal, self.dropout, self.cross = dim, heads, causal, dropout, cross
        self.bias = bias
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(dim, dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:  # as nn.MultiheadAttention._reset_parameters
        nn.init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        if self.cross and memory is None:
            raise ValueError("this attention was built for cross-attention: pass memory=")
        kv = x if memory is None else memory
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None, None, None)
        q = F.linear(x, w_q, b_q).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        k = F.linear(kv, w_k, b_k).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        v = F.linear(kv, w_v, b_v).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                             is_causal=self.causal)
        return self.out_proj(out.transpose(1, 2).flatten(-2))

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, heads={self.heads}, causal={self.causal}, dropout={self.dropout}"
                + (", cross=True" if self.cross else ""))


@builds("attention")
def _attention(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return Attention(ins[0][-1], a["heads"], causal=a["causal"], dropout=a["dropout"], bias=a["bias"],
                     cross="memory" in node.refs)
