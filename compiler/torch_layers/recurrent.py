"""The torch half of the recurrent layers: torch.nn.RNN/LSTM/GRU, batch-first.

Each layer's module is torch's own `nn.RNN`/`nn.LSTM`/`nn.GRU`, so its
parameters and state_dict keys are torch's (`weight_ih_l0`,
`bias_hh_l1_reverse`, ...) and `torch.fx` keeps it as a leaf, as it keeps
every module of `torch.nn`. What archlang adds is one function,
`recurrent(layer, x, init)`, that the block around the layer calls instead
of the module (the entry's `call`): it starts the layer from `init=` and
returns the layer's value and its members (`dsl/layers/recurrent.py`) —
every step's output, `.last` and `.state` — the states batch-first, as
every archlang value is, where torch keeps them layers-first.
"""

from __future__ import annotations

import torch
from archlang.dsl.graph import Node
from torch import nn

from .registry import Shape, builds


def recurrent(layer: nn.RNNBase, x: torch.Tensor, init=None) -> tuple:
    """Run `layer` on `x` from `init` (batch-first); its outputs, last hidden state and final state (batch-first).

    Whether the state is a pair is the layer's class's fact, not the value's, so that a traced value
    (a `torch.fx` proxy) takes the same path as a tensor.
    """
    pair = isinstance(layer, nn.LSTM)  # (h, c)
    if init is None:
        out, state = layer(x)
    elif pair:
        out, state = layer(x, (init[0].transpose(0, 1).contiguous(), init[1].transpose(0, 1).contiguous()))
    else:
        out, state = layer(x, init.transpose(0, 1).contiguous())
    h = state[0] if pair else state  # [layers·dirs, batch, hidden]
    last = torch.cat([h[-2], h[-1]], dim=-1) if layer.bidirectional else h[-1]
    state = (state[0].transpose(0, 1), state[1].transpose(0, 1)) if pair else state.transpose(0, 1)
    return out, last, state


@builds("rnn", "lstm", "gru", call=recurrent)
def _recurrent(node: Node, ins: list[Shape]) -> nn.Module:
    a = node.args
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[node.layer]
    extra = {"nonlinearity": a["nonlinearity"]} if node.layer == "rnn" else {}
    return cls(ins[0][-1], a["hidden"], num_layers=a["layers"], bidirectional=a["bidirectional"],
               dropout=a["dropout"], batch_first=True, **extra)
