"""Recurrent layers: `rnn`, `lstm`, `gru` — the document's sequence readers.

A recurrent layer reads `[seq, F]` one step at a time and returns every
step's hidden state `[seq, hidden·dirs]`; it also has members `.last` (the
final hidden state of the top layer, both directions: `[hidden·dirs]`) and
`.state` (the final state of every layer, batch-first `[layers·dirs,
hidden]`; for `lstm` the pair (h, c)), which `init=` of another recurrent
layer accepts. Parameters are laid out as torch.nn.RNN/LSTM/GRU's.
"""

from __future__ import annotations

from typing import Literal

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorArg, TensorType, concrete, positive
from .registry import register


class RecurrentArgs(Args):
    hidden: int
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0


class RnnArgs(RecurrentArgs):
    nonlinearity: Literal["tanh", "relu"] = "tanh"


class Recurrent(Layer):
    Args = RecurrentArgs
    tensor_args = (TensorArg("init"),)
    gates: int = 1
    state_kind = "state"

    def __init__(self, name: str, gates: int, summary: str, args: type[Args] = RecurrentArgs,
                 state_kind: str = "state"):
        self.name = name
        self.gates = gates
        self.summary = summary
        self.Args = args
        self.state_kind = state_kind
        self.family = "LSTM" if name == "lstm" else "RNN"

    def _dirs(self, a) -> int:
        return 2 if a.bidirectional else 1

    def state_type(self, a) -> TensorType:
        return TensorType((a.layers * self._dirs(a), a.hidden), self.state_kind)

    def infer(self, a, inputs, refs):
        x = inputs[0]
        if x.rank != 2:
            raise LayerError("E301", layer=self.name, expected="a [seq, features]", got=fmt_shape(x.shape),
                             hint="recurrent layers read sequences; `embedding` turns token ids into one")
        self.float_input(x)
        concrete(x.shape[1], self.name, "the feature count")
        positive([a.hidden], "the hidden size", "hidden")
        positive([a.layers], "the layer count", "layers")
        if not 0.0 <= a.dropout <= 1.0:
            raise LayerError("E107", arg="dropout", layer=self.name, name="dropout", expected="between 0 and 1",
                             got=a.dropout)
        init = refs.get("init")
        if init is not None:
            want = self.state_type(a)
            if init.dtype != want.dtype or init.shape != want.shape:
                if init.dtype != want.dtype:
                    hint = ("an lstm carries (h, c) and an rnn or gru carries h alone: "
                            "start from a recurrent layer of the same kind")
                else:
                    hint = ("[layers·directions, hidden] must agree: give both layers the same "
                            "`hidden`, `layers` and `bidirectional`")
                raise LayerError("E317", arg="init", hint=hint, layer=self.name, want=_state_words(want),
                                 got=_state_words(init))
        return TensorType((x.shape[0], a.hidden * self._dirs(a)), x.dtype)

    def _cells(self, a, features: int):
        dirs = self._dirs(a)
        for layer in range(a.layers):
            width = features if layer == 0 else a.hidden * dirs
            for _ in range(dirs):
                yield width

    def params(self, a, inputs, out, refs):
        g, h = self.gates, a.hidden
        return sum(g * h * (w + h) + 2 * g * h for w in self._cells(a, inputs[0].shape[1]))

    def macs(self, a, inputs, out, refs) -> Dim:
        g, h = self.gates, a.hidden
        per_step = sum(g * h * (w + h) for w in self._cells(a, inputs[0].shape[1]))
        return inputs[0].shape[0] * per_step

    def steps(self, a, inputs):
        return inputs[0].shape[0] * a.layers  # both directions of a layer run at once

    def members(self, a, inputs, out):
        return {"last": TensorType((a.hidden * self._dirs(a),), "float"), "state": self.state_type(a)}

    def label(self, a, x):
        text = f"{self.name.upper()} {a.hidden}"
        if a.layers != 1:
            text += f" ×{a.layers} layers"
        if a.bidirectional:
            text += ", bidirectional"
        return text


register(Recurrent("rnn", 1, "Elman recurrent layer: h_t = tanh(W x_t + U h_{t-1})", RnnArgs))
register(Recurrent("lstm", 4, "long short-term memory: forget, input and output gates with a cell state",
                   state_kind="lstm_state"))
register(Recurrent("gru", 3, "gated recurrent unit: reset and update gates"))


def _state_words(t: TensorType) -> str:
    """`an lstm's (h, c) state, [2, 32] each` — how E317 names a state."""
    if t.dtype == "lstm_state":
        return f"an lstm's (h, c) state, {fmt_shape(t.shape)} each"
    if t.dtype == "state":
        return f"an rnn's or gru's h state {fmt_shape(t.shape)}"
    return f"a plain value {fmt_shape(t.shape)}, not a state"
