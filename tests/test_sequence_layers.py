"""Sequence layers: embedding, positional, class_token, first/last/mean, attention.

Real torch throughout: the checker's shapes, parameter and MAC counts are
compared with the built modules, and `attention` with `nn.MultiheadAttention`.
"""

from __future__ import annotations

import functools
import math
import textwrap

import pytest
import torch
from archlang.compiler.lower import lower
from archlang.dsl import check_text
from archlang.dsl.dims import Sym
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close


def check(src: str, **params):
    res = check_text(textwrap.dedent(src), params=params)
    assert res.ok, "\n".join(d.render() for d in res.diagnostics)
    return res.graph


def build(src: str, **params):
    g = check(src, **params)
    return g, lower(g).eval()


def errors(src: str, **params):
    res = check_text(textwrap.dedent(src), params=params)
    assert not res.ok
    return res.diagnostics


def tokens(shape, vocab):
    return torch.randint(0, vocab, shape)


def attention_macs(n, m, d):
    """Projections n·d² (q) + 2·m·d² (k, v) + n·d² (out), products 2·n·m·d (QKᵀ and AV)."""
    return n * d * d + 2 * m * d * d + n * d * d + 2 * n * m * d


# ---------------------------------------------------------------- shapes and counts

SHAPE_CASES = [
    ("int[7]", "embedding(11, 5)", {}),
    ("int[3, 4]", "embedding(11, 5, padding_idx=2)", {}),
    ("int[seq]", "embedding(11, 5)", {"seq": 9}),
    ("[7, 6]", "positional(10)", {}),
    ("[7, 6]", "positional(7, learned=false)", {}),
    ("[7, 5]", "positional(9, learned=false)", {}),  # odd width
    ("[seq, 6]", "positional(32)", {"seq": 12}),
    ("[7, 6]", "class_token", {}),
    ("[seq, 6]", "class_token -> class_token", {"seq": 3}),
    ("[7, 6]", "first", {}),
    ("[7, 6]", "last", {}),
    ("[7, 6]", "mean", {}),
    ("[7, 8]", "attention(2)", {}),
    ("[7, 8]", "attention(4, causal=true, dropout=0.1)", {}),
    ("[7, 8]", "attention(8, bias=false)", {}),
    ("[seq, 16]", "attention(4, causal=true)", {"seq": 5}),
]


@pytest.mark.parametrize("shape, chain, params", SHAPE_CASES)
def test_checked_shape_and_count_equal_the_built_module(shape, chain, params):
    g, m = build(f"model M {{\n  input x: {shape}\n  out: {chain}\n}}\n", **params)
    port = g.inputs[0]
    x = tokens((2, *port.shape), 11) if port.dtype == "int" else torch.randn(2, *port.shape)
    with torch.no_grad():
        y = m(x)
    assert tuple(y.shape[1:]) == g.outputs[0].shape
    assert y.dtype == torch.float32
    assert sum(p.numel() for p in m.parameters()) == g.params


def test_symbolic_shapes_stay_symbolic():
    seq = Sym.of("seq")
    g = check("model M {\n input x: [seq, 6]\n class_token\n}\n")
    assert g.outputs[0].shape == (seq + 1, 6)
    g = check("model M {\n input t: int[seq]\n embedding(10, 4) -> positional(64) -> mean\n}\n")
    assert [n.shape for n in g.nodes] == [(seq,), (seq, 4), (seq, 4), (4,)]
    assert g.nodes[1].dtype == "float"


# ---------------------------------------------------------------- layer by layer

def test_embedding_is_nn_embedding_with_its_padding_row():
    g, m = build("model M {\n input t: int[6]\n wte: embedding(10, 4, padding_idx=3)\n}\n")
    assert list(m.state_dict()) == ["wte.weight"]
    assert isinstance(m.wte, nn.Embedding) and m.wte.padding_idx == 3
    ids = torch.tensor([[3, 1, 3, 0, 9, 2]])
    with torch.no_grad():
        y = m(ids)
    assert_close(y, m.wte.weight[ids])
    assert torch.count_nonzero(y[0, 0]) == 0 and torch.count_nonzero(y[0, 2]) == 0
    assert g.params == 40 and g.macs == 0


def test_learned_positional_adds_the_first_rows():
    g, m = build("model M {\n input x: [seq, 6]\n pos: positional(20)\n}\n")
    assert list(m.state_dict()) == ["pos.weight"]
    assert m.pos.weight.shape == (20, 6) and g.params == 120
    for n in (1, 7, 20):  # one module for every length up to max_len
        x = torch.randn(2, n, 6)
        with torch.no_grad():
            assert_close(m(x) - x, m.pos.weight[:n].expand(2, n, 6))


def test_bare_learned_positional_is_a_parameter_at_its_label():
    # torchvision's ViT: `encoder.pos_embedding` [1, max_len, d], added to every sequence.
    g, m = build("model M {\n input x: [seq, 6]\n encoder: {\n pos_embedding: positional(9, bare=true)\n }\n}\n")
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {"encoder.pos_embedding": (1, 9, 6)}
    assert g.params == 54
    x = torch.randn(2, 7, 6)
    with torch.no_grad():
        assert_close(m(x) - x, m.encoder.pos_embedding[:, :7].expand(2, 7, 6))


def test_sinusoidal_positional_has_no_parameter_and_a_clean_state_dict():
    g, m = build("model M {\n input x: [5, 6]\n pos: positional(8, learned=false)\n}\n")
    assert g.params == 0 and sum(p.numel() for p in m.parameters()) == 0
    assert list(m.state_dict()) == []
    assert m.pos.table.shape == (8, 6)
    x = torch.zeros(1, 5, 6)
    with torch.no_grad():
        y = m(x)[0]
    for pos in range(5):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert y[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert y[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_class_token_prepends_its_parameter_kept_bare_at_its_label():
    # torchvision's ViT keeps the token as a bare parameter: key `class_token`, not `class_token.weight`.
    g, m = build("model M {\n input x: [4, 6]\n class_token: class_token\n}\n")
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {"class_token": (1, 1, 6)}
    with torch.no_grad():
        m.class_token.normal_()
        x = torch.randn(3, 4, 6)
        y = m(x)
    assert y.shape == (3, 5, 6)
    assert_close(y[:, 0], m.class_token[0].expand(3, 6))
    assert_close(y[:, 1:], x)
    assert g.params == 6


@pytest.mark.parametrize("layer, pick", [
    ("first", lambda x: x[:, 0]), ("last", lambda x: x[:, -1]), ("mean", lambda x: x.mean(1)),
])
def test_first_last_mean(layer, pick):
    g, m = build(f"model M {{\n input x: [seq, 5]\n {layer}\n}}\n")
    assert g.outputs[0].shape == (5,) and g.params == 0
    x = torch.randn(2, 9, 5)
    assert_close(m(x), pick(x))


# ---------------------------------------------------------------- attention against nn.MultiheadAttention

def _randomised_mha(d, heads, bias=True):
    mha = nn.MultiheadAttention(d, heads, batch_first=True, bias=bias).eval()
    with torch.no_grad():
        for p in mha.parameters():  # biases start at zero; make every parameter count
            p.normal_(0, 0.3)
    return mha


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_multihead_attention(causal, bias):
    torch.manual_seed(0)
    flag = lambda b: "true" if b else "false"  # noqa: E731
    g, m = build(f"model M {{\n input x: [7, 16]\n att: attention(4, causal={flag(causal)}, bias={flag(bias)})\n}}\n")
    mha = _randomised_mha(16, 4, bias)
    assert set(m.state_dict()) == {f"att.{k}" for k in mha.state_dict()}
    m.load_state_dict({f"att.{k}": v for k, v in mha.state_dict().items()}, strict=True)
    x = torch.randn(3, 7, 16)
    mask = torch.triu(torch.ones(7, 7, dtype=torch.bool), diagonal=1) if causal else None
    with torch.no_grad():
        want, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
        assert_close(m(x), want, atol=1e-5, rtol=1e-5)
    # and the other way round: our weights load into nn.MultiheadAttention
    with torch.no_grad():
        m.att.in_proj_weight.normal_()
    other = nn.MultiheadAttention(16, 4, batch_first=True, bias=bias).eval()
    other.load_state_dict(m.att.state_dict(), strict=True)
    with torch.no_grad():
        want, _ = other(x, x, x, attn_mask=mask, need_weights=False)
        assert_close(m(x), want, atol=1e-5, rtol=1e-5)
    assert sum(p.numel() for p in m.parameters()) == g.params == sum(p.numel() for p in mha.parameters())


def test_cross_attention_matches_multihead_attention():
    torch.manual_seed(1)
    g, m = build("""
        model M {
            input x: [5, 16]
            input mem: [9, 16]
            att: x -> attention(4, memory=mem)
        }
    """)
    assert g.nodes[-1].refs == {"memory": g.inputs[1].node}
    mha = _randomised_mha(16, 4)
    m.load_state_dict({f"att.{k}": v for k, v in mha.state_dict().items()}, strict=True)
    x, mem = torch.randn(2, 5, 16), torch.randn(2, 9, 16)
    with torch.no_grad():
        want, _ = mha(x, mem, mem, need_weights=False)
        got = m(x, mem)
    assert got.shape == (2, 5, 16)
    assert_close(got, want, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="memory"):
        m.att(x)  # built for cross-attention: no silent fall-back to self-attention


@functools.lru_cache(maxsize=1)
def _causal_model():
    torch.manual_seed(2)
    _, m = build("model M {\n input x: [seq, 16]\n att: attention(4, causal=true)\n}\n")
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.3)
    return m


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), data=st.data())
def test_causal_attention_does_not_look_ahead(n, data):
    t = data.draw(st.integers(0, n - 2), label="t")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, n, 16, generator=gen)
    changed = x.clone()
    changed[:, t + 1:] = torch.randn(2, n - t - 1, 16, generator=gen) * 3
    m = _causal_model()
    with torch.no_grad():
        a, b = m(x), m(changed)
    assert_close(a[:, : t + 1], b[:, : t + 1], atol=1e-6, rtol=1e-6)


# ---------------------------------------------------------------- MACs

@pytest.mark.parametrize("n, d, heads", [(7, 16, 4), (1, 8, 1), (32, 64, 8)])
def test_self_attention_macs_follow_the_formula(n, d, heads):
    g = check(f"model M {{\n input x: [{n}, {d}]\n attention({heads})\n}}\n")
    assert g.macs == attention_macs(n, n, d)


def test_cross_attention_macs_count_the_memory_length():
    g = check("model M {\n input x: [5, 16]\n input mem: [9, 16]\n x -> attention(4, memory=mem)\n}\n")
    assert g.macs == attention_macs(5, 9, 16) == 2 * 5 * 256 + 2 * 9 * 256 + 2 * 5 * 9 * 16


def test_symbolic_attention_macs():
    seq, src = Sym.of("seq"), Sym.of("src_len")
    g = check("model M {\n input x: [seq, 32]\n att: attention(4)\n}\n")
    assert g.macs == attention_macs(seq, seq, 32)
    g = check("model M {\n input x: [seq, 32]\n input mem: [src_len, 32]\n x -> attention(4, memory=mem)\n}\n")
    assert g.macs == attention_macs(seq, src, 32)
    assert g.macs.substitute({"seq": 3, "src_len": 11}) == attention_macs(3, 11, 32)


# ---------------------------------------------------------------- a whole symbolic model

CLASSIFIER = """
model Classifier(vocab = 1000) {
    input tokens: int[seq]
    embedding(vocab, 64) -> positional(512) -> attention(8, causal=true) -> mean -> linear(2)
}
"""
CLASSIFIER_PARAMS = 1000 * 64 + 512 * 64 + (4 * 64 * 64 + 4 * 64) + (64 * 2 + 2)


def test_symbolic_sequence_model_checks_with_symbolic_macs():
    seq = Sym.of("seq")
    g = check(CLASSIFIER)
    assert g.inputs[0].shape == (seq,) and g.inputs[0].dtype == "int"
    assert [n.layer for n in g.nodes] == ["input", "embedding", "positional", "attention", "mean", "linear"]
    assert [n.shape for n in g.nodes[1:]] == [(seq, 64), (seq, 64), (seq, 64), (64,), (2,)]
    assert isinstance(g.macs, Sym) and g.macs.symbols == {"seq"}
    assert g.macs == attention_macs(seq, seq, 64) + 64 * 2
    assert g.params == CLASSIFIER_PARAMS


def test_symbolic_sequence_model_builds_and_runs_with_a_value_for_seq():
    g, m = build(CLASSIFIER, seq=16)
    assert g.inputs[0].shape == (16,)
    assert g.macs == attention_macs(16, 16, 64) + 128
    assert sum(p.numel() for p in m.parameters()) == g.params == CLASSIFIER_PARAMS
    with torch.no_grad():
        y = m(tokens((3, 16), 1000))
    assert y.shape == (3, 2) and torch.isfinite(y).all()


def test_too_long_a_sequence_for_the_position_table():
    (d,) = errors(CLASSIFIER, seq=600)
    assert d.code == "E314"
    assert "512" in d.message and "600" in d.message
    assert "600" in d.hint


# ---------------------------------------------------------------- diagnostics

def test_heads_must_divide_the_width():
    (d,) = errors("model M {\n input x: [10, 64]\n attention(6)\n}\n")
    assert d.code == "E315"
    assert "64" in d.message and "6 heads" in d.message
    assert "4 or 8" in d.hint
    assert d.span.line == 3 and d.line_text.strip() == "attention(6)"


def test_memory_of_another_width():
    (d,) = errors("model M {\n input x: [10, 64]\n input mem: [12, 32]\n x -> attention(8, memory=mem)\n}\n")
    assert d.code == "E316"
    assert "32" in d.message and "64" in d.message
    assert "linear(64)" in d.hint


@pytest.mark.parametrize("src, code", [
    ("model M {\n input x: [5, 8]\n embedding(10, 4)\n}\n", "E308"),           # float ids
    ("model M {\n input t: int[5]\n embedding(10, 4, padding_idx=10)\n}\n", "E403"),
    ("model M {\n input t: int[5]\n embedding(0, 4)\n}\n", "E304"),
    ("model M {\n input t: int[5]\n positional(8)\n}\n", "E301"),               # ids not embedded
    ("model M {\n input x: [9, 8]\n positional(8)\n}\n", "E314"),
    ("model M {\n input x: [5, seq]\n positional(8)\n}\n", "E306"),           # width must be known
    ("model M {\n input x: [3, 8, 8]\n class_token\n}\n", "E301"),
    ("model M {\n input x: [8]\n mean\n}\n", "E301"),
    ("model M {\n input x: [3, 8, 8]\n attention(2)\n}\n", "E301"),
    ("model M {\n input x: [5, 8]\n attention(0)\n}\n", "E304"),
    ("model M {\n input x: [5, 8]\n attention(2, dropout=1.5)\n}\n", "E107"),
    ("model M {\n input x: [5, 8]\n input m: [4, 3, 8]\n x -> attention(2, memory=m)\n}\n", "E301"),
    ("model M {\n input x: [5, 8]\n attention(2, heads=3)\n}\n", "E115"),
])
def test_sequence_layer_diagnostics(src, code):
    assert [d.code for d in errors(src)] == [code]
