"""Element-wise activations: shape kept, no parameters."""

from __future__ import annotations

from typing import Literal

from .base import Args, Layer, LayerError
from .registry import register


class LeakyArgs(Args):
    slope: float = 0.01


class SoftmaxArgs(Args):
    dim: int = -1


class GeluArgs(Args):
    approximate: Literal["none", "tanh"] = "none"  # "tanh": GPT-2's and BERT's original approximation


class Activation(Layer):
    io = "shape kept"
    layout = "kept"

    def __init__(self, name: str, summary: str):
        self.name = name
        self.summary = summary

    def infer(self, a, inputs, refs):
        self.float_input(inputs[0])
        return inputs[0]


class LeakyRelu(Activation):
    Args = LeakyArgs

    def label(self, a, x):
        return f"leaky_relu {a.slope:g}"


class Gelu(Activation):
    Args = GeluArgs

    def label(self, a, x):
        return "gelu" if a.approximate == "none" else "gelu (tanh)"


class Softmax(Activation):
    Args = SoftmaxArgs

    def infer(self, a, inputs, refs):
        x = inputs[0]
        self.float_input(x)
        if not -x.rank <= a.dim < x.rank:
            raise LayerError("E310", arg="dim", dim=a.dim, got=str(x))
        return x


for _name, _summary in [
    ("relu", "max(x, 0)"), ("relu6", "min(max(x, 0), 6); extension (MobileNet)"),
    ("silu", "x·sigmoid(x), also called swish"), ("tanh", "hyperbolic tangent"), ("sigmoid", "1 / (1 + e^-x)"),
    ("hardswish", "piecewise-linear swish"), ("hardsigmoid", "piecewise-linear sigmoid; extension (MobileNet)"),
]:
    register(Activation(_name, _summary))


class Identity(Layer):
    name = "identity"
    layout = "kept"
    summary = "passes the value through"
    io = "shape kept"


register(Identity())
register(LeakyRelu("leaky_relu", "max(x, slope·x)"))
register(Gelu("gelu", "Gaussian error linear unit; `approximate=\"tanh\"` for GPT-2's"))
register(Softmax("softmax", "normalise to probabilities along a dimension"))


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed as torch's `log_softmax` (stable where the log of a softmax is not)."""


register(LogSoftmax("log_softmax", "log of `softmax` along a dimension, computed stably (NLL losses)"))
