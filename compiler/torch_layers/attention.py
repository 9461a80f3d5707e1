"""The torch half of `attention`: multi-head attention with `nn.MultiheadAttention`'s parameters.

`Attention` keeps `torch.nn.MultiheadAttention`'s parameter layout, so their
state_dicts load into each other with `strict=True`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dsl.graph import Node

from .registry import Shape, builds


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
