"""T5 written in the language: Hugging Face's T5ForConditionalGeneration keys, weights and logits.

The reference is built by `transformers` from a config with random
initialisation (no download). specs/t5_small.arch at its published size has
the reference's count and keys (built on the meta device, no weights); at a
small config it loads the reference's state_dict with `strict=True` and
computes the same encoder-decoder logits in eval mode within 1e-4, and so
does the standalone `.py` that `compiler.codegen` writes for it. The part it
adds, `relative_bias`, is checked against Hugging Face's `compute_bias`.
"""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.lower import lower
from conftest import SPECS, generated_class
from reference import state_keys
from test_hf_models import TOL, max_diff

from archlang import dsl

transformers = pytest.importorskip("transformers")  # the `dev` extra installs it; the tool never needs it

T5_SMALL = dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6, num_heads=8,
                relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
                tie_word_embeddings=True)
# Small enough to compare weights and logits quickly; d_kv · heads ≠ d_model and uneven stacks on purpose.
SMALL = dict(vocab_size=100, d_model=64, d_kv=8, d_ff=96, num_layers=2, num_decoder_layers=3, num_heads=4,
             relative_attention_num_buckets=8, relative_attention_max_distance=12)
COUNT = 60_506_624


def checked(**params):
    res = dsl.check_file(SPECS / "t5_small.arch", params=params or None)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def _config(**params):
    return transformers.T5Config(**{**T5_SMALL, **params}, decoder_start_token_id=0, pad_token_id=0)


def _reference():
    torch.manual_seed(0)
    ref = transformers.T5ForConditionalGeneration(_config(**SMALL)).eval()
    with torch.no_grad():  # Hugging Face starts layer norms at one: make them tell their keys apart
        for name, p in ref.named_parameters():
            if "layer_norm" in name:
                p.uniform_(0.5, 1.5)
    return ref


def _inputs():
    # Sequences longer than max_distance, so the logarithmic buckets and the last one are reached.
    gen = torch.Generator().manual_seed(1)
    return torch.randint(0, 100, (2, 17), generator=gen), torch.randint(0, 100, (2, 15), generator=gen)


def _logits(ref, ids, dec):
    with torch.no_grad():
        return ref(input_ids=ids, decoder_input_ids=dec).logits


def test_t5_small_is_the_published_size_with_hugging_faces_keys():
    g = checked()
    assert g.params == COUNT
    with torch.device("meta"):  # the full size, without allocating weights
        ref = transformers.T5ForConditionalGeneration(_config())
        ours = lower(g)
    assert sum(p.numel() for p in ref.parameters()) == COUNT
    assert sum(p.numel() for p in ours.parameters()) == COUNT
    want = state_keys(ref)
    assert len(want) == 134
    assert sorted(state_keys(ours)) == sorted(want)


def test_one_table_is_shared_embed_tokens_and_lm_head():
    m = lower(checked(**SMALL))
    table = m.shared.weight
    assert m.encoder.embed_tokens.weight is table
    assert m.decoder.embed_tokens.weight is table
    assert m.lm_head.weight is table


def test_spec_loads_hugging_faces_weights_and_computes_the_same_logits():
    ref = _reference()
    ours = lower(checked(**SMALL)).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    ids, dec = _inputs()
    with torch.no_grad():
        got = ours(ids, dec)
    assert max_diff(got, _logits(ref, ids, dec)) <= TOL


def test_generated_source_loads_hugging_faces_weights_and_computes_the_same_logits(tmp_path):
    ref = _reference()
    cls = generated_class(checked(**SMALL), tmp_path, "t5")
    ours = cls().eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    ids, dec = _inputs()
    with torch.no_grad():
        got = ours(ids, dec)
    assert max_diff(got, _logits(ref, ids, dec)) <= TOL


def test_decoder_is_causal_and_reads_the_whole_source():
    m = lower(checked(**SMALL)).eval()
    ids, dec = _inputs()
    later, other_source = dec.clone(), ids.clone()
    later[:, 9:] = (later[:, 9:] + 1) % 100
    other_source[:, -1] = (other_source[:, -1] + 1) % 100
    with torch.no_grad():
        a, b, c = m(ids, dec), m(ids, later), m(other_source, dec)
    torch.testing.assert_close(a[:, :9], b[:, :9])
    assert not torch.allclose(a[:, 9:], b[:, 9:])
    assert not torch.allclose(a[:, 0], c[:, 0])  # the first target position already reads the last source token


def test_later_blocks_share_the_first_blocks_bias():
    m = lower(checked(**SMALL))
    keys = [k for k, _ in state_keys(m) if "relative_attention_bias" in k]
    assert keys == ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                    "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]


# ---------------------------------------------------------------- the part

@pytest.mark.parametrize("bidirectional, buckets, max_distance, n", [(True, 32, 128, 200), (False, 32, 128, 200),
                                                                     (True, 8, 12, 30), (False, 5, 9, 21)])
def test_relative_bias_is_hugging_faces_compute_bias(bidirectional, buckets, max_distance, n):
    from transformers.models.t5.modeling_t5 import T5Attention
    config = _config(d_model=16, d_kv=4, num_heads=3, relative_attention_num_buckets=buckets,
                     relative_attention_max_distance=max_distance, is_decoder=not bidirectional)
    ref = T5Attention(config, has_relative_attention_bias=True).eval()
    flag = str(bidirectional).lower()
    src = (f"model M {{\n input x: [seq, 16]\n relative_bias(3, buckets={buckets}, max_distance={max_distance}, "
           f"bidirectional={flag})\n}}\n")
    res = dsl.check_text(src)
    assert res.ok, res.diagnostics
    assert res.graph.params == buckets * 3
    assert str(res.graph.outputs[0]) == "[3, seq, seq]"
    ours = lower(res.graph).eval()
    ours.load_state_dict({"weight": ref.relative_attention_bias.weight.detach()}, strict=True)
    with torch.no_grad():
        got = ours(torch.randn(2, n, 16))
        want = ref.compute_bias(n, n)
    assert got.shape == (2, 3, n, n)
    torch.testing.assert_close(got, want.expand(2, -1, -1, -1), rtol=0, atol=0)
