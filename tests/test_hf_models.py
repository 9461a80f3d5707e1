"""Hugging Face's Llama, BERT and GPT-2, written in the language: same keys, same weights, same outputs.

Each reference is built by `transformers` with random initialisation from a
config (no download): `LlamaForCausalLM`, `BertModel`, `GPT2LMHeadModel`.
The spec (specs/llama_tiny.arch at its published size; BERT and GPT-2 at a
small config, their full counts checked without weights) loads the
reference's state_dict with `strict=True` and computes its outputs in eval
mode within 1e-4; so does the standalone `.py` that `compiler.codegen`
writes for it. The parts these specs are made of — `attend`, `rmsnorm`,
`linear(transposed=true)`, `embedding(tie=)` — are checked against direct
computations.
"""

from __future__ import annotations

import math

import pytest
import torch
from archlang.compiler.codegen import python_source
from archlang.compiler.lower import lower
from archlang.dsl.dims import Sym
from conftest import SPECS, generated_class
from reference import reference_keys, state_keys

from archlang import dsl

transformers = pytest.importorskip("transformers")  # the `dev` extra installs it; the tool never needs it

TOL = 1e-4

LLAMA = dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=1000, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False)
BERT_SMALL = dict(vocab_size=100, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                  max_position_embeddings=32)
GPT_SMALL = dict(vocab_size=100, n_positions=32, n_embd=64, n_head=4, n_layer=2)


def checked(name: str, **params):
    res = dsl.check_file(SPECS / f"{name}.arch", params=params or None)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


# ---------------------------------------------------------------- the references

def _llama():
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA)).eval()


def _bert():
    torch.manual_seed(1)
    return transformers.BertModel(transformers.BertConfig(**BERT_SMALL)).eval()


def _gpt2():
    torch.manual_seed(2)
    config = transformers.GPT2Config(**GPT_SMALL, bos_token_id=0, eos_token_id=0)
    return transformers.GPT2LMHeadModel(config).eval()


def _llama_inputs():
    return (torch.randint(0, 1000, (2, 13), generator=torch.Generator().manual_seed(3)),)


def _bert_inputs():
    gen = torch.Generator().manual_seed(4)
    return torch.randint(0, 100, (2, 11), generator=gen), torch.randint(0, 2, (2, 11), generator=gen)


def _gpt2_inputs():
    return (torch.randint(0, 100, (2, 12), generator=torch.Generator().manual_seed(5)),)


def _outputs(name: str, ref, inputs):
    with torch.no_grad():
        if name == "bert_base":
            out = ref(input_ids=inputs[0], token_type_ids=inputs[1])
            return out.last_hidden_state, out.pooler_output
        return (ref(*inputs).logits,)


CASES = {
    "llama_tiny": (_llama, {}, _llama_inputs),
    "bert_base": (_bert, BERT_SMALL, _bert_inputs),
    "gpt2_small": (_gpt2, GPT_SMALL, _gpt2_inputs),
}


def _ours(module, inputs):
    with torch.no_grad():
        out = module(*inputs)
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", sorted(CASES))
def test_spec_loads_hugging_faces_weights_and_computes_the_same(name):
    make, params, inputs_of = CASES[name]
    ref = make()
    ours = lower(checked(name, **params)).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    inputs = inputs_of()
    want, got = _outputs(name, ref, inputs), _ours(ours, inputs)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert max_diff(a, b) <= TOL


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_loads_hugging_faces_weights_and_computes_the_same(name, tmp_path):
    make, params, inputs_of = CASES[name]
    ref = make()
    cls = generated_class(checked(name, **params), tmp_path, name)
    ours = cls().eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    inputs = inputs_of()
    for a, b in zip(_ours(ours, inputs), _outputs(name, ref, inputs)):
        assert max_diff(a, b) <= TOL


def test_llama_tiny_is_the_published_size_with_hugging_faces_keys():
    g = checked("llama_tiny")
    assert g.params == 3_414_272
    ref = _llama()
    assert sum(p.numel() for p in ref.parameters()) == 3_414_272
    ours = lower(g)
    assert sorted(state_keys(ours)) == sorted(state_keys(ref))


def test_llama_is_causal():
    m = lower(checked("llama_tiny", num_hidden_layers=1)).eval()
    ids = _llama_inputs()[0]
    changed = ids.clone()
    changed[:, 7:] = (changed[:, 7:] + 1) % 1000
    with torch.no_grad():
        a, b = m(ids), m(changed)
    torch.testing.assert_close(a[:, :7], b[:, :7])
    assert not torch.allclose(a[:, 7:], b[:, 7:])


@pytest.mark.parametrize("name, count, keys", [("bert_base", 109_482_240, 199), ("gpt2_small", 124_439_808, 149)])
def test_full_size_keys_and_shapes_are_hugging_faces(name, count, keys):
    g = checked(name)
    assert g.params == count
    with torch.device("meta"):  # the full size, without allocating its weights
        m = lower(g)
    ref = reference_keys(name)
    assert len(ref) == keys
    assert sorted(state_keys(m)) == sorted(ref)
    assert sum(p.numel() for p in m.parameters()) == count


# ---------------------------------------------------------------- the parts

def _attend_graph(body: str, shapes: dict[str, str]):
    inputs = "\n".join(f"    input {k}: {v}" for k, v in shapes.items())
    res = dsl.check_text(f"model M {{\n{inputs}\n    {body}\n}}\n")
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def _manual(q, k, v, heads, kv_heads, scale=None, causal=False, bias=None):
    """Attention written out head by head, the way the papers state it."""
    b, n, _ = q.shape
    m = k.shape[1]
    hd, hv = q.shape[-1] // heads, v.shape[-1] // kv_heads
    scale = 1 / math.sqrt(hd) if scale is None else scale
    outs = []
    for h in range(heads):
        g = h // (heads // kv_heads)
        s = q[..., h * hd:(h + 1) * hd] @ k[..., g * hd:(g + 1) * hd].transpose(-1, -2) * scale
        if bias is not None:
            s = s + bias[:, h if bias.shape[1] > 1 else 0]
        if causal:
            s = s.masked_fill(torch.ones(n, m, dtype=torch.bool).triu(1), float("-inf"))
        outs.append(s.softmax(-1) @ v[..., g * hv:(g + 1) * hv])
    return torch.cat(outs, dim=-1)


@pytest.mark.parametrize("kv_heads, scale, causal", [(4, None, False), (2, None, True), (1, 1.0, False),
                                                     (2, 0.5, True)])
def test_attend_is_scaled_dot_product_attention_with_grouped_heads(kv_heads, scale, causal):
    scale_arg = "none" if scale is None else scale
    g = _attend_graph(f"attend(q, k, v, heads=4, kv_heads={kv_heads}, scale={scale_arg}, causal={str(causal).lower()})",
                      {"q": "[6, 16]", "k": "[6, " + str(4 * kv_heads) + "]", "v": "[6, " + str(2 * kv_heads) + "]"})
    assert g.outputs[0].shape == (6, 8)  # heads × the values' head width
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 6, 16), torch.randn(2, 6, 4 * kv_heads), torch.randn(2, 6, 2 * kv_heads)
    with torch.no_grad():
        got = lower(g).eval()(q, k, v)
    torch.testing.assert_close(got, _manual(q, k, v, 4, kv_heads, scale, causal), atol=1e-5, rtol=1e-5)


def test_attend_cross_attention_reads_another_length():
    g = _attend_graph("attend(x, mem, mem, heads=2)", {"x": "[seq, 8]", "mem": "[src_len, 8]"})
    assert str(g.outputs[0]) == "[seq, 8]"
    node = next(n for n in g.nodes if n.layer == "attend")
    assert node.macs == Sym.of("seq") * Sym.of("src_len") * 16  # QKᵀ and AV, 8 wide each
    m = lower(g).eval()
    x, mem = torch.randn(2, 3, 8), torch.randn(2, 7, 8)
    with torch.no_grad():
        torch.testing.assert_close(m(x, mem), _manual(x, mem, mem, 2, 2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("heads_of_bias, causal", [(3, False), (1, False), (3, True)])
def test_attend_adds_the_position_bias(heads_of_bias, causal):
    g = _attend_graph(f"attend(x, x, x, heads=3, scale=1, causal={str(causal).lower()}, position_bias=b)",
                      {"x": "[5, 12]", "b": f"[{heads_of_bias}, 5, 5]"})
    x, b = torch.randn(2, 5, 12), torch.randn(2, heads_of_bias, 5, 5)
    with torch.no_grad():
        got = lower(g).eval()(x, b)
    torch.testing.assert_close(got, _manual(x, x, x, 3, 3, 1.0, causal, b), atol=1e-5, rtol=1e-5)


def test_attend_packed_equals_the_three_parts():
    packed = _attend_graph("attend(heads=2, kv_heads=1, causal=true)", {"x": "[6, 16]"})  # 2 + 1 + 1 heads of 4
    assert packed.outputs[0].shape == (6, 8)
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        got = lower(packed).eval()(x)
    q, k, v = x.split([8, 4, 4], dim=-1)
    torch.testing.assert_close(got, _manual(q, k, v, 2, 1, causal=True), atol=1e-5, rtol=1e-5)


def test_attend_on_windows_treats_leading_dimensions_as_batch():
    g = _attend_graph("attend(x, x, x, heads=2, position_bias=b)", {"x": "[3, 4, 8]", "b": "[2, 4, 4]"})
    node = next(n for n in g.nodes if n.layer == "attend")
    assert node.macs == 3 * 4 * 4 * 16
    x, b = torch.randn(2, 3, 4, 8), torch.randn(2, 2, 4, 4)
    with torch.no_grad():
        got = lower(g).eval()(x, b)
    for w in range(3):
        xw = x[:, w]
        torch.testing.assert_close(got[:, w], _manual(xw, xw, xw, 2, 2, bias=b), atol=1e-5, rtol=1e-5)


def _rotate_pairs(x, base, dims):
    """Rotary positions written as rotations of the feature pairs (i, i + dims/2) by pos·base^(-2i/dims)."""
    out = x.clone()
    for pos in range(x.shape[-2]):
        for i in range(dims // 2):
            angle = pos * base ** (-2 * i / dims)
            a, b = x[..., pos, i], x[..., pos, i + dims // 2]
            out[..., pos, i] = a * math.cos(angle) - b * math.sin(angle)
            out[..., pos, i + dims // 2] = b * math.cos(angle) + a * math.sin(angle)
    return out


@pytest.mark.parametrize("rotary_dims", [None, 4])
def test_attend_rotary_rotates_queries_and_keys_by_position(rotary_dims):
    dims = "none" if rotary_dims is None else rotary_dims
    g = _attend_graph(f"attend(q, k, v, heads=2, rotary=100.0, rotary_dims={dims})",
                      {"q": "[5, 16]", "k": "[5, 16]", "v": "[5, 16]"})
    q, k, v = torch.randn(1, 5, 16), torch.randn(1, 5, 16), torch.randn(1, 5, 16)
    rd = rotary_dims or 8

    def per_head(x):
        heads = x.unflatten(-1, (2, 8)).transpose(1, 2)
        return _rotate_pairs(heads, 100.0, rd).transpose(1, 2).flatten(-2)

    with torch.no_grad():
        got = lower(g).eval()(q, k, v)
    torch.testing.assert_close(got, _manual(per_head(q), per_head(k), v, 2, 2), atol=1e-5, rtol=1e-5)


def test_rmsnorm_is_llamas_and_computes_in_float32():
    from transformers.models.llama.modeling_llama import LlamaRMSNorm
    g = _attend_graph("rmsnorm(eps=1e-5)", {"x": "[4, 32]"})
    assert g.params == 32
    ours = lower(g).eval()
    ref = LlamaRMSNorm(32, eps=1e-5)
    with torch.no_grad():
        ref.weight.normal_()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 4, 32) * 300
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))
        half = x.to(torch.bfloat16)
        ours.to(torch.bfloat16), ref.to(torch.bfloat16)
        assert torch.equal(ours(half), ref(half))


def test_transposed_linear_stores_the_weight_in_out_as_conv1d():
    from transformers.pytorch_utils import Conv1D
    g = _attend_graph("linear(12, transposed=true)", {"x": "[5, 8]"})
    assert g.params == 8 * 12 + 12
    ours = lower(g).eval()
    assert tuple(ours.weight.shape) == (8, 12)
    ref = Conv1D(12, 8)
    with torch.no_grad():
        ref.bias.normal_()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_one_embedding_read_by_two_inputs_is_one_table():
    src = """
    model Shared {
        input a: int[seq]
        input b: int[len]
        shared: a -> embedding(50, 8)
        other: b -> embedding(50, 8, tie=shared)
        output shared, other
    }
    """
    g = dsl.check_text(src).graph
    assert g is not None and g.params == 50 * 8  # counted once
    m = lower(g).eval()
    assert m.other.weight is m.shared.weight
    assert [k for k, _ in state_keys(m)] == ["shared.weight", "other.weight"]
    assert sum(p.numel() for p in m.parameters()) == 400
    ids = torch.randint(0, 50, (2, 4))
    with torch.no_grad():
        x, y = m(ids, ids)
    torch.testing.assert_close(x, y)
    text = python_source(g)
    assert "self.other.weight = self.shared.weight" in text
