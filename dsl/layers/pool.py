"""Pooling: windowed (`maxpool`, `avgpool`), adaptive, and global average."""

from __future__ import annotations

from ..dims import Dim, is_concrete
from .base import Args, Layer, LayerError, TensorType, per_axis, positive
from .conv import IntOrList, _xs
from .registry import register


class PoolArgs(Args):
    kernel: IntOrList
    stride: IntOrList | None = None  # defaults to the kernel, as in torch.nn
    padding: IntOrList = 0
    ceil_mode: bool = False


class AdaptiveArgs(Args):
    size: IntOrList


class _Pool(Layer):
    Args = PoolArgs
    layout = "channels_first"
    io = "spatial: `[C, ...]` → `[C, ...]` pooled"

    def infer(self, a: PoolArgs, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 2, 4, "a [C, L], [C, H, W] or [C, D, H, W]")
        self.float_input(x)
        n = x.rank - 1
        k = per_axis(a.kernel, n, "kernel", self.name)
        s = per_axis(a.stride if a.stride is not None else a.kernel, n, "stride", self.name)
        p = per_axis(a.padding, n, "padding", self.name)
        positive(k, "the kernel size", "kernel")
        positive(s, "the stride", "stride")
        positive(p, "the padding", "padding", zero_ok=True)
        if any(pi * 2 > ki for pi, ki in zip(p, k)):
            raise LayerError("E107", arg="padding", layer=self.name, name="padding",
                             expected="at most half the kernel", got=str(a.padding))
        spatial: list[Dim] = []
        for size, ki, si, pi in zip(x.shape[1:], k, s, p):
            if not is_concrete(size):
                if si != 1:
                    raise LayerError("E306", layer=self.name, what="a strided axis", value=size)
                spatial.append(size + 2 * pi - ki + 1)
                continue
            if size + 2 * pi < ki:
                raise LayerError("E305", arg="kernel", layer=self.name, kernel=_xs(k), size=size + 2 * pi)
            span = size + 2 * pi - ki
            o = (-(-span // si) if a.ceil_mode else span // si) + 1
            if a.ceil_mode and (o - 1) * si >= size + pi:
                o -= 1  # torch drops a last window that starts in the padding
            spatial.append(o)
        return TensorType((x.shape[0], *spatial), x.dtype)

    def label(self, a, x):
        k = per_axis(a.kernel, x.rank - 1 if x else 2, "kernel", self.name)
        return f"{self.name} {_xs(k)}"


class MaxPool(_Pool):
    name = "maxpool"
    summary = "max over sliding windows; `stride=none` is the kernel; extension: `ceil_mode`"


class AvgPool(_Pool):
    name = "avgpool"
    summary = "average over sliding windows; `stride=none` is the kernel; extension: `ceil_mode`"


class _Adaptive(Layer):
    Args = AdaptiveArgs
    layout = "channels_first"

    def infer(self, a: AdaptiveArgs, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 2, 4, "a [C, L], [C, H, W] or [C, D, H, W]")
        self.float_input(x)
        size = per_axis(a.size, x.rank - 1, "size", self.name)
        positive(size, "the output size", "size")
        return TensorType((x.shape[0], *size), x.dtype)

    def label(self, a, x):
        return f"{self.name} {a.size if isinstance(a.size, int) else _xs(tuple(a.size))}"


class AdaptiveAvgPool(_Adaptive):
    name = "adaptive_avgpool"
    summary = "average down to a fixed spatial size"
    io = "spatial → `size`"


class AdaptiveMaxPool(_Adaptive):
    name = "adaptive_maxpool"
    summary = "max down to a fixed spatial size"
    io = "spatial → `size`"


class GlobalAvgPool(Layer):
    name = "global_avgpool"
    layout = "channels_first"
    summary = "average over all spatial positions: `adaptive_avgpool(1)`"
    io = "spatial → `1` on each spatial axis"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 2, 4, "a [C, L], [C, H, W] or [C, D, H, W]")
        self.float_input(x)
        return TensorType((x.shape[0],) + (1,) * (x.rank - 1), x.dtype)

    def label(self, a, x):
        return "global average pool"


for _layer in (MaxPool(), AvgPool(), AdaptiveAvgPool(), AdaptiveMaxPool(), GlobalAvgPool()):
    register(_layer)
