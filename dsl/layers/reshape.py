"""Rearranging dimensions: `reshape`, `transpose`, `permute` (batch excluded)."""

from __future__ import annotations

from ..dims import Dim, fmt_shape, is_concrete
from .base import Args, Layer, LayerError, TensorType, numel
from .registry import register


class DimsArgs(Args):
    dims: list[int]


class TransposeArgs(Args):
    a: int
    b: int


def _axis(d: int, rank: int, arg: str, x: TensorType) -> int:
    if not -rank <= d < rank:
        raise LayerError("E310", arg=arg, dim=d, got=fmt_shape(x.shape))
    return d % rank


class Reshape(Layer):
    name = "reshape"
    Args = DimsArgs
    variadic = "dims"
    summary = "same elements, new shape; dims exclude batch; one dimension may be `-1`"
    io = "`[...]` → `[dims...]`"

    def infer(self, a: DimsArgs, inputs, refs):
        x = inputs[0]
        target = list(a.dims)
        if not target:
            raise LayerError("E106", layer=self.name, name="dims")
        if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
            raise LayerError("E307", got=fmt_shape(x.shape), target=fmt_shape(target),
                             detail=": sizes must be positive, with at most one -1")
        total = numel(x.shape)
        known = numel([d for d in target if d != -1])
        if -1 in target:
            if is_concrete(total) and total % known:
                raise LayerError("E307", got=fmt_shape(x.shape), target=fmt_shape(target),
                                 detail=f": {total} elements do not divide by {known}")
            try:
                fill: Dim = total // known
            except Exception:  # a symbolic total that does not divide
                raise LayerError("E306", layer=self.name, what="the -1 dimension", value=f"{total} / {known}") from None
            target[target.index(-1)] = fill
        elif total != known:
            raise LayerError("E307", got=fmt_shape(x.shape), target=fmt_shape(target),
                             detail=f": {total} elements cannot become {known}")
        return TensorType(tuple(target), x.dtype)

    def label(self, a, x):
        return "reshape " + "×".join(str(d) for d in a.dims)


class Transpose(Layer):
    name = "transpose"
    Args = TransposeArgs
    summary = "swap two dimensions (batch excluded)"
    io = "dimensions `a` and `b` swapped"

    def infer(self, a: TransposeArgs, inputs, refs):
        x = inputs[0]
        i, j = _axis(a.a, x.rank, "a", x), _axis(a.b, x.rank, "b", x)
        shape = list(x.shape)
        shape[i], shape[j] = shape[j], shape[i]
        return TensorType(tuple(shape), x.dtype)

    def label(self, a, x):
        return f"transpose {a.a}, {a.b}"


class Permute(Layer):
    name = "permute"
    Args = DimsArgs
    variadic = "dims"
    summary = "reorder all dimensions (batch excluded)"
    io = "dimensions reordered"

    def infer(self, a: DimsArgs, inputs, refs):
        x = inputs[0]
        axes = [_axis(d, x.rank, "dims", x) for d in a.dims]
        if sorted(axes) != list(range(x.rank)):
            raise LayerError("E307", got=fmt_shape(x.shape), target=f"permute{tuple(a.dims)}",
                             detail=f": name each of the {x.rank} dimensions once")
        return TensorType(tuple(x.shape[i] for i in axes), x.dtype)

    def label(self, a, x):
        return "permute " + ", ".join(str(d) for d in a.dims)


register(Reshape())
register(Transpose())
register(Permute())
