"""Multi-head attention: the packed `attention` layer, and `attend`, attention from parts.

`attention(heads, causal, dropout, memory, bias)` is self-attention over a
`[seq, d]` value, or cross-attention when `memory=` names another
`[src_len, d]` value (keys and values come from it). The parameters are laid
out as `torch.nn.MultiheadAttention`'s: `in_proj_weight [3d, d]`,
`in_proj_bias [3d]`, `out_proj.weight [d, d]`, `out_proj.bias [d]`.

`attend(q, k, v, heads, ...)` holds no parameters: it is the scaled
dot-product between values the spec projected itself (any names, biases,
widths), so `std/transformer` writes each published attention (Llama's
grouped-query and rotary, BERT's query/key/value, GPT-2's packed `c_attn`,
T5's unscaled scores with a relative bias) in the language.
"""

from __future__ import annotations

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorArg, TensorType, concrete, numel, positive
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
    training_only = ("dropout",)
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


class AttendArgs(Args):
    heads: int
    kv_heads: int | None = None  # none: as many as `heads`
    causal: bool = False
    scale: float | None = None  # none: 1/sqrt(head width)
    rotary: float | None = None  # the base θ of rotary positions (Llama's 10000); none: no rotation
    rotary_dims: int | None = None  # rotate only the first features of each head; none: all of them
    dropout: float = 0.0


class Attend(Layer):
    """Scaled dot-product attention over labelled values: `attend(q_proj, k_proj, v_proj, heads=8)`.

    Three operands are queries `[..., n, heads·h]`, keys `[..., m, kv_heads·h]`
    and values `[..., m, kv_heads·hv]`; one operand is the three packed along
    the width, queries first (GPT-2's `c_attn`). Leading dimensions (windows)
    are batch-like and must agree. The result is `[..., n, heads·hv]`, the
    heads merged again, ready for an output projection.
    """

    name = "attend"
    Args = AttendArgs
    training_only = ("dropout",)
    merge = True
    symbol = "α"  # where the diagram joins queries, keys and values: the attention weights
    tensor_args = (TensorArg("position_bias"),)
    family = "Transformer"
    summary = ("attention from parts, no parameters: queries, keys and values given as labelled values "
               "(`attend(q, k, v, heads=8)`) or one packed `[seq, 3·d]` value; `kv_heads` for grouped-query "
               "attention, `scale` (none: 1/√head width), `rotary=θ` rotary positions on the first `rotary_dims` "
               "features of each head, `position_bias=` an additive `[heads, n, m]` score bias; keys and values "
               "from another value make it cross-attention")
    io = "`[..., n, heads·h]`, `[..., m, kv·h]`, `[..., m, kv·hv]` → `[..., n, heads·hv]`"

    def infer(self, a: AttendArgs, inputs, refs):
        q, k, v = self.parts(a, inputs)
        head = q.shape[-1] // a.heads
        if a.rotary is not None and a.rotary <= 0:
            raise LayerError("E107", arg="rotary", layer=self.name, name="rotary", expected="a positive base",
                             got=a.rotary)
        if a.rotary_dims is not None:
            if a.rotary is None:
                raise LayerError("E107", arg="rotary_dims", layer=self.name, name="rotary_dims",
                                 expected="none unless `rotary=` is given", got=a.rotary_dims)
            positive([a.rotary_dims], "the number of rotated features `rotary_dims`", "rotary_dims")
            if a.rotary_dims > head:
                raise LayerError("E107", arg="rotary_dims", layer=self.name, name="rotary_dims",
                                 expected=f"at most the head width {head}", got=a.rotary_dims)
        if a.rotary is not None:
            rotated = a.rotary_dims if a.rotary_dims is not None else head
            if rotated % 2:
                what = "`rotary_dims`" if a.rotary_dims is not None else "the head width"
                raise LayerError("E331", arg="rotary_dims" if a.rotary_dims is not None else "rotary",
                                 layer=self.name, what=what, width=rotated)
        if a.scale is not None and a.scale <= 0:
            raise LayerError("E107", arg="scale", layer=self.name, name="scale", expected="a positive number",
                             got=a.scale)
        if not 0.0 <= a.dropout < 1.0:
            raise LayerError("E107", arg="dropout", layer=self.name, name="dropout",
                             expected="at least 0 and below 1", got=a.dropout)
        bias = refs.get("position_bias")
        if bias is not None:
            self._bias(a, bias, q.shape[-2], k.shape[-2])
        return TensorType((*q.shape[:-1], a.heads * (v.shape[-1] // self.kv_heads(a))), q.dtype)

    @staticmethod
    def kv_heads(a: AttendArgs) -> int:
        return a.heads if a.kv_heads is None else a.kv_heads

    def parts(self, a: AttendArgs, inputs: list[TensorType]) -> tuple[TensorType, TensorType, TensorType]:
        """The queries', keys' and values' types, the packed form split; every width checked."""
        positive([a.heads], "the number of heads", "heads")
        kv = self.kv_heads(a)
        positive([kv], "the number of key/value heads", "kv_heads")
        if a.heads % kv:
            raise LayerError("E330", arg="kv_heads", layer=self.name, heads=a.heads, kv_heads=kv)
        if len(inputs) not in (1, 3):
            raise LayerError("E332", layer=self.name,
                             what=f"it takes three values (queries, keys, values) or one packed value, "
                                  f"but receives {len(inputs)}")
        for x in inputs:
            self.rank_between(x, 2, 8, "a [..., seq, d]")
            self.float_input(x)
            concrete(x.shape[-1], self.name, "the width")
        if len(inputs) == 1:
            x = inputs[0]
            width, parts = x.shape[-1], a.heads + 2 * kv
            if width % parts:
                raise LayerError("E332", layer=self.name,
                                 what=f"a packed width {width} does not split into {a.heads} query heads and "
                                      f"{kv} key and {kv} value heads of one width")
            head = width // parts
            q = TensorType((*x.shape[:-1], a.heads * head), x.dtype)
            k = TensorType((*x.shape[:-1], kv * head), x.dtype)
            return q, k, k
        q, k, v = inputs
        width = q.shape[-1]
        if width % a.heads:
            near = " or ".join(map(str, _near_divisors(width, a.heads)))
            raise LayerError("E315", arg="heads", layer=self.name, width=width, heads=a.heads,
                             hint=f"each head takes width / heads features; use a head count that divides {width}"
                                  f", such as {near}")
        head = width // a.heads
        if k.shape[-1] != kv * head:
            raise LayerError("E332", layer=self.name,
                             what=f"the keys have width {k.shape[-1]}, but {kv} key heads of the queries' head "
                                  f"width {head} make {kv * head}")
        if v.shape[-1] % kv:
            raise LayerError("E332", layer=self.name,
                             what=f"the values' width {v.shape[-1]} does not split into {kv} heads")
        if k.shape[:-1] != v.shape[:-1]:
            raise LayerError("E332", layer=self.name,
                             what=f"keys {fmt_shape(k.shape)} and values {fmt_shape(v.shape)} differ in length")
        if q.rank != k.rank or q.shape[:-2] != k.shape[:-2]:
            raise LayerError("E332", layer=self.name,
                             what=f"queries {fmt_shape(q.shape)} and keys {fmt_shape(k.shape)} differ before "
                                  "their last two dimensions")
        return q, k, v

    def _bias(self, a: AttendArgs, bias: TensorType, n: Dim, m: Dim) -> None:
        want = fmt_shape((a.heads, n, m))
        if bias.dtype != "float":
            raise LayerError("E308", arg="position_bias", layer=f"{self.name}'s position_bias", expected="a float",
                             got=f"{bias}")
        ok = bias.rank == 3 and bias.shape[0] in (1, a.heads) and bias.shape[1] == n and bias.shape[2] == m
        if not ok:
            hint = None
            if bias.rank == 3 and bias.shape[1] == bias.shape[2] == n and m != n:
                # A query-by-query bias (`relative_bias`) on keys of another length: cross-attention.
                hint = ("a relative position bias is between positions of one sequence: cross-attention takes "
                        "none (T5's EncDecAttention adds no bias)")
            raise LayerError("E333", arg="position_bias", layer=self.name, want=want, got=fmt_shape(bias.shape),
                             hint=hint)

    def macs(self, a: AttendArgs, inputs, out, refs):
        q, k, v = self.parts(a, inputs)
        # QKᵀ: n·m products of each query head's width; AV: n·m of each value head's, per query head.
        n, m = q.shape[-2], k.shape[-2]
        return numel(q.shape[:-2]) * n * m * (q.shape[-1] + out.shape[-1])

    def kept(self, a, inputs, out, refs):
        q, k, _ = self.parts(a, inputs)
        return numel(q.shape[:-2]) * a.heads * q.shape[-2] * k.shape[-2]

    def recorded(self, a: AttendArgs, inputs):
        return {**a.model_dump(), "kv_heads": self.kv_heads(a)}

    def label(self, a: AttendArgs, x):
        kind = "causal attention" if a.causal else "attention"
        kv = self.kv_heads(a)
        extra = (f", {kv} kv" if kv != a.heads else "") + (", rotary" if a.rotary is not None else "")
        return f"{kind}, {a.heads} heads{extra}"  # `×N` is the diagram's repeat count


register(Attend())


class RelativeBiasArgs(Args):
    heads: int
    buckets: int = 32
    max_distance: int = 128
    bidirectional: bool = True


class RelativeBias(Layer):
    """T5's relative position bias (Raffel et al., 2020): `[seq, d]` → `[heads, seq, seq]`.

    Each key's offset from its query falls into one of `buckets` buckets (half
    of them per direction when `bidirectional`): exact for small offsets,
    logarithmic up to `max_distance`, the last bucket beyond. The parameter is
    the table `weight [buckets, heads]` of one learned score per bucket and
    head, Hugging Face's `relative_attention_bias`. Only the input's length is
    read, so the bias is between positions of one sequence: self-attention's
    `position_bias=`, never cross-attention's.
    """

    name = "relative_bias"
    Args = RelativeBiasArgs
    family = "Transformer"
    tint = "attention"
    summary = ("T5's relative position bias: a learned score per head for each offset bucket between positions "
               "of the input (`buckets`, exact then logarithmic up to `max_distance`, half per direction when "
               "`bidirectional`), parameter `weight [buckets, heads]`; for `attend(..., position_bias=)`")
    io = "`[seq, d]` → `[heads, seq, seq]`"

    def infer(self, a: RelativeBiasArgs, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 2, 2, "a [seq, d]")
        positive([a.heads], "the number of heads", "heads")
        # Exact buckets for offsets below half a direction's buckets, so a direction needs two or more.
        least = 4 if a.bidirectional else 2
        if a.buckets < least:
            raise LayerError("E107", arg="buckets", layer=self.name, name="buckets",
                             expected=f"at least {least} ({'two per direction' if a.bidirectional else 'two'})",
                             got=a.buckets)
        exact = (a.buckets // 2 if a.bidirectional else a.buckets) // 2
        if a.max_distance <= exact:
            raise LayerError("E107", arg="max_distance", layer=self.name, name="max_distance",
                             expected=f"above {exact} (offsets below {exact} have a bucket each)", got=a.max_distance)
        n = x.shape[0]
        return TensorType((a.heads, n, n), "float")

    def params(self, a: RelativeBiasArgs, inputs, out, refs):
        return a.buckets * a.heads

    def label(self, a: RelativeBiasArgs, x):
        return f"relative bias, {a.heads} heads"


register(RelativeBias())
