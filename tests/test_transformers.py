"""The attention family: std/transformer and the published transformer specs.

`specs/transformer.arch` is `torch.nn.Transformer` (same keys, loads its
state_dict strictly, same outputs with a causal decoder, post- and pre-norm);
GPT-2 small ties its head to its token embedding and counts it once;
GPT-2 small and BERT-base have every key of Hugging Face's models (their
weights and outputs: tests/test_hf_models.py); BERT-base, Llama-tiny and
ViT-B/16 have their published counts, ViT-B/16 torchvision's exact
state_dict and its published multiply-accumulates (attention products
included).
"""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.lower import lower
from conftest import SPECS
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_keys, state_keys
from torch import nn

from archlang import dsl

assert_close = torch.testing.assert_close

PUBLISHED = {
    "transformer": 44_140_544,
    "gpt2_small": 124_439_808,
    "bert_base": 109_482_240,
    "vit_b16": 86_567_656,
    "llama_tiny": 3_414_272,
}


def checked(name: str, **params):
    res = dsl.check_file(SPECS / f"{name}.arch", params=params or None)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def built(name: str, **params):
    return lower(checked(name, **params)).eval()


def unique_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # parameters() yields a shared tensor once


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_count(name):
    assert checked(name).params == PUBLISHED[name]


def test_sequence_lengths_stay_symbolic():
    g = checked("transformer")
    assert set(g.symbols) == {"seq", "src_len"}
    assert str(g.outputs[0]) == "[seq, 512]"
    assert set(checked("gpt2_small").symbols) == {"seq"}


# ---------------------------------------------------------------- torch.nn.Transformer

def test_transformer_has_torch_nn_transformers_state_dict():
    m = built("transformer")
    assert sorted(state_keys(m)) == sorted(reference_keys("torch_nn_transformer"))
    assert unique_parameters(m) == PUBLISHED["transformer"]


def test_transformer_loads_torch_weights_and_computes_the_same():
    torch.manual_seed(0)
    ref = nn.Transformer(512, 8, 6, 6, 2048, batch_first=True).eval()
    m = built("transformer")
    m.load_state_dict(ref.state_dict(), strict=True)
    src, tgt = torch.randn(2, 9, 512), torch.randn(2, 7, 512)
    mask = nn.Transformer.generate_square_subsequent_mask(7)
    with torch.no_grad():
        assert_close(m(src, tgt), ref(src, tgt, tgt_mask=mask, tgt_is_causal=True), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_and_decoder_layers_equal_torchs_in_both_norm_placements(norm_first, activation):
    src_text = f"""
    import "std/transformer"
    model M {{
        input src: [src_len, 32]
        input tgt: [seq, 32]
        encoder: src -> {{
            layers: repeat(2) {{ EncoderLayer(4, 64, activation="{activation}", norm_first={str(norm_first).lower()}) }}
            norm: layernorm
        }}
        decoder: tgt -> {{
            layers: repeat(2) {{
                DecoderLayer(4, encoder, 64, activation="{activation}", norm_first={str(norm_first).lower()})
            }}
            norm: layernorm
        }}
    }}
    """
    res = dsl.check_text(src_text)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    m = lower(res.graph).eval()
    torch.manual_seed(1)
    ref = nn.Transformer(32, 4, 2, 2, 64, activation=activation, batch_first=True, norm_first=norm_first).eval()
    m.load_state_dict(ref.state_dict(), strict=True)
    src, tgt = torch.randn(3, 5, 32), torch.randn(3, 6, 32)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    with torch.no_grad():
        assert_close(m(src, tgt), ref(src, tgt, tgt_mask=mask, tgt_is_causal=True), atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- GPT-2

SMALL_GPT = dict(vocab_size=97, n_positions=16, n_embd=32, n_head=4, n_layer=2)


def test_gpt2_head_is_tied_to_the_token_embedding():
    g = checked("gpt2_small", **SMALL_GPT)
    m = lower(g).eval()
    assert m.lm_head.weight is m.transformer.wte.weight
    keys = [k for k, _ in state_keys(m)]
    assert "lm_head.weight" in keys and "transformer.wte.weight" in keys  # both names, one tensor
    assert unique_parameters(m) == g.params
    head = next(n for n in g.nodes if n.name == "lm_head")
    assert head.params == 0 and head.shares == {"weight": next(n.id for n in g.nodes if n.name == "transformer.wte")}
    ids = torch.randint(0, 97, (2, 10))
    with torch.no_grad():
        before = m(ids)
        m.transformer.wte.weight[5].add_(1.0)  # the head scores token 5 with the changed row too
        after = m(ids)
    assert not torch.equal(before[..., 5], after[..., 5])


def test_gpt2_keys_are_hugging_faces():
    # Every key, the attention's packed `c_attn` and the Conv1D projections included.
    ours = {k for k, _ in state_keys(built("gpt2_small", n_layer=12, vocab_size=50257, n_embd=8, n_head=2))}
    ref = {k for k, _ in reference_keys("gpt2_small")}
    assert ours == ref


@settings(max_examples=15, deadline=None)
@given(t=st.integers(0, 8), seed=st.integers(0, 2**16))
def test_gpt2_is_causal(t, seed):
    m = _small_gpt()
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 97, (1, 10), generator=gen)
    changed = ids.clone()
    changed[0, t + 1:] = torch.randint(0, 97, (10 - t - 1,), generator=gen)
    with torch.no_grad():
        assert_close(m(ids)[0, : t + 1], m(changed)[0, : t + 1])


_GPT = {}


def _small_gpt():
    if "m" not in _GPT:
        torch.manual_seed(0)
        _GPT["m"] = built("gpt2_small", **SMALL_GPT)
    return _GPT["m"]


# ---------------------------------------------------------------- BERT

def test_bert_returns_the_sequence_and_the_pooled_first_token():
    g = checked("bert_base", vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=12)
    assert [str(p) for p in g.outputs] == ["[seq, 16]", "[16]"]
    m = lower(g).eval()
    ids, types = torch.randint(0, 50, (2, 7)), torch.randint(0, 2, (2, 7))
    with torch.no_grad():
        seq, pooled = m(ids, types)
        assert_close(pooled, torch.tanh(m.pooler.dense(seq[:, 0])))
        assert not torch.equal(m(ids, 1 - types)[0], seq)  # the segment embedding is really added

def test_bert_keys_are_hugging_faces():
    m = built("bert_base", hidden_size=16, num_attention_heads=2, intermediate_size=32, vocab_size=50)
    assert {k for k, _ in state_keys(m)} == {k for k, _ in reference_keys("bert_base")}


# ---------------------------------------------------------------- ViT-B/16

def test_vit_has_torchvisions_state_dict_in_order():
    m = built("vit_b16")
    assert state_keys(m) == reference_keys("vit_b_16")
    with torch.no_grad():
        assert m(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_vit_macs_count_the_attention_products():
    g = checked("vit_b16")
    assert g.macs == pytest.approx(17.564e9, rel=0.01)
    attention = [n for n in g.nodes if n.layer == "attention"]
    products = 2 * 197 * 197 * 768  # QKᵀ and AV of one layer
    assert all(n.macs == 4 * 197 * 768 * 768 + products for n in attention)


def test_gpt2_mlp_uses_the_tanh_approximation_of_gelu():
    m = _small_gpt()
    x = torch.linspace(-4, 4, 9).reshape(1, 1, 9)
    act = getattr(m.transformer.h, "0").mlp.get_submodule("1")  # c_fc, gelu, c_proj, dropout
    assert_close(act(x), nn.functional.gelu(x, approximate="tanh"))
