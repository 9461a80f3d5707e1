"""In-place activations (issue #13): the plan grants `nn.ReLU(inplace=True)` only where it cannot change a result.

Stage: lowering. `compiler.plan._in_place` decides from the checked graph and the catalogue's facts (`fresh`,
`in_place` on `compiler.torch_layers` entries); these tests check which relus it grants in ResNet-18/50, that
every shipped spec gives the same outputs and parameter gradients with the grant and without it, and that a
relu whose input another step reads, or a view, or a model input, keeps out of place.
"""

from __future__ import annotations

import pytest
import torch
from archlang.compiler.inputs import random_inputs
from archlang.compiler.lower import lower
from archlang.compiler.plan import lowering_plan
from archlang.compiler.torch_layers import REGISTRY
from conftest import SPECS
from torch import nn

from archlang import dsl

SHIPPED = sorted(p.stem for p in SPECS.glob("*.arch"))
# The weights-heavy language models, shrunk: the grant depends on the graph's shape, not on its sizes.
SMALLER = {
    "t5_small": dict(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=2, num_decoder_layers=2, num_heads=2),
    "transformer": dict(d=16, heads=2, depth=2, ff=32),
    "vgg16": dict(classes=10),
}


def _graph(name: str, **params):
    res = dsl.check_file(SPECS / f"{name}.arch", params=params or None)
    assert res.ok, res.diagnostics
    if res.graph.symbols:  # sequence lengths: give each one a size
        res = dsl.check_file(SPECS / f"{name}.arch", params={**params, **{s: 6 for s in res.graph.symbols}})
        assert res.ok, res.diagnostics
    return res.graph


def _relus(m: nn.Module) -> dict[str, bool]:
    return {n: x.inplace for n, x in m.named_modules() if isinstance(x, (nn.ReLU, nn.ReLU6))}


def _reader_layer(g, name: str) -> str:
    """The layer (or kind) of the value the relu at module path `name` reads."""
    n = next(n for n in g.nodes if n.name == name)
    src = g.node(n.inputs[0])
    return src.layer or src.kind


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnet_relus_after_batchnorm_and_after_the_residual_run_in_place(name):
    g = _graph(name, classes=10)
    m = lower(g)
    relus = _relus(m)
    sources = {path: _reader_layer(g, path) for path in relus}
    # Each relu reads a batchnorm (the stem, inside a block) or the block's sum; all of them run in place, as
    # torchvision's `nn.ReLU(inplace=True)`.
    assert set(sources.values()) == {"batchnorm", "add"}, sources
    assert all(relus.values()), relus
    after_add = [p for p, s in sources.items() if s == "add"]
    assert len(after_add) == {"resnet18": 8, "resnet50": 16}[name]
    # The switch: nothing in place.
    assert not any(_relus(lower(g, inplace=False)).values())


@pytest.mark.parametrize("name", SHIPPED)
def test_in_place_changes_no_output_and_no_gradient(name):
    g = _graph(name, **SMALLER.get(name, {}))
    granted = [e for e in lowering_plan(g, REGISTRY).elements if e.inplace]
    if not granted:  # then the two plans are one: nothing to compare
        assert lowering_plan(g, REGISTRY) == lowering_plan(g, REGISTRY, inplace=False)
        return
    torch.manual_seed(0)
    fast = lower(g).train()
    slow = lower(g, inplace=False).train()
    slow.load_state_dict(fast.state_dict())
    assert any(_relus(fast).values()) and not any(_relus(slow).values())
    xs = random_inputs(g, 2, torch.Generator().manual_seed(1))
    kept = [x.clone() for x in xs]
    results = []
    for m in (fast, slow):
        torch.manual_seed(2)  # dropout draws the same masks in both
        out = m(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        sum((o.float() * torch.linspace(-1, 1, o.numel()).view(o.shape)).sum() for o in outs).backward()
        grads = {k: p.grad for k, p in m.named_parameters()}
        results.append(([o.detach() for o in outs], grads))
    for x, k in zip(xs, kept):
        assert torch.equal(x, k)  # a model input is never overwritten
    (outs_a, grads_a), (outs_b, grads_b) = results
    assert all(torch.equal(a, b) for a, b in zip(outs_a, outs_b))
    assert grads_a.keys() == grads_b.keys()
    for k in grads_a:
        assert (grads_a[k] is None) == (grads_b[k] is None), k
        assert grads_a[k] is None or torch.equal(grads_a[k], grads_b[k]), k


def _built(body: str, shape: str = "[4, 6, 6]"):
    text = f"model M {{\n    input x: {shape}\n{body}\n}}\n"
    res = dsl.check_text(text)
    assert res.ok, res.diagnostics
    return res.graph, lower(res.graph)


def test_a_relu_whose_input_another_step_reads_keeps_out_of_place():
    g, m = _built("""    c: conv(4, 3, padding=1)
    r: c -> relu
    s: add(c, r)""")
    assert _relus(m) == {"r": False}
    g, m = _built("""    c: conv(4, 3, padding=1)
    r: c -> relu""")
    assert _relus(m) == {"r": True}  # the same relu, read by no one else: in place


def test_a_relu_of_a_view_or_of_an_output_or_input_keeps_out_of_place():
    _, m = _built("""    c: conv(4, 3, padding=1)
    f: flatten
    r: relu""")
    assert _relus(m) == {"r": False}
    _, m = _built("""    c: conv(4, 3, padding=1)
    f: reshape(4, 36)
    r: relu""")
    assert _relus(m) == {"r": False}
    _, m = _built("""    s: sigmoid
    r: relu""")  # sigmoid keeps its output for the backward
    assert _relus(m) == {"r": False}
    _, m = _built("""    r: relu
    l: linear(3)""", "[12]")
    assert _relus(m) == {"r": False}  # a model input
    x = torch.randn(2, 12)
    before = x.clone()
    m(x)
    assert torch.equal(x, before)


def test_codegen_writes_the_in_place_relu_the_build_has():
    from archlang.compiler.codegen import python_source

    g, _ = _built("""    c: conv(4, 3, padding=1)
    b: batchnorm
    r: relu
    f: flatten
    q: relu""")
    text = python_source(g)
    assert "nn.ReLU(inplace=True)" in text and text.count("nn.ReLU()") == 1
