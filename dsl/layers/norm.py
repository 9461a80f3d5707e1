"""Normalisation and regularisation: `batchnorm`, `layernorm`, `groupnorm`, `dropout`, `rmsnorm`."""

from __future__ import annotations

from .base import Args, Layer, LayerError, concrete, positive
from .registry import register


class BatchNormArgs(Args):
    eps: float = 1e-5
    momentum: float = 0.1


class LayerNormArgs(Args):
    eps: float = 1e-5


class GroupNormArgs(Args):
    groups: int
    eps: float = 1e-5


class DropoutArgs(Args):
    p: float = 0.5


class BatchNorm(Layer):
    name = "batchnorm"
    Args = BatchNormArgs
    summary = "normalise each channel over the batch; 1-D/2-D/3-D picked from the rank"
    io = "shape kept"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 4, "a [C], [C, L], [C, H, W] or [C, D, H, W]")
        self.float_input(x)
        concrete(x.shape[0], self.name, "the channel count")
        return x

    def params(self, a, inputs, out, refs):
        return 2 * inputs[0].shape[0]

    def label(self, a, x):
        return "batchnorm"


class LayerNorm(Layer):
    name = "layernorm"
    Args = LayerNormArgs
    summary = "normalise the last dimension"
    io = "shape kept"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 8, "a tensor with dimensions")
        self.float_input(x)
        concrete(x.shape[-1], self.name, "the normalised size")
        return x

    def params(self, a, inputs, out, refs):
        return 2 * inputs[0].shape[-1]


class GroupNorm(Layer):
    name = "groupnorm"
    Args = GroupNormArgs
    summary = "normalise groups of channels"
    io = "shape kept"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 4, "a [C, ...] input")
        self.float_input(x)
        c = concrete(x.shape[0], self.name, "the channel count")
        positive([a.groups], "groups", "groups")
        if c % a.groups:
            raise LayerError("E309", arg="groups", layer=self.name, what="channels", value=c, groups=a.groups)
        return x

    def params(self, a, inputs, out, refs):
        return 2 * inputs[0].shape[0]

    def label(self, a, x):
        return f"groupnorm {a.groups}"


class Dropout(Layer):
    name = "dropout"
    Args = DropoutArgs
    summary = "zero random elements while training"
    io = "shape kept"

    def infer(self, a, inputs, refs):
        if not 0.0 <= a.p <= 1.0:
            raise LayerError("E107", arg="p", layer=self.name, name="p", expected="between 0 and 1", got=a.p)
        return inputs[0]

    def label(self, a, x):
        return f"dropout {a.p:g}"


for _layer in (BatchNorm(), LayerNorm(), GroupNorm(), Dropout()):
    register(_layer)


class RMSNormArgs(Args):
    eps: float = 1e-6


class RMSNorm(Layer):
    """Root-mean-square normalisation (Llama's `LlamaRMSNorm`, T5's `T5LayerNorm`): a scale, no mean, no bias."""

    name = "rmsnorm"
    Args = RMSNormArgs
    summary = ("divide the last dimension by its root mean square, then scale (`weight`, no bias); computed in "
               "float32, as Llama's and T5's norms are")
    io = "shape kept"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 8, "a tensor with dimensions")
        self.float_input(x)
        concrete(x.shape[-1], self.name, "the normalised size")
        if a.eps <= 0:
            raise LayerError("E107", arg="eps", layer=self.name, name="eps", expected="a positive number", got=a.eps)
        return x

    def params(self, a, inputs, out, refs):
        return inputs[0].shape[-1]


register(RMSNorm())
