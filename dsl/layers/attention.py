"""Multi-head attention: `attention(heads, causal, dropout, memory, bias)`.

Self-attention over a `[seq, d]` value, or cross-attention when `memory=`
names another `[src_len, d]` value (keys and values come from it). The
parameters are laid out as `torch.nn.MultiheadAttention`'s: `in_proj_weight
[3d, d]`, `in_proj_bias [3d]`, `out_proj.weight [d, d]`, `out_proj.bias [d]`.
"""

from __future__ import annotations

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorArg, positive
from .registry import register
from .sequence import sequence_input


class AttentionArgs(Args):
    heads: int
    causal: bool = False
    dropout: float = 0.0
    bias: bool = True


def _near_divisors(width: int, heads: int) -> list[int]:
    """The divisors of `width` just below and just above `heads`."""
    below = [k for k in range(min(heads, width), 0, -1) if width % k == 0][:1]
    above = [k for k in range(heads + 1, width + 1) if width % k == 0][:1]
    return below + above


class Attention(Layer):
    name = "attention"
    Args = AttentionArgs
    tensor_args = (TensorArg("memory"),)
    family = "Transformer"
    summary = ("multi-head self-attention; with `memory=value` it is cross-attention (keys and values from "
               "`memory`); parameters laid out as `torch.nn.MultiheadAttention` (`in_proj_weight`, `in_proj_bias`, "
               "`out_proj`)")
    io = "`[seq, d]` → `[seq, d]`"

    def infer(self, a: AttentionArgs, inputs, refs):
        x = sequence_input(self, inputs[0])
        width = x.shape[-1]
        positive([a.heads], "the number of heads", "heads")
        if width % a.heads:
            near = " or ".join(map(str, _near_divisors(width, a.heads)))
            raise LayerError("E315", arg="heads", layer=self.name, width=width, heads=a.heads,
                             hint=f"each head takes width / heads features; use a head count that divides {width}"
                                  f", such as {near}")
        if not 0.0 <= a.dropout < 1.0:
            raise LayerError("E107", arg="dropout", layer=self.name, name="dropout",
                             expected="at least 0 and below 1", got=a.dropout)
        memory = refs.get("memory")
        if memory is not None:
            if memory.rank != 2:
                raise LayerError("E301", arg="memory", layer=f"{self.name}'s memory", expected="a [src_len, d]",
                                 got=fmt_shape(memory.shape))
            if memory.dtype != "float":
                raise LayerError("E308", arg="memory", layer=f"{self.name}'s memory", expected="a float",
                                 got=f"{memory}", hint="integer ids go through `embedding` first")
            if memory.shape[-1] != width:
                raise LayerError("E316", arg="memory", layer=self.name, got=memory.shape[-1], width=width)
        return x

    def params(self, a, inputs, out, refs):
        d = inputs[0].shape[-1]
        return 4 * d * d + (4 * d if a.bias else 0)

    def macs(self, a: AttentionArgs, inputs, out, refs):
        n, d = inputs[0].shape
        memory = refs.get("memory")
        return attention_macs(n, memory.shape[0] if memory is not None else n, d)

    def kept(self, a, inputs, out, refs):
        memory = refs.get("memory")
        return a.heads * out.shape[0] * (memory.shape[0] if memory is not None else out.shape[0])

    def label(self, a, x):
        kind = "causal attention" if a.causal else "attention"
        return f"{kind}, {a.heads} heads"  # `×N` is the diagram's repeat count


def attention_macs(n: Dim, m: Dim, d: Dim) -> Dim:
    """Projections n·d² (q) + 2·m·d² (k, v) + n·d² (out), products 2·n·m·d (QKᵀ and AV)."""
    return 2 * n * d * d + 2 * m * d * d + 2 * n * m * d


register(Attention())
