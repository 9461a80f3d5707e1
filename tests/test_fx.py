"""Every shipped spec's built model traces with torch.fx's default tracer and the trace computes the same (issue 15).

The default `torch.fx.symbolic_trace` keeps only torch.nn's own modules as
leaves, so this holds because every layer's module is torch's own or traces
itself: recurrent layers are plain nn.LSTM/GRU/RNN, run by a function in the
block around them (`compiler.torch_layers.recurrent.recurrent`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from archlang.compiler.inputs import random_inputs
from archlang.compiler.lower import lower
from conftest import SPECS
from test_codegen import _graph
from torch import nn


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.arch")), ids=lambda p: p.stem)
def test_default_fx_trace_equals_the_model(path: Path):
    g = _graph(path)
    torch.manual_seed(0)
    model = lower(g).eval()
    traced = torch.fx.symbolic_trace(model)
    inputs = random_inputs(g, 2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        got, want = traced(*inputs), model(*inputs)
    got, want = (x if isinstance(x, tuple) else (x,) for x in (got, want))
    assert len(got) == len(want) == len(g.outputs)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    # The trace is a graph of the model's own modules, not one opaque call.
    called = [n.target for n in traced.graph.nodes if n.op == "call_module"]
    assert called and all(isinstance(traced.get_submodule(t), nn.Module) for t in called)


@pytest.mark.parametrize("spec,leaf", [("char_lstm", "lstm"), ("lstm_translator", "decoder"),
                                       ("gru_classifier", "reader"), ("stock_rnn", "reader")])
def test_recurrent_layers_are_torch_leaves(spec: str, leaf: str):
    g = _graph(SPECS / f"{spec}.arch")
    model = lower(g)
    traced = torch.fx.symbolic_trace(model)
    recurrent = {n.target for n in traced.graph.nodes
                 if n.op == "call_module" and isinstance(traced.get_submodule(n.target), nn.RNNBase)}
    assert leaf in recurrent
    assert all(type(model.get_submodule(t)) in (nn.RNN, nn.LSTM, nn.GRU) for t in recurrent)


@pytest.mark.parametrize("layer", ["rnn", "lstm", "gru"])
def test_recurrent_state_and_init_trace(layer: str, check_src):
    """Members read outside and `init=` from another layer's state, stacked and bidirectional, trace too."""
    g = check_src(f"""
    model M {{
        input a: [5, 8]
        input b: [4, 8]
        enc: a -> {layer}(6, layers=2, bidirectional=true)
        dec: b -> {layer}(6, layers=2, bidirectional=true, init=enc.state)
        output dec, dec.last, enc.last
    }}
    """).graph
    model = lower(g).eval()
    traced = torch.fx.symbolic_trace(model)
    inputs = random_inputs(g, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for got, want in zip(traced(*inputs), model(*inputs)):
            torch.testing.assert_close(got, want)
