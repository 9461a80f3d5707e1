"""Sequences of vectors: `embedding`, `positional`, `class_token`, `first`, `last`, `mean`.

A sequence value is `[seq, d]` (batch excluded, batch-first); `seq` may be a
symbol. Integer ids `int[seq]` become vectors through `embedding`.
"""

from __future__ import annotations

from ..dims import fmt_shape, is_concrete
from .base import Args, Layer, LayerError, TensorArg, TensorType, concrete, positive
from .registry import register


class EmbeddingArgs(Args):
    vocab: int
    dim: int
    padding_idx: int | None = None


class PositionalArgs(Args):
    max_len: int
    learned: bool = True
    bare: bool = False  # the table as a bare parameter [1, max_len, d] at the label (torchvision's ViT)


def sequence_input(layer: Layer, x: TensorType) -> TensorType:
    """A `[seq, d]` float value whose width `d` is concrete."""
    layer.rank_between(x, 2, 2, "a [seq, d]",
                       hint="flatten the other dimensions into the width first" if x.rank > 2 else None)
    layer.float_input(x)
    concrete(x.shape[-1], layer.name, "the width")
    return x


class Embedding(Layer):
    name = "embedding"
    Args = EmbeddingArgs
    takes_init_std = True
    # One table read by two inputs (T5's `shared` as `encoder.embed_tokens` and `decoder.embed_tokens`).
    tensor_args = (TensorArg("tie", weight=True),)
    summary = "integer ids → vectors; `tie=` reads another embedding's table (one tensor, counted once)"
    io = "`int[seq]` → `[seq, dim]`"

    def infer(self, a: EmbeddingArgs, inputs, refs):
        x = inputs[0]
        if x.dtype != "int":
            raise LayerError("E308", layer=self.name, expected="an integer", got=f"{x}",
                             hint="declare the ids as integers: `input tokens: int[seq]`")
        self.rank_between(x, 1, 7, "an int[seq]")
        positive([a.vocab], "the vocabulary size", "vocab")
        positive([a.dim], "the embedding width", "dim")
        if a.padding_idx is not None and not -a.vocab <= a.padding_idx < a.vocab:
            raise LayerError("E403", arg="padding_idx", index=a.padding_idx,
                             what=f"a vocabulary of {a.vocab}")
        tied = refs.get("tie")
        if tied is not None and tied.shape != (a.vocab, a.dim):
            raise LayerError("E319", arg="tie", layer=self.name, want=fmt_shape((a.vocab, a.dim)),
                             got=fmt_shape(tied.shape),
                             hint=f"a shared table is read as it is: give this embedding its size, "
                                  f"`embedding({tied.shape[0]}, {tied.shape[-1]}, tie=...)`")
        return TensorType((*x.shape, a.dim), "float")

    def params(self, a, inputs, out, refs):
        # A shared table belongs to the embedding it is tied to and counts there, once.
        return 0 if "tie" in refs else a.vocab * a.dim

    def weight(self, a, inputs, out):
        return (a.vocab, a.dim)

    def label(self, a, x):
        return f"embedding {a.vocab}, {a.dim}"


class Positional(Layer):
    name = "positional"
    Args = PositionalArgs
    summary = ("adds learned (`weight` `[max_len, d]`) or sinusoidal positions; extension: `bare=true` keeps a "
               "learned table as a bare parameter `[1, max_len, d]` (§6)")
    io = "`[seq, d]` → `[seq, d]`"

    def infer(self, a: PositionalArgs, inputs, refs):
        x = sequence_input(self, inputs[0])
        positive([a.max_len], "the number of positions `max_len`", "max_len")
        seq = x.shape[0]
        if is_concrete(seq) and seq > a.max_len:
            raise LayerError("E314", arg="max_len", layer=self.name, max_len=a.max_len, seq=seq)
        if a.bare and not a.learned:
            raise LayerError("E107", arg="bare", layer=self.name, name="bare", got="true",
                             expected="false for sinusoidal positions, which have no table to store")
        return x

    def params(self, a, inputs, out, refs):
        return a.max_len * inputs[0].shape[-1] if a.learned else 0

    def label(self, a, x):
        return "positional" if a.learned else "positional (sinusoidal)"


class ClassToken(Layer):
    name = "class_token"
    summary = "prepends one learned token, a bare parameter `[1, 1, d]` (§6)"
    io = "`[seq, d]` → `[seq+1, d]`"

    def infer(self, a, inputs, refs):
        x = sequence_input(self, inputs[0])
        return TensorType((x.shape[0] + 1, x.shape[1]), x.dtype)

    def params(self, a, inputs, out, refs):
        return inputs[0].shape[-1]

    def label(self, a, x):
        return "+ class token"


class _Pick(Layer):
    """`[seq, d]` → `[d]`: one position, or the average over positions."""
    io = "`[seq, d]` → `[d]`"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 2, 2, "a [seq, d]",
                          hint="these pick from a sequence; use `global_avgpool` for images" if x.rank > 2 else None)
        if self.name == "mean":
            self.float_input(x)
        return TensorType(x.shape[1:], x.dtype)


class First(_Pick):
    name = "first"
    summary = "the first position of a sequence"


class Last(_Pick):
    name = "last"
    summary = "the last position of a sequence"


class ReduceArgs(Args):
    dim: int | list[int] | None = None  # none: `mean`'s sequence form, `[seq, d]` → `[d]`
    keepdim: bool = False


def reduce(layer: Layer, a: ReduceArgs, x: TensorType) -> TensorType:
    """`x` with the dimensions `a.dim` reduced: removed, or kept as 1 with `keepdim`."""
    layer.rank_between(x, 1, 8, "a tensor with dimensions")
    layer.float_input(x)
    dims = [a.dim] if isinstance(a.dim, int) else list(a.dim or [])
    if not dims:
        raise LayerError("E106", layer=layer.name, name="dim")
    axes = set()
    for d in dims:
        if not -x.rank <= d < x.rank:
            raise LayerError("E310", arg="dim", dim=d, got=fmt_shape(x.shape))
        axes.add(d % x.rank)
    if a.keepdim:
        return TensorType(tuple(1 if i in axes else s for i, s in enumerate(x.shape)), x.dtype)
    return TensorType(tuple(s for i, s in enumerate(x.shape) if i not in axes), x.dtype)


def dims_text(dim: int | list[int]) -> str:
    return str(dim) if isinstance(dim, int) else ",".join(str(d) for d in dim)


def reduce_recorded(a: ReduceArgs, x: TensorType) -> dict:
    if a.dim is None:
        return a.model_dump()
    dims = [a.dim] if isinstance(a.dim, int) else list(a.dim)
    return {"dim": sorted({d % x.rank for d in dims}), "keepdim": a.keepdim}


class Mean(_Pick):
    name = "mean"
    Args = ReduceArgs
    summary = ("the average over a sequence; with `dim=` (an int or a list) the average over those dimensions "
               "of any value, `keepdim=true` keeping them as 1")
    io = "`[seq, d]` → `[d]`; `dim` removed"

    def infer(self, a: ReduceArgs, inputs, refs):
        if a.dim is None and not a.keepdim:
            return super().infer(a, inputs, refs)
        if a.dim is None:
            raise LayerError("E106", layer=self.name, name="dim")
        return reduce(self, a, inputs[0])

    def recorded(self, a: ReduceArgs, inputs):
        return reduce_recorded(a, inputs[0])

    def label(self, a: ReduceArgs, x):
        return "mean" if a.dim is None else f"mean dim {dims_text(a.dim)}"


for _layer in (Embedding(), Positional(), ClassToken(), First(), Last(), Mean()):
    register(_layer)


class SumArgs(Args):
    dim: int | list[int]
    keepdim: bool = False


class Sum(Layer):
    name = "sum"
    Args = SumArgs
    summary = "the sum over the dimensions `dim` (an int or a list); `keepdim=true` keeps them as 1"
    io = "`dim` removed (or 1)"

    def infer(self, a: SumArgs, inputs, refs):
        return reduce(self, ReduceArgs(dim=a.dim, keepdim=a.keepdim), inputs[0])

    def recorded(self, a: SumArgs, inputs):
        return reduce_recorded(ReduceArgs(dim=a.dim, keepdim=a.keepdim), inputs[0])

    def label(self, a: SumArgs, x):
        return f"sum dim {dims_text(a.dim)}"


register(Sum())
