"""Convolutions: `conv` and `conv_transpose`, 1-D/2-D/3-D by the input's rank."""

from __future__ import annotations

from typing import Literal

from ..dims import Dim, is_concrete
from .base import Args, Layer, LayerError, TensorType, concrete, numel, per_axis, positive, prod
from .registry import register

IntOrList = int | list[int]


class ConvArgs(Args):
    out: int
    kernel: IntOrList
    stride: IntOrList = 1
    padding: IntOrList | Literal["same", "valid"] = 0
    dilation: IntOrList = 1
    groups: int = 1
    bias: bool = True


class ConvTransposeArgs(Args):
    out: int
    kernel: IntOrList
    stride: IntOrList = 1
    padding: IntOrList = 0
    output_padding: IntOrList = 0
    dilation: IntOrList = 1
    groups: int = 1
    bias: bool = True


def _xs(ks: tuple[int, ...]) -> str:
    return "×".join(str(k) for k in ks)


class _ConvBase(Layer):
    family = "CNN"
    layout = "channels_first"
    takes_init_std = True

    def _geometry(self, a, x: TensorType):
        self.rank_between(x, 2, 4, "a [C, L], [C, H, W] or [C, D, H, W]",
                          hint="conv works on images and signals; `reshape` a flat vector first")
        self.float_input(x)
        n = x.rank - 1
        cin = concrete(x.shape[0], self.name, "the input channel count")
        k = per_axis(a.kernel, n, "kernel", self.name)
        s = per_axis(a.stride, n, "stride", self.name)
        d = per_axis(a.dilation, n, "dilation", self.name)
        positive([a.out], "the output channel count", "out")
        positive(k, "the kernel size", "kernel")
        positive(s, "the stride", "stride")
        positive(d, "the dilation", "dilation")
        positive([a.groups], "groups", "groups")
        if cin % a.groups:
            raise LayerError("E309", arg="groups", layer=self.name, what="input channels", value=cin, groups=a.groups)
        if a.out % a.groups:
            raise LayerError("E309", arg="groups", layer=self.name, what="output channels", value=a.out,
                             groups=a.groups)
        return n, cin, k, s, d

    def params(self, a, inputs, out, refs):
        cin = inputs[0].shape[0]
        k = per_axis(a.kernel, inputs[0].rank - 1, "kernel", self.name)
        return a.out * (cin // a.groups) * prod(k) + (a.out if a.bias else 0)


class Conv(_ConvBase):
    name = "conv"
    Args = ConvArgs
    summary = ("convolution over 1, 2 or 3 spatial axes, picked from the input's rank; `padding=\"same\"`; "
               "ints or lists for per-axis values")
    io = "`[C, L]`, `[C, H, W]`, `[C, D, H, W]` → same rank"

    def infer(self, a: ConvArgs, inputs, refs):
        x = inputs[0]
        n, cin, k, s, d = self._geometry(a, x)
        if a.padding == "same":
            if any(v != 1 for v in s):
                raise LayerError("E107", arg="padding", layer=self.name, name="padding",
                                 expected="a number when stride is not 1", got='"same"')
            return TensorType((a.out, *x.shape[1:]), x.dtype)
        p = (0,) * n if a.padding == "valid" else per_axis(a.padding, n, "padding", self.name)
        positive(p, "the padding", "padding", zero_ok=True)
        spatial: list[Dim] = []
        for size, ki, si, pi, di in zip(x.shape[1:], k, s, p, d):
            reach = di * (ki - 1) + 1
            if is_concrete(size):
                if size + 2 * pi < reach:
                    raise LayerError("E305", arg="kernel", layer=self.name, kernel=_xs(k), size=size + 2 * pi)
                spatial.append((size + 2 * pi - reach) // si + 1)
            elif si == 1:
                spatial.append(size + 2 * pi - reach + 1)
            else:
                raise LayerError("E306", layer=self.name, what="a strided axis", value=size)
        return TensorType((a.out, *spatial), x.dtype)

    def macs(self, a, inputs, out, refs):
        k = per_axis(a.kernel, inputs[0].rank - 1, "kernel", self.name)
        return numel(out.shape) * (inputs[0].shape[0] // a.groups) * prod(k)

    def label(self, a, x):
        k = per_axis(a.kernel, x.rank - 1 if x else 2, "kernel", self.name)
        text = f"conv {_xs(k)}, {a.out}"
        if a.stride != 1:
            text += f", stride {a.stride if isinstance(a.stride, int) else _xs(tuple(a.stride))}"
        if a.dilation != 1:
            text += f", dilation {a.dilation if isinstance(a.dilation, int) else _xs(tuple(a.dilation))}"
        if a.groups != 1:
            text += ", depthwise" if a.groups == a.out else f", groups {a.groups}"
        return text


class ConvTranspose(_ConvBase):
    name = "conv_transpose"
    Args = ConvTransposeArgs
    summary = "transposed convolution (learned upsampling); ints or lists for per-axis values"
    io = "as `conv`"

    def infer(self, a: ConvTransposeArgs, inputs, refs):
        x = inputs[0]
        n, cin, k, s, d = self._geometry(a, x)
        p = per_axis(a.padding, n, "padding", self.name)
        op = per_axis(a.output_padding, n, "output_padding", self.name)
        positive(p, "the padding", "padding", zero_ok=True)
        positive(op, "the output padding", "output_padding", zero_ok=True)
        spatial: list[Dim] = []
        for size, ki, si, pi, di, opi in zip(x.shape[1:], k, s, p, d, op):
            o = (size - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
            if is_concrete(o) and o <= 0:
                raise LayerError("E304", what="the output size", value=o)
            spatial.append(o)
        return TensorType((a.out, *spatial), x.dtype)

    def params(self, a, inputs, out, refs):
        cin = inputs[0].shape[0]
        k = per_axis(a.kernel, inputs[0].rank - 1, "kernel", self.name)
        return cin * (a.out // a.groups) * prod(k) + (a.out if a.bias else 0)

    def macs(self, a, inputs, out, refs):
        k = per_axis(a.kernel, inputs[0].rank - 1, "kernel", self.name)
        return numel(inputs[0].shape) * (a.out // a.groups) * prod(k)

    def label(self, a, x):
        k = a.kernel if isinstance(a.kernel, int) else _xs(tuple(a.kernel))
        return f"conv_transpose {k}, {a.out}"


register(Conv())
register(ConvTranspose())
