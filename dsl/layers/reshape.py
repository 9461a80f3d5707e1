"""Rearranging dimensions: `reshape`, `transpose`, `permute`; padding, slicing, centre crops and `roll`
(batch excluded)."""

from __future__ import annotations

from ..dims import Dim, fmt_shape, is_concrete
from .base import Args, Layer, LayerError, TensorType, numel, per_axis, positive
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


class PadArgs(Args):
    before: int
    after: int = 0
    dim: int = -1
    value: float = 0.0


class SliceArgs(Args):
    start: int
    end: int | None = None  # none: to the end; negative counts from the end, as Python's
    dim: int = -1


class CropArgs(Args):
    sizes: list[int]


class RollArgs(Args):
    shifts: int | list[int]
    dim: int | list[int] = -1


def _resized(x: TensorType, axis: int, size: Dim) -> TensorType:
    shape = list(x.shape)
    shape[axis] = size
    return TensorType(tuple(shape), x.dtype)


class Pad(Layer):
    """Constant padding of one dimension: a causal TCN pads `(k - 1)·dilation` before its conv."""
    name = "pad"
    Args = PadArgs
    layout = "kept"
    summary = "`before` and `after` elements of `value` added along `dim` (a causal conv pads only before)"
    io = "`dim` grows by `before + after`"

    def infer(self, a: PadArgs, inputs, refs):
        x = inputs[0]
        axis = _axis(a.dim, x.rank, "dim", x)
        positive([a.before], "the padding before", "before", zero_ok=True)
        positive([a.after], "the padding after", "after", zero_ok=True)
        return _resized(x, axis, x.shape[axis] + a.before + a.after)

    def recorded(self, a: PadArgs, inputs):
        return {**a.model_dump(), "dim": a.dim % inputs[0].rank}

    def label(self, a, x):
        return f"pad {a.before},{a.after}"


class Slice(Layer):
    """`x[start:end]` along one dimension, negative indices as Python's (steps of 1)."""
    name = "slice"
    Args = SliceArgs
    layout = "kept"
    summary = "the elements `start` to `end` (excluded) along `dim`; negative indices count from the end, as Python's"
    io = "`dim` becomes `end - start`"

    def infer(self, a: SliceArgs, inputs, refs):
        x = inputs[0]
        axis = _axis(a.dim, x.rank, "dim", x)
        size = x.shape[axis]
        if is_concrete(size):
            length: Dim = len(range(size)[a.start:a.end])
        else:  # a symbolic size: the indices are taken as within it
            start = a.start if a.start >= 0 else size + a.start
            end = size if a.end is None else (a.end if a.end >= 0 else size + a.end)
            length = end - start
        if is_concrete(length) and length <= 0:
            raise LayerError("E304", arg="start", what=f"the length of slice {self._text(a)} of {fmt_shape(x.shape)}",
                             value=length)
        return _resized(x, axis, length)

    def recorded(self, a: SliceArgs, inputs):
        return {**a.model_dump(), "dim": a.dim % inputs[0].rank}

    @staticmethod
    def _text(a: SliceArgs) -> str:
        return f"{a.start}:{'' if a.end is None else a.end}"

    def label(self, a, x):
        return f"slice {self._text(a)}"


class Crop(Layer):
    """A centre crop of the last dimensions: a U-Net's skip cut to the size of the upsampled value."""
    name = "crop"
    Args = CropArgs
    variadic = "sizes"
    layout = "kept"
    summary = ("the centre of the last `len(sizes)` dimensions, `sizes` long; an odd margin leaves its extra "
               "element at the end (a U-Net skip cut to its decoder's size)")
    io = "`[..., H, W]` → `[..., sizes...]`"

    def infer(self, a: CropArgs, inputs, refs):
        x = inputs[0]
        if not a.sizes:
            raise LayerError("E106", layer=self.name, name="sizes")
        if len(a.sizes) > x.rank:
            raise LayerError("E310", arg="sizes", dim=-len(a.sizes), got=fmt_shape(x.shape))
        positive(a.sizes, "the crop size", "sizes")
        lead = x.rank - len(a.sizes)
        for i, (size, want) in enumerate(zip(x.shape[lead:], a.sizes), start=lead):
            if is_concrete(size) and size < want:
                raise LayerError("E304", arg="sizes", what=f"the margin of crop {want} of dimension {i} "
                                 f"({size} in {fmt_shape(x.shape)})", value=size - want)
        return TensorType((*x.shape[:lead], *a.sizes), x.dtype)

    def label(self, a, x):
        return "crop " + "×".join(str(s) for s in a.sizes)


class Roll(Layer):
    """`torch.roll` along given dimensions: Swin's shifted windows."""
    name = "roll"
    Args = RollArgs
    layout = "kept"
    summary = "shift elements along `dim` by `shifts`, wrapping around (Swin's shifted windows); lists for several"
    io = "shape kept"

    def infer(self, a: RollArgs, inputs, refs):
        x = inputs[0]
        dims = [a.dim] if isinstance(a.dim, int) else list(a.dim)
        per_axis(a.shifts, len(dims), "shifts", self.name)
        for d in dims:
            _axis(d, x.rank, "dim", x)
        return x

    def recorded(self, a: RollArgs, inputs):
        dims = [a.dim] if isinstance(a.dim, int) else list(a.dim)
        rank = inputs[0].rank
        return {"shifts": list(per_axis(a.shifts, len(dims), "shifts", self.name)), "dim": [d % rank for d in dims]}

    def label(self, a, x):
        shifts = [a.shifts] if isinstance(a.shifts, int) else a.shifts
        return "roll " + ",".join(str(s) for s in shifts)


register(Pad())
register(Slice())
register(Crop())
register(Roll())
