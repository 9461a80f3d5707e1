"""The torch half of the recurrent layers: torch.nn.RNN/LSTM/GRU, batch-first.

Each is a subclass of the torch layer, so its parameters and state_dict keys
are torch's own (`weight_ih_l0`, `bias_hh_l1_reverse`, ...). `forward`
returns the layer's value and its members (`dsl/layers/recurrent.py`):
every step's output, `.last` and `.state` — the state batch-first, as every
archlang value is.
"""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds


def _batch_first(state):
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1) for s in state)
    return state.transpose(0, 1)


def _layers_first(state):
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1).contiguous() for s in state)
    return state.transpose(0, 1).contiguous()


class _LastAndState:
    def forward(self, x: torch.Tensor, init=None):
        out, state = super().forward(x, None if init is None else _layers_first(init))
        h = state[0] if isinstance(state, tuple) else state  # [layers·dirs, batch, hidden]
        last = torch.cat([h[-2], h[-1]], dim=-1) if self.bidirectional else h[-1]
        return out, last, _batch_first(state)


class RNN(_LastAndState, nn.RNN):
    pass


class LSTM(_LastAndState, nn.LSTM):
    pass


class GRU(_LastAndState, nn.GRU):
    pass


@builds("rnn", "lstm", "gru")
def _recurrent(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[node.layer]
    extra = {"nonlinearity": a["nonlinearity"]} if node.layer == "rnn" else {}
    return cls(ins[0][-1], a["hidden"], num_layers=a["layers"], bidirectional=a["bidirectional"],
               dropout=a["dropout"], batch_first=True, **extra)
