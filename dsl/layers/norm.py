"""Normalisation and regularisation: `batchnorm`, `layernorm`, `groupnorm`, `dropout`, `scale`, `drop_path`,
`rmsnorm`."""

from __future__ import annotations

from ..dims import fmt_shape
from .base import Args, Layer, LayerError, TensorType, concrete, positive
from .registry import register


class BatchNormArgs(Args):
    eps: float = 1e-5
    momentum: float = 0.1


class LayerNormArgs(Args):
    eps: float = 1e-5
    bias: bool = True
    dim: int = -1  # the normalised dimension: 0 for a channels-first `[C, H, W]` (ConvNeXt's LayerNorm2d)


class GroupNormArgs(Args):
    groups: int
    eps: float = 1e-5


class DropoutArgs(Args):
    p: float = 0.5


class BatchNorm(Layer):
    name = "batchnorm"
    tint = "norm"
    Args = BatchNormArgs
    layout = "channels_first"
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

    def buffers(self, args, inputs):
        return 2 * inputs[0][0] + 1  # running mean and variance, and the count of batches seen

    def label(self, a, x):
        return "batchnorm"


class LayerNorm(Layer):
    name = "layernorm"
    tint = "norm"
    Args = LayerNormArgs
    layout = "kept"
    summary = ("normalise the last dimension; `dim=0` normalises the channels of a `[C, H, W]` at each position "
               "(ConvNeXt's LayerNorm2d); `bias=false` keeps only `weight`")
    io = "shape kept"

    def infer(self, a: LayerNormArgs, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 8, "a tensor with dimensions")
        self.float_input(x)
        if not -x.rank <= a.dim < x.rank:
            raise LayerError("E310", arg="dim", dim=a.dim, got=fmt_shape(x.shape))
        concrete(x.shape[a.dim], self.name, "the normalised size")
        return x

    def params(self, a: LayerNormArgs, inputs, out, refs):
        return (2 if a.bias else 1) * inputs[0].shape[a.dim]

    def recorded(self, a: LayerNormArgs, inputs):
        return {**a.model_dump(), "dim": a.dim % inputs[0].rank}

    def label(self, a: LayerNormArgs, x):
        return "layernorm" if x is None or a.dim % x.rank == x.rank - 1 else f"layernorm dim {a.dim % x.rank}"


class GroupNorm(Layer):
    name = "groupnorm"
    tint = "norm"
    Args = GroupNormArgs
    layout = "channels_first"
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
    training_only = ("p",)
    layout = "kept"
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


class ScaleArgs(Args):
    init: float = 1.0  # every element's starting value: ConvNeXt's layer scale starts at 1e-6
    dim: int = -1  # the dimension the tensor spans; the dimensions after it broadcast (`[C, 1, 1]` for dim 0)
    bare: bool = False  # the tensor as a bare parameter at the label (torchvision's CNBlock `layer_scale`)


class Scale(Layer):
    """A learned tensor multiplied in (layer scale): one factor per index of `dim`."""
    name = "scale"
    Args = ScaleArgs
    layout = "kept"
    summary = ("multiplies by a learned tensor (layer scale) spanning `dim`, starting at `init`: `[d]` for the "
               "last dimension, `[C, 1, 1]` for `dim=0` of `[C, H, W]`; extension: `bare=true` keeps it as a bare "
               "parameter (§6)")
    io = "shape kept"

    def shape(self, a: ScaleArgs, x: TensorType) -> tuple[int, ...]:
        """The learned tensor's shape: the size of `dim`, then a 1 for each dimension after it."""
        axis = a.dim % x.rank
        return (x.shape[axis],) + (1,) * (x.rank - 1 - axis)

    def infer(self, a: ScaleArgs, inputs, refs):
        x = inputs[0]
        self.rank_between(x, 1, 8, "a tensor with dimensions")
        self.float_input(x)
        if not -x.rank <= a.dim < x.rank:
            raise LayerError("E310", arg="dim", dim=a.dim, got=fmt_shape(x.shape))
        concrete(x.shape[a.dim], self.name, "the scaled size")
        return x

    def params(self, a, inputs, out, refs):
        return inputs[0].shape[a.dim]

    def recorded(self, a: ScaleArgs, inputs):
        return {**a.model_dump(), "dim": a.dim % inputs[0].rank, "shape": list(self.shape(a, inputs[0]))}

    def label(self, a, x):
        return "× learned scale"


class DropPathArgs(Args):
    p: float


class DropPath(Layer):
    """Stochastic depth: torchvision's `StochasticDepth(p, "row")`."""
    name = "drop_path"
    Args = DropPathArgs
    training_only = ("p",)
    layout = "kept"
    summary = ("stochastic depth: while training, zero the whole value of a sample with probability `p` and "
               "scale the rest by 1/(1-p); identity in eval (torchvision's `StochasticDepth(p, \"row\")`)")
    io = "shape kept"

    def infer(self, a: DropPathArgs, inputs, refs):
        if not 0.0 <= a.p <= 1.0:
            raise LayerError("E107", arg="p", layer=self.name, name="p", expected="between 0 and 1", got=a.p)
        return inputs[0]

    def label(self, a, x):
        return f"drop_path {a.p:g}"


register(Scale())
register(DropPath())
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
