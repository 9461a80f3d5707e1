"""The torch half of `attention` and `attend`.

`Attention` keeps `torch.nn.MultiheadAttention`'s parameter layout, so their
state_dicts load into each other with `strict=True`. `Attend` has no
parameters: the scaled dot-product between projections the spec made itself,
with grouped-query heads, rotary positions (Llama's rotate-half convention)
and an additive score bias (T5's relative positions).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from archlang.dsl.graph import Node
from torch import nn

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
        # One product for the projections that read the same value (all three in self-attention, keys and
        # values in cross-attention), as nn.MultiheadAttention packs them: one larger matrix product is faster.
        if memory is None:
            q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            w_q, w_kv = self.in_proj_weight.split((self.dim, 2 * self.dim))
            b_q, b_kv = (self.in_proj_bias.split((self.dim, 2 * self.dim)) if self.in_proj_bias is not None
                         else (None, None))
            q = F.linear(x, w_q, b_q)
            k, v = F.linear(memory, w_kv, b_kv).chunk(2, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))
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


def rotary(x: torch.Tensor, base: float, dims: int) -> torch.Tensor:
    """Rotary positions on the first `dims` features of each head of `x` `[..., seq, head]`, positions 0…seq-1.

    Hugging Face's Llama convention: the angles are computed in float32, and
    feature i is paired with feature i + dims/2 ("rotate half").
    """
    half = torch.arange(0, dims, 2, dtype=torch.int64, device=x.device).float() / dims
    inv_freq = 1.0 / (base ** half)
    angles = torch.outer(torch.arange(x.shape[-2], device=x.device, dtype=torch.float32), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    turned, kept = x[..., :dims], x[..., dims:]
    first, second = turned[..., : dims // 2], turned[..., dims // 2:]
    turned = turned * cos + torch.cat((-second, first), dim=-1) * sin
    return torch.cat((turned, kept), dim=-1)


class Attend(nn.Module):
    """Scaled dot-product attention over projections made elsewhere: `forward(q, k, v)` or `forward(qkv)`.

    Values are batch-first `[batch, ..., seq, width]`; the width splits into
    heads (`kv_heads` of them for keys and values, each shared by
    heads / kv_heads query heads). `position_bias` `[batch, heads or 1, n, m]`
    is added to the scores. Computed by `F.scaled_dot_product_attention`.
    """

    def __init__(self, heads: int, kv_heads: int | None = None, causal: bool = False, scale: float | None = None,
                 rotary: float | None = None, rotary_dims: int | None = None, dropout: float = 0.0,
                 packed: bool = False):
        super().__init__()
        self.heads, self.kv_heads, self.causal, self.scale = heads, kv_heads or heads, causal, scale
        self.rotary, self.rotary_dims, self.dropout, self.packed = rotary, rotary_dims, dropout, packed

    def forward(self, *xs: torch.Tensor, position_bias: torch.Tensor | None = None) -> torch.Tensor:
        if self.packed:
            (qkv,) = xs
            head = qkv.shape[-1] // (self.heads + 2 * self.kv_heads)
            q, k, v = qkv.split([self.heads * head, self.kv_heads * head, self.kv_heads * head], dim=-1)
        else:
            q, k, v = xs
        q = q.unflatten(-1, (self.heads, -1)).transpose(-3, -2)  # [batch, ..., heads, n, head]
        k = k.unflatten(-1, (self.kv_heads, -1)).transpose(-3, -2)
        v = v.unflatten(-1, (self.kv_heads, -1)).transpose(-3, -2)
        if self.rotary is not None:
            dims = self.rotary_dims or q.shape[-1]
            q, k = rotary(q, self.rotary, dims), rotary(k, self.rotary, dims)
        if self.kv_heads != self.heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=-3)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=-3)
        mask = None
        if position_bias is not None:
            # [batch, heads, n, m] broadcast over any window dimensions between batch and heads: those move
            # in front of the batch (and back after), which needs no rank, so `torch.fx` traces it too.
            q, k, v = q.movedim(0, -4), k.movedim(0, -4), v.movedim(0, -4)
            mask = position_bias.to(q.dtype)
            if self.causal:
                n, m = q.shape[-2], k.shape[-2]
                above = q.new_ones(n, m, dtype=torch.bool).tril().logical_not()
                mask = mask.masked_fill(above, float("-inf"))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0,
                                             is_causal=self.causal and mask is None, scale=self.scale)
        if position_bias is not None:
            out = out.movedim(-4, 0)
        return out.transpose(-3, -2).flatten(-2)

    def extra_repr(self) -> str:
        return (f"heads={self.heads}, kv_heads={self.kv_heads}, causal={self.causal}, scale={self.scale}, "
                f"rotary={self.rotary}, rotary_dims={self.rotary_dims}, dropout={self.dropout}, packed={self.packed}")


@builds("attend")
def _attend(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return Attend(a["heads"], a["kv_heads"], causal=a["causal"], scale=a["scale"], rotary=a["rotary"],
                  rotary_dims=a["rotary_dims"], dropout=a["dropout"], packed=len(ins) == 1)


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool, buckets: int,
                             max_distance: int) -> torch.Tensor:
    """The bucket of each offset (key position − query position), as Hugging Face's
    `T5Attention._relative_position_bucket`: exact for small offsets, logarithmic up to `max_distance`."""
    out = torch.zeros_like(relative_position)
    if bidirectional:
        buckets //= 2
        out += (relative_position > 0).to(torch.long) * buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    exact = buckets // 2
    small = relative_position < exact
    large = exact + (torch.log(relative_position.float() / exact) / math.log(max_distance / exact)
                     * (buckets - exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, buckets - 1))
    return out + torch.where(small, relative_position, large)


class RelativeBias(nn.Module):
    """T5's relative position bias `[batch, heads, n, n]` for a `[batch, n, d]` input, from the table
    `weight [buckets, heads]` (`T5Attention.compute_bias`); the batch is a broadcast view."""

    def __init__(self, heads: int, buckets: int = 32, max_distance: int = 128, bidirectional: bool = True):
        super().__init__()
        self.heads, self.buckets, self.max_distance, self.bidirectional = heads, buckets, max_distance, bidirectional
        self.weight = nn.Parameter(torch.empty(buckets, heads))
        nn.init.normal_(self.weight)  # as nn.Embedding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-2]
        pos = torch.arange(n, dtype=torch.long, device=self.weight.device)
        buckets = relative_position_bucket(pos[None, :] - pos[:, None], self.bidirectional, self.buckets,
                                           self.max_distance)
        bias = F.embedding(buckets, self.weight).permute(2, 0, 1)  # [heads, n (queries), n (keys)]
        return bias.unsqueeze(0).expand(x.shape[0], -1, -1, -1)

    def extra_repr(self) -> str:
        return (f"heads={self.heads}, buckets={self.buckets}, max_distance={self.max_distance}, "
                f"bidirectional={self.bidirectional}")


@builds("relative_bias")
def _relative_bias(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    return RelativeBias(a["heads"], a["buckets"], a["max_distance"], a["bidirectional"])
