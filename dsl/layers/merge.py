"""Merges of several values: `add`, `mul` (broadcasting) and `concat`."""

from __future__ import annotations

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorType
from .registry import register


class ConcatArgs(Args):
    dim: int | None = None


def broadcast(shapes: list[tuple[Dim, ...]], layer: str) -> tuple[Dim, ...]:
    """NumPy broadcasting, batch excluded."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(rank):
        sizes = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        wide = [d for d in sizes if d != 1]
        if any(d != wide[0] for d in wide):
            a, b = shapes[0], next(s for s in shapes[1:])
            other = next(d for d in wide if d != wide[0])
            raise LayerError("E303", layer=layer, left=fmt_shape(a), right=fmt_shape(b),
                             detail=f": dimension {i - rank} is {wide[0]} against {other}",
                             hint="shapes broadcast when each dimension is equal or 1")
        out.append(wide[0] if wide else 1)
    return tuple(out)


class _Elementwise(Layer):
    merge = True
    io = "values that broadcast → the broadcast shape"

    def infer(self, a, inputs, refs):
        if len(inputs) < 2:
            raise LayerError("E311", layer=self.name)
        for x in inputs:
            self.float_input(x)
        return TensorType(broadcast([x.shape for x in inputs], self.name), inputs[0].dtype)


class Add(_Elementwise):
    name = "add"
    summary = "element-wise sum (⊕), broadcasting; a merge (§4)"
    symbol = "⊕"


class Mul(_Elementwise):
    name = "mul"
    summary = "element-wise product (⊗), broadcasting; a merge (§4)"
    symbol = "⊗"


class Concat(Layer):
    name = "concat"
    Args = ConcatArgs
    merge = True
    summary = "join along a dimension (‖): dim 0 for images, the last for sequences; a merge (§4)"
    io = "values equal but along `dim` → summed along `dim`"
    symbol = "‖"

    def axis(self, a: ConcatArgs, rank: int) -> int:
        if a.dim is not None:
            return a.dim % rank
        return rank - 1 if rank == 2 else 0

    def infer(self, a: ConcatArgs, inputs, refs):
        if len(inputs) < 2:
            raise LayerError("E311", layer=self.name)
        first = inputs[0]
        for x in inputs[1:]:
            if x.rank != first.rank:
                raise LayerError("E303", layer=self.name, left=fmt_shape(first.shape), right=fmt_shape(x.shape),
                                 detail=": their ranks differ")
        if a.dim is not None and not -first.rank <= a.dim < first.rank:
            raise LayerError("E310", arg="dim", dim=a.dim, got=fmt_shape(first.shape))
        axis = self.axis(a, first.rank)
        total: Dim = 0
        for x in inputs:
            for i, (d1, d2) in enumerate(zip(first.shape, x.shape)):
                if i != axis and d1 != d2:
                    raise LayerError("E303", layer=self.name, left=fmt_shape(first.shape), right=fmt_shape(x.shape),
                                     detail=f" along dimension {axis}: dimension {i} differs ({d1} against {d2})")
            total = total + x.shape[axis]
        shape = list(first.shape)
        shape[axis] = total
        return TensorType(tuple(shape), first.dtype)

    def recorded(self, a: ConcatArgs, inputs):
        return {"dim": self.axis(a, inputs[0].rank)}


for _layer in (Add(), Mul(), Concat()):
    register(_layer)
