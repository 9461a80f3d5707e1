"""rnn, lstm and gru equal torch.nn.RNN/LSTM/GRU with the same weights — stacked,
bidirectional, and started from another layer's final state through `init=`."""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.lower import lower
from archlang.dsl import check_text
from reference import reference_keys, state_keys
from torch import nn

TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
PUBLISHED = {"rnn": 2_363_392, "lstm": 9_453_568, "gru": 7_090_176}


def build(src: str, **params):
    res = check_text(src, params=params)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph, lower(res.graph).eval()


@pytest.mark.parametrize("layer", sorted(TORCH))
def test_named_layer_has_torch_keys_and_count(layer):
    g, m = build(f"model M {{ input x: [seq, 256]\n {layer}(512, layers=2, bidirectional=true) }}", seq=5)
    assert g.params == PUBLISHED[layer]
    assert state_keys(m) == reference_keys(f"nn_{layer}_256_512_2_bidir")


@pytest.mark.parametrize("layer", sorted(TORCH))
def test_equals_torch_with_the_same_weights(layer):
    g, m = build(f"model M {{ input x: [seq, 16]\n out: {layer}(24, layers=2, bidirectional=true)\n"
                 " output out, out.last, out.state }",
                 seq=6)
    ref = TORCH[layer](16, 24, num_layers=2, bidirectional=True, batch_first=True).eval()
    ref.load_state_dict({k.removeprefix("out."): v for k, v in m.state_dict().items()}, strict=True)
    x = torch.randn(3, 6, 16)
    with torch.no_grad():
        out, last, state = m(x)
        r_out, r_state = ref(x)
    torch.testing.assert_close(out, r_out)
    r_h = r_state[0] if layer == "lstm" else r_state
    torch.testing.assert_close(last, torch.cat([r_h[-2], r_h[-1]], dim=-1))
    if layer == "lstm":
        torch.testing.assert_close(state[0], r_state[0].transpose(0, 1))
        torch.testing.assert_close(state[1], r_state[1].transpose(0, 1))
    else:
        torch.testing.assert_close(state, r_state.transpose(0, 1))
    assert [tuple(o.shape[1:]) for o in (out, last)] == [p.shape for p in g.outputs[:2]]


@pytest.mark.parametrize("layer", sorted(TORCH))
def test_init_starts_from_another_layers_state(layer):
    src = f"""
    model M {{
        input a: [sa, 8]
        input b: [sb, 8]
        enc: a -> {layer}(12, layers=2)
        dec: b -> {layer}(12, layers=2, init=enc.state)
        output dec
    }}
    """
    g, m = build(src, sa=5, sb=4)
    enc = TORCH[layer](8, 12, num_layers=2, batch_first=True).eval()
    dec = TORCH[layer](8, 12, num_layers=2, batch_first=True).eval()
    sd = m.state_dict()
    enc.load_state_dict({k.removeprefix("enc."): v for k, v in sd.items() if k.startswith("enc.")})
    dec.load_state_dict({k.removeprefix("dec."): v for k, v in sd.items() if k.startswith("dec.")})
    a, b = torch.randn(2, 5, 8), torch.randn(2, 4, 8)
    with torch.no_grad():
        _, state = enc(a)
        expected, _ = dec(b, state)
        torch.testing.assert_close(m(a, b), expected)


def test_rnn_nonlinearity_and_counts_per_gate():
    g, m = build("model M { input x: [seq, 10]\n rnn(20, nonlinearity=\"relu\") }", seq=3)
    assert m._root_alias.nonlinearity == "relu"
    assert g.params == 20 * (10 + 20) + 2 * 20
    assert g.macs == 3 * 20 * (10 + 20)


def test_symbolic_sequence_gives_symbolic_macs():
    res = check_text("model M { input x: [seq, 10]\n lstm(20) }")
    assert res.ok
    assert str(res.graph.macs) == f"{4 * 20 * 30}·seq"


def test_init_of_the_wrong_kind_is_a_diagnostic():
    res = check_text("model M { input x: [seq, 8]\n enc: gru(12)\n x -> lstm(12, init=enc.state) }")
    assert [d.code for d in res.diagnostics] == ["E317"]
    assert "an lstm's (h, c) state, [1, 12] each" in res.diagnostics[0].message
    assert "an rnn's or gru's h state [1, 12]" in res.diagnostics[0].message


def test_state_of_a_non_recurrent_value_is_a_diagnostic():
    res = check_text("model M { input x: [seq, 8]\n h: linear(12)\n x -> lstm(12, init=h.state) }")
    assert [d.code for d in res.diagnostics] == ["E318"]
    assert "linear" in res.diagnostics[0].message
