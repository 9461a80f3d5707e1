"""Recurrent layers: `rnn`, `lstm`, `gru` — the document's sequence readers.

A recurrent layer reads `[seq, F]` one step at a time and returns every
step's hidden state `[seq, hidden·dirs]`; it also has members `.last` (the
final hidden state of the top layer, both directions: `[hidden·dirs]`) and
`.state` (the final state of every layer, batch-first `[layers·dirs,
hidden]`; for `lstm` the pair (h, c)), which `init=` of another recurrent
layer accepts. Parameters are laid out as torch.nn.RNN/LSTM/GRU's.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

from ..dims import Dim, fmt_shape
from .base import Args, Layer, LayerError, TensorArg, TensorType, concrete, positive
from .facts import Gate, RecurrentCell
from .registry import register

# The gated cells in the document's words ("Forget gate: what to erase").
LSTM_CELL = RecurrentCell(
    gates=(Gate("forget gate", "σ", "what to erase", "f"),
           Gate("input gate", "σ", "what to store", "i"),
           Gate("candidate", "tanh", "what could be stored", "g"),
           Gate("output gate", "σ", "what to reveal", "o")),
    equations=(("cell state", "c_t = f ⊗ c_t−1 ⊕ i ⊗ g"), ("hidden state", "h_t = o ⊗ tanh(c_t)")),
    state=("h", "c"),
    values=(("cp", "c_t−1"), ("c", "c_t (cell state)")),
    ops=(("m1", "⊗"), ("m2", "⊗"), ("s", "⊕"), ("t", "tanh"), ("m3", "⊗")),
    wires=(("cp", "m1"), ("f", "m1"), ("i", "m2"), ("g", "m2"), ("m1", "s"), ("m2", "s"),
           ("s", "c"), ("c", "t"), ("t", "m3"), ("o", "m3"), ("m3", "h")),
)
GRU_CELL = RecurrentCell(
    gates=(Gate("reset gate", "σ", "how much of the past to read", "r"),
           Gate("update gate", "σ", "how much of the past to keep", "z"),
           Gate("candidate", "tanh", "the new state on offer", "n")),
    equations=(("candidate", "n = tanh(W·x_t ⊕ r ⊗ U·h_t−1)"), ("hidden state", "h_t = (1 − z) ⊗ n ⊕ z ⊗ h_t−1")),
    values=(("hp", "h_t−1"),),
    ops=(("mix", "(1−z)⊗n\n⊕ z⊗h"),),
    wires=(("z", "mix"), ("n", "mix"), ("hp", "mix"), ("mix", "h")),
    gating=(("r", "n"),),
)


class RecurrentArgs(Args):
    hidden: int
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0


class RnnArgs(RecurrentArgs):
    nonlinearity: Literal["tanh", "relu"] = "tanh"


class Recurrent(Layer):
    Args = RecurrentArgs
    training_only = ("dropout",)
    tensor_args = (TensorArg("init"),)
    gates: int = 1
    state_kind = "state"
    io = "`[seq, F]` → `[seq, hidden·dirs]`"
    member_words = MappingProxyType({"last": "last step", "state": "final state"})

    def __init__(self, name: str, gates: int, summary: str, args: type[Args] = RecurrentArgs,
                 state_kind: str = "state", cell: RecurrentCell | None = None):
        self.name = name
        self.gates = gates
        self.summary = summary
        self.Args = args
        self.state_kind = state_kind
        self.family = "LSTM" if name == "lstm" else "RNN"
        self._cell = cell

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

    def _cells(self, a, features: int) -> list[tuple[int, int]]:
        """(input width, how many cells read it): the first layer's cells, then all the others'.

        Counted, not listed: `layers` may be any size the spec writes, and a
        loop over a billion layers would hang the checker before its limits refuse it.
        """
        dirs = self._dirs(a)
        return [(features, dirs), (a.hidden * dirs, (a.layers - 1) * dirs)]

    def params(self, a, inputs, out, refs):
        g, h = self.gates, a.hidden
        return sum(n * (g * h * (w + h) + 2 * g * h) for w, n in self._cells(a, inputs[0].shape[1]))

    def macs(self, a, inputs, out, refs) -> Dim:
        g, h = self.gates, a.hidden
        per_step = sum(n * g * h * (w + h) for w, n in self._cells(a, inputs[0].shape[1]))
        return inputs[0].shape[0] * per_step

    def steps(self, a, inputs):
        return inputs[0].shape[0] * a.layers  # both directions of a layer run at once

    def members(self, a, inputs, out):
        return {"last": TensorType((a.hidden * self._dirs(a),), "float"), "state": self.state_type(a)}

    def label(self, a, x):
        text = f"{self.name.upper()} {a.hidden}"
        if a.layers != 1:
            text += f", {a.layers} layers"  # `×N` is the diagram's repeat count
        if a.bidirectional:
            text += ", bidirectional"
        return text

    def cell(self, args):
        if self._cell is not None:
            return self._cell
        # A plain RNN has no gates: one activation mixes the input with the memory.
        act = str(args.get("nonlinearity", "tanh"))
        # Its one part has a symbol of its own, so the picture wires it to `h` instead of onto itself.
        return RecurrentCell(gates=(Gate("cell", act, "mixes the input with the memory", "a"),),
                             equations=(("hidden state", f"h_t = {act}(W·x_t ⊕ U·h_t−1)"),),
                             wires=(("a", "h"),))


register(Recurrent("rnn", 1, "Elman recurrent layer: h_t = act(W x_t + U h_{t-1}), act the `nonlinearity`; the "
                   "result also has `.last` (`[hidden·dirs]`) and `.state`", RnnArgs))
register(Recurrent("lstm", 4, "long short-term memory: forget, input and output gates with a cell state; "
                   "`.last`, and `.state` is `(h, c)`; `init=enc.state` starts from another lstm's final state",
                   state_kind="lstm_state", cell=LSTM_CELL))
register(Recurrent("gru", 3, "gated recurrent unit: reset and update gates; `.last` and `.state` as `rnn`'s; "
                   "`init=enc.state` starts from another rnn's or gru's final state", cell=GRU_CELL))


def _state_words(t: TensorType) -> str:
    """`an lstm's (h, c) state, [2, 32] each` — how E317 names a state."""
    if t.dtype == "lstm_state":
        return f"an lstm's (h, c) state, {fmt_shape(t.shape)} each"
    if t.dtype == "state":
        return f"an rnn's or gru's h state {fmt_shape(t.shape)}"
    return f"a plain value {fmt_shape(t.shape)}, not a state"
