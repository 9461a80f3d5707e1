"""Merges of several values: `add`, `mul` (broadcasting, also with a constant), `concat` and `matmul`."""

from __future__ import annotations

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorType, numel
from .registry import register


class ConcatArgs(Args):
    dim: int | None = None


class ConstantArgs(Args):
    constant: float | None = None  # a number among the operands: `mul(0.044)`, `add(x, 1.0)`


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
    Args = ConstantArgs
    merge = True
    constants = True
    layout = "kept"
    io = "values that broadcast → the broadcast shape"
    sign: str  # how the label writes a constant operand: `× 0.044`

    def infer(self, a: ConstantArgs, inputs, refs):
        if len(inputs) < (1 if a.constant is not None else 2):
            raise LayerError("E311", layer=self.name)
        for x in inputs:
            self.float_input(x)
        return TensorType(broadcast([x.shape for x in inputs], self.name), inputs[0].dtype)

    def label(self, a: ConstantArgs, x):
        if a.constant is None:
            return self.symbol or self.name
        return f"{self.sign} {a.constant:g}"


class Add(_Elementwise):
    name = "add"
    summary = "element-wise sum (⊕), broadcasting; a merge (§4); a number among the operands adds it: `add(1.0)`"
    symbol = "⊕"
    sign = "+"


class Mul(_Elementwise):
    name = "mul"
    summary = ("element-wise product (⊗), broadcasting; a merge (§4); a number among the operands scales: "
               "`mul(0.044)`")
    symbol = "⊗"
    sign = "×"


class Concat(Layer):
    name = "concat"
    Args = ConcatArgs
    merge = True
    summary = "join along a dimension (‖): dim 0 for images, the last for sequences; a merge (§4)"
    io = "values equal but along `dim` → summed along `dim`"
    symbol = "‖"
    layout = "kept"

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


class MatMul(Layer):
    """`[..., n, k] @ [..., k, m]`: the batch dimensions before the last two broadcast, as `torch.matmul`'s."""
    name = "matmul"
    merge = True
    summary = "matrix product of two values (`a @ b`), the leading dimensions broadcasting; a merge (§4)"
    io = "`[..., n, k]`, `[..., k, m]` → `[..., n, m]`"
    symbol = "@"

    def infer(self, a, inputs, refs):
        if len(inputs) != 2:
            raise LayerError("E311" if len(inputs) < 2 else "E303", layer=self.name, left=fmt_shape(inputs[0].shape),
                             right=fmt_shape(inputs[-1].shape), detail=": it multiplies exactly two values")
        x, y = inputs
        for v in inputs:
            self.float_input(v)
            self.rank_between(v, 2, 8, "a matrix [..., n, k]",
                              hint="a vector is a matrix of one row: `reshape(1, -1)`" if v.rank < 2 else None)
        if x.shape[-1] != y.shape[-2]:
            raise LayerError("E303", layer=self.name, left=fmt_shape(x.shape), right=fmt_shape(y.shape),
                             detail=f": the inner sizes differ ({x.shape[-1]} against {y.shape[-2]})",
                             hint="the last dimension of the first must be the second-to-last of the other")
        lead = broadcast([x.shape[:-2], y.shape[:-2]], self.name) if x.rank > 2 or y.rank > 2 else ()
        return TensorType((*lead, x.shape[-2], y.shape[-1]), x.dtype)

    def macs(self, a, inputs, out, refs):
        return numel(out.shape) * inputs[0].shape[-1]

    def label(self, a, x):
        return "matmul"


register(MatMul())
