"""Fully connected layers and flattening: `linear`, `flatten`."""

from __future__ import annotations

from ..dims import fmt_shape, is_concrete
from .base import Args, Layer, LayerError, TensorArg, TensorType, numel, positive
from .registry import register


class LinearArgs(Args):
    out: int
    bias: bool = True
    # The weight stored `[in, out]`, as Hugging Face's GPT-2 `Conv1D` keeps it, so its checkpoints load strictly.
    transposed: bool = False


class Linear(Layer):
    name = "linear"
    Args = LinearArgs
    tensor_args = (TensorArg("tie", weight=True),)  # the shared weight's shape arrives in `refs["tie"]`
    takes_init_std = True
    named_only = ("transposed",)
    summary = ("fully connected on the last dimension: [..., F] → [..., out]; refuses a channels-first image "
               "(§5); `tie=` shares an embedding's weight; `transposed=true` stores the weight `[F, out]` "
               "(GPT-2's `Conv1D`)")
    io = "`[..., F]` → `[..., out]`"

    def infer(self, a: LinearArgs, inputs, refs):
        x = inputs[0]
        # A conv or pool stack leaves its features in dimension 0 (`[128, 16, 16]`): `linear` would mix the
        # width instead. Such a value must be flattened, pooled or permuted first; rank 2 stays as it was.
        if x.rank == 0 or (x.rank > 2 and x.channels_first):
            hint = "add `flatten` or `global_avgpool` before it" if x.rank > 2 else None
            raise LayerError("E301", hint=hint, layer=self.name, expected="a 1-D", got=fmt_shape(x.shape))
        self.float_input(x)
        positive([a.out], "the output size", "out")
        if not is_concrete(x.shape[-1]):
            raise LayerError("E306", layer=self.name, what="the number of its input features", value=x.shape[-1],
                             hint="flatten only concrete dimensions before `linear`,"
                                  " or pool a sequence with `mean`/`last`")
        tied = refs.get("tie")
        want = self.weight(a, [x], x)
        if tied is not None and tied.shape != want:
            raise LayerError("E319", arg="tie", layer=self.name, want=fmt_shape(want), got=fmt_shape(tied.shape))
        return TensorType((*x.shape[:-1], a.out), x.dtype)

    def params(self, a, inputs, out, refs):
        # A tied weight belongs to the layer it is tied to and counts there, once.
        weight = 0 if "tie" in refs else inputs[0].shape[-1] * a.out
        return weight + (a.out if a.bias else 0)

    def weight(self, a, inputs, out):
        features = inputs[0].shape[-1]
        return (features, a.out) if a.transposed else (a.out, features)

    def macs(self, a, inputs, out, refs):
        return numel(inputs[0].shape) * a.out

    def label(self, a, x):
        return f"linear {a.out}"


class Flatten(Layer):
    name = "flatten"
    summary = "all dimensions into one"
    io = "`[d1, d2, ...]` → `[d1·d2·...]`"

    def infer(self, a, inputs, refs):
        x = inputs[0]
        if x.rank == 0:
            raise LayerError("E301", layer=self.name, expected="a tensor with dimensions", got="[]")
        return TensorType((numel(x.shape),), x.dtype)


register(Linear())
register(Flatten())
