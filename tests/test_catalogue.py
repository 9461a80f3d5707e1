"""Each layer is one entry on each side: the checker's catalogue and the torch builders agree."""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.lower import lower
from archlang.compiler.torch_layers import REGISTRY as TORCH_REGISTRY
from archlang.dsl import check_text
from archlang.dsl.layers import REGISTRY


def test_both_catalogues_hold_the_same_layers():
    assert set(REGISTRY) == set(TORCH_REGISTRY)


# One use of every layer: the built module's output shape and parameter count
# must equal what the checker inferred.
CASES = {
    "rnn": ("[5, 6]", "rnn(4, layers=2, nonlinearity=\"relu\")"),
    "lstm": ("[5, 6]", "lstm(4, bidirectional=true)"),
    "gru": ("[5, 6]", "gru(4, layers=2, bidirectional=true, dropout=0.1)"),
    "conv": ("[3, 16, 16]", "conv(8, 3, stride=2, padding=1)"),
    "conv_transpose": ("[8, 7, 7]", "conv_transpose(4, 3, stride=2, padding=1, output_padding=1)"),
    "maxpool": ("[3, 15, 15]", "maxpool(3, stride=2, padding=1)"),
    "avgpool": ("[3, 15, 15]", "avgpool(2, ceil_mode=true)"),
    "adaptive_avgpool": ("[3, 15, 15]", "adaptive_avgpool([4, 2])"),
    "adaptive_maxpool": ("[3, 15]", "adaptive_maxpool(5)"),
    "global_avgpool": ("[3, 4, 5, 6]", "global_avgpool"),
    "linear": ("[5, 7]", "linear(3)"),
    "flatten": ("[3, 4, 5]", "flatten"),
    "reshape": ("[12]", "reshape(3, -1)"),
    "transpose": ("[3, 4, 5]", "transpose(0, -1)"),
    "permute": ("[3, 4, 5]", "permute(2, 0, 1)"),
    "batchnorm": ("[3, 4, 5]", "batchnorm(eps=1e-3)"),
    "layernorm": ("[4, 6]", "layernorm"),
    "groupnorm": ("[6, 4, 4]", "groupnorm(3)"),
    "dropout": ("[4]", "dropout(0.1)"),
    "relu": ("[4]", "relu"), "relu6": ("[4]", "relu6"), "gelu": ("[4]", "gelu(approximate=\"tanh\")"),
    "silu": ("[4]", "silu"),
    "tanh": ("[4]", "tanh"), "sigmoid": ("[4]", "sigmoid"), "identity": ("[4]", "identity"),
    "leaky_relu": ("[4]", "leaky_relu(0.2)"), "hardswish": ("[4]", "hardswish"),
    "hardsigmoid": ("[4]", "hardsigmoid"), "softmax": ("[3, 4]", "softmax(dim=0)"),
    "add": ("[3, 4, 4]", "parallel { identity; global_avgpool } -> add"),
    "mul": ("[3, 4, 4]", "mul(in)"),
    "concat": ("[3, 4, 4]", "parallel { identity; conv(2, 1) } -> concat"),
    "embedding": ("int[5]", "embedding(10, 4, padding_idx=0)"),
    "positional": ("[5, 6]", "positional(8) -> positional(5, learned=false)"),
    "class_token": ("[5, 6]", "class_token"),
    "first": ("[5, 6]", "first"), "last": ("[5, 6]", "last"), "mean": ("[5, 6]", "mean"),
    "attention": ("[5, 8]", "attention(2, causal=true) -> attention(4, bias=false)"),
    # issue 12: the layers modern networks need
    "log_softmax": ("[3, 4]", "log_softmax(dim=0)"), "scale": ("[6, 4, 4]", "scale(1e-6, dim=0)"),
    "drop_path": ("[4]", "drop_path(0.2)"), "pad": ("[3, 5]", "pad(2, 1)"), "slice": ("[3, 5]", "slice(1, -1)"),
    "crop": ("[3, 9, 8]", "crop(4, 5)"), "roll": ("[3, 5]", "roll([1, -2], dim=[0, 1])"),
    "matmul": ("[3, 4, 4]", "matmul(in)"), "sum": ("[3, 4, 5]", "sum(dim=[0, 2], keepdim=true)"),
    "attend": ("[5, 16]", "q: attend(heads=2, kv_heads=1, rotary=10000.0) -> linear(16, transposed=true); "
                          "attend(q, in, in, heads=4, causal=true)"),
    "rmsnorm": ("[4, 6]", "rmsnorm(eps=1e-5)"),
    "relative_bias": ("[5, 8]", "b: relative_bias(2, buckets=8, max_distance=16, bidirectional=false); "
                                "attend(in, in, in, heads=2, causal=true, scale=1, position_bias=b)"),
}


def test_every_layer_has_a_case():
    assert set(CASES) == set(REGISTRY)


@pytest.mark.parametrize("layer", sorted(CASES))
def test_built_layer_matches_the_checked_shape_and_count(layer):
    shape, chain = CASES[layer]
    src = f"block Use {{ {chain} }}\nmodel M {{\n input x: {shape}\n Use\n}}\n"
    res = check_text(src)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    g = res.graph
    m = lower(g).eval()
    port = g.inputs[0]
    x = torch.randint(0, 2, (2, *port.shape)) if port.dtype == "int" else torch.randn(2, *port.shape)
    with torch.no_grad():
        y = m(x)
    assert tuple(y.shape[1:]) == g.outputs[0].shape
    assert sum(p.numel() for p in m.parameters()) == g.params
