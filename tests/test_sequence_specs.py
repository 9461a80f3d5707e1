"""The four sequence specs in specs/ (stock_rnn, char_lstm, lstm_translator,
gru_classifier) check with symbolic lengths, count what torch.nn counts, run
at concrete lengths, and compute what a hand-written torch module with the
same weights computes — the translator's decoder included, started from the
encoder's final (h, c). examples/tiny_gpt.arch's count is checked the same way."""

from __future__ import annotations

import re

import pytest
import torch
from conftest import SPECS
from torch import nn

from archlang import compiler, dsl


class StockRef(nn.Module):
    def __init__(self, features=1, hidden=64):
        super().__init__()
        self.reader = nn.RNN(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, prices):
        _, h = self.reader(prices)
        return self.head(h[-1])


class CharRef(nn.Module):
    def __init__(self, vocab=96, dim=64, hidden=256, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, text):
        return self.head(self.lstm(self.embed(text))[0])


class TranslatorRef(nn.Module):
    def __init__(self, src_vocab=8000, tgt_vocab=8000, dim=128, hidden=256, layers=2):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, dim)
        self.encoder = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.tgt_embed = nn.Embedding(tgt_vocab, dim)
        self.decoder = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.generator = nn.Linear(hidden, tgt_vocab)

    def forward(self, src, tgt):
        _, state = self.encoder(self.src_embed(src))
        out, _ = self.decoder(self.tgt_embed(tgt), state)
        return self.generator(out)


class GRURef(nn.Module):
    def __init__(self, vocab=5000, dim=64, hidden=64, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.reader = nn.GRU(dim, hidden, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden, classes)

    def forward(self, tokens):
        _, h = self.reader(self.embed(tokens))
        return self.classifier(torch.cat([h[-2], h[-1]], dim=-1))


# name: (reference, symbols, symbolic output shape as text, lengths for --set)
CASES = {
    "stock_rnn": (StockRef, ("seq",), ["(1,)"], {"seq": 16}),
    "char_lstm": (CharRef, ("seq",), ["(seq, 96)"], {"seq": 16}),
    "lstm_translator": (TranslatorRef, ("src_len", "tgt_len"), ["(tgt_len, 8000)"], {"src_len": 16, "tgt_len": 12}),
    "gru_classifier": (GRURef, ("seq",), ["(2,)"], {"seq": 16}),
}


def inputs_for(graph, vocab_of, batch=3, seed=0):
    """Random inputs of the checked shapes: ids below each input's vocabulary, floats otherwise."""
    gen = torch.Generator().manual_seed(seed)
    xs = []
    for port in graph.inputs:
        shape = (batch, *port.shape)
        if port.dtype == "int":
            xs.append(torch.randint(0, vocab_of(port.name), shape, generator=gen))
        else:
            xs.append(torch.randn(shape, generator=gen))
    return xs


def vocab_of(name):
    return {"text": 96, "src": 8000, "tgt": 8000, "tokens": 5000}[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_lengths_stay_symbolic_when_not_set(name):
    _, symbols, outputs, _ = CASES[name]
    res = dsl.check_file(SPECS / f"{name}.arch")
    assert res.ok, res.diagnostics
    assert res.graph.symbols == symbols
    assert [str(p.shape) for p in res.graph.outputs] == outputs


@pytest.mark.parametrize("name", sorted(CASES))
def test_parameter_count_is_torch_nn_parts_and_the_header_says_it(name):
    ref = CASES[name][0]()
    expected = sum(p.numel() for p in ref.parameters())
    res = dsl.check_file(SPECS / f"{name}.arch")
    assert res.graph.params == expected
    header = (SPECS / f"{name}.arch").read_text().split("\nmodel ", 1)[0]
    stated = re.search(r"([\d,]+) parameters", header)
    assert stated and int(stated.group(1).replace(",", "")) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_equals_hand_written_torch_with_the_same_weights(name):
    ref_cls, _, _, lengths = CASES[name]
    res = dsl.check_file(SPECS / f"{name}.arch", params=lengths)
    assert res.ok, res.diagnostics
    torch.manual_seed(0)
    m = compiler.build(SPECS / f"{name}.arch", **lengths).eval()
    ref = ref_cls().eval()
    ref.load_state_dict(m.state_dict(), strict=True)
    xs = inputs_for(res.graph, vocab_of)
    with torch.no_grad():
        got, expected = m(*xs), ref(*xs)
    assert tuple(got.shape[1:]) == res.graph.outputs[0].shape
    torch.testing.assert_close(got, expected)


def test_set_lengths_give_concrete_output_shapes():
    res = dsl.check_file(SPECS / "lstm_translator.arch", params={"src_len": 16, "tgt_len": 12})
    assert res.graph.symbols == ()
    assert [p.shape for p in res.graph.inputs] == [(16,), (12,)]
    assert res.graph.outputs[0].shape == (12, 8000)
    res = dsl.check_file(SPECS / "char_lstm.arch", params={"seq": 16, "vocab": 70})
    assert res.graph.outputs[0].shape == (16, 70)


def test_translator_decoder_starts_from_the_encoders_final_state():
    torch.manual_seed(0)
    m = compiler.build(SPECS / "lstm_translator.arch", src_vocab=50, tgt_vocab=40).eval()
    gen = torch.Generator().manual_seed(1)
    src_a = torch.randint(0, 50, (2, 7), generator=gen)
    src_b = torch.randint(0, 50, (2, 7), generator=gen)
    tgt = torch.randint(0, 40, (2, 5), generator=gen)
    ref = TranslatorRef(src_vocab=50, tgt_vocab=40).eval()
    ref.load_state_dict(m.state_dict(), strict=True)
    with torch.no_grad():
        out_a, out_b = m(src_a, tgt), m(src_b, tgt)
        # What the decoder would say started from zeros, i.e. deaf to the source.
        zero_start = ref.generator(ref.decoder(ref.tgt_embed(tgt))[0])
    assert out_a.shape == (2, 5, 40)
    # Even the first target position differs: only the initial state carries src.
    assert not torch.allclose(out_a[:, 0], out_b[:, 0], atol=1e-4)
    assert not torch.allclose(out_a, zero_start, atol=1e-4)
    torch.testing.assert_close(out_a, ref(src_a, tgt))


def test_translator_source_and_target_lengths_are_independent():
    m = compiler.build(SPECS / "lstm_translator.arch", src_vocab=30, tgt_vocab=20).eval()
    with torch.no_grad():
        y = m(torch.randint(0, 30, (1, 9)), torch.randint(0, 20, (1, 4)))
    assert y.shape == (1, 4, 20)


def test_tiny_gpt_example_counts_what_torch_nn_parts_count():
    # examples/tiny_gpt.arch: wte, wpe, depth × (ln_1, attn, ln_2, c_fc, c_proj), ln_f; lm_head is tied to wte.
    vocab, block_size, d, heads, depth = 96, 128, 128, 4, 4
    block = [nn.LayerNorm(d), nn.MultiheadAttention(d, heads), nn.LayerNorm(d),
             nn.Linear(d, 4 * d), nn.Linear(4 * d, d)]
    parts = [nn.Embedding(vocab, d), nn.LayerNorm(d)] + block * depth
    expected = sum(p.numel() for m in parts for p in m.parameters()) + block_size * d
    res = dsl.check_file(SPECS.parent / "examples" / "tiny_gpt.arch")
    assert res.ok, res.diagnostics
    assert res.graph.params == expected == 822_016
