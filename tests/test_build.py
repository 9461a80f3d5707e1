"""Built modules are ordinary torch modules: they match the checker, compile, pickle and export."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from archlang.compiler.inputs import random_inputs
from archlang.compiler.lower import lower
from conftest import SPECS

from archlang import compiler, dsl

SMALL_SPECS = ["cats_vs_dogs", "resnet18", "mobilenet_v2"]


@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.arch")))
def test_every_spec_builds_and_its_output_shape_is_the_checked_one(name):
    res = dsl.check_file(SPECS / f"{name}.arch")
    assert res.ok, res.diagnostics
    if res.graph.symbols:  # sequence lengths: give each one a size, as `run --set seq=8` does
        res = dsl.check_file(SPECS / f"{name}.arch", params={s: 8 for s in res.graph.symbols})
    g = res.graph
    m = lower(g).eval()
    assert sum(p.numel() for p in m.parameters()) == g.params
    with torch.no_grad():
        y = m(*random_inputs(g, 1))
    outs = y if isinstance(y, tuple) else (y,)
    assert [tuple(o.shape[1:]) for o in outs] == [p.shape for p in g.outputs]


def test_build_takes_model_parameters():
    m = compiler.build(SPECS / "cats_vs_dogs.arch", classes=7)
    assert m(torch.randn(2, 3, 128, 128)).shape == (2, 7)


def test_build_raises_one_error_type_with_the_diagnostics(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("model M { input x: [4]\n rellu }\n")
    with pytest.raises(compiler.DiagnosticError) as e:
        compiler.build(bad)
    assert e.value.diagnostics[0].code == "E101"
    assert "did you mean `relu`" in str(e.value)


def test_runs_under_torch_compile_fullgraph():
    m = compiler.build(SPECS / "cats_vs_dogs.arch").eval()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        expected = m(x)
        got = torch.compile(m, fullgraph=True, backend="eager")(x)
    torch.testing.assert_close(got, expected)


def test_residual_network_compiles_fullgraph_and_exports():
    src = """
    import "std/resnet"
    model Tiny {
        input image: [3, 16, 16]
        conv(8, 3, padding=1) -> BasicBlock(8) -> BasicBlock(16, stride=2)
        global_avgpool -> flatten -> linear(4)
    }
    """
    res = dsl.check_text(src, root=SPECS)
    assert res.ok, res.diagnostics
    m = lower(res.graph).eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = m(x)
        torch.testing.assert_close(torch.compile(m, fullgraph=True, backend="eager")(x), expected)
    exported = torch.export.export(m, (x,))
    torch.testing.assert_close(exported.module()(x), expected)


def test_pickles_and_keeps_its_weights():
    m = compiler.build(SPECS / "cats_vs_dogs.arch").eval()
    buf = io.BytesIO()
    torch.save(m, buf)
    buf.seek(0)
    m2 = torch.load(buf, weights_only=False)
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(m2(x), m(x))
    assert pickle.loads(pickle.dumps(m)).state_dict().keys() == m.state_dict().keys()


def test_a_model_of_one_unlabelled_layer_is_that_layer():
    res = dsl.check_text("model M { input x: [4]\n linear(2) }")
    m = lower(res.graph)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m(torch.randn(3, 4)).shape == (3, 2)


def test_naming_rules_of_section_6():
    src = """
    block Two(c) {
        a: linear(c)
        relu
        b: linear(c) -> tanh
    }
    model M {
        input x: [4]
        first: linear(8)
        linear(8) -> relu
        stack: repeat(2) { Two(8) }
        pair: Two(8) -> Two(8)
        head: { relu; out: linear(3) }
    }
    """
    res = dsl.check_text(src)
    assert res.ok, res.diagnostics
    keys = [k for k in lower(res.graph).state_dict() if k.endswith("weight")]
    assert keys == [
        "first.weight", "1.weight",
        "stack.0.a.weight", "stack.0.b.0.weight", "stack.1.a.weight", "stack.1.b.0.weight",
        "pair.0.a.weight", "pair.0.b.0.weight", "pair.1.a.weight", "pair.1.b.0.weight",
        "head.out.weight",
    ]


@pytest.fixture
def toy_layer():
    """A throwaway layer added through the two catalogues only, removed afterwards."""
    from archlang.compiler import torch_layers
    from archlang.dsl.layers import registry as dsl_catalogue
    from archlang.dsl.layers.base import Layer

    class Softsign(Layer):
        name = "softsign"
        summary = "x / (1 + |x|)"
        io = "shape kept"

    dsl_catalogue.register(Softsign())
    torch_layers.register("softsign", lambda node, ins: torch.nn.Softsign())
    yield "softsign"
    dsl_catalogue.unregister("softsign")
    torch_layers.unregister("softsign")
    assert "softsign" not in dsl_catalogue.REGISTRY and "softsign" not in torch_layers.REGISTRY


def test_a_layer_added_through_the_two_catalogues_builds_and_generates(toy_layer):
    """Issue 11's test: one entry per catalogue, and every back end knows the layer; nothing else is edited."""
    from archlang.compiler.codegen import python_source
    from archlang.compiler.diagram import draw
    from archlang.compiler.report import summary_table

    res = dsl.check_text(f"model M {{ input x: [4]\n linear(3) -> {toy_layer}  # squashed\n}}")
    assert res.ok, res.diagnostics
    assert [n.layer for n in res.graph.nodes] == ["input", "linear", "softsign"]
    rows = [line.split() for line in summary_table(res.graph).splitlines()]
    assert ["1", "softsign", "[3]", "0", "0"] in rows
    picture = draw(res.graph).text
    assert "(linear 3 → softsign)" in picture and "squashed" in picture
    m = lower(res.graph).eval()
    x = torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(m(x), torch.nn.functional.softsign(getattr(m, "0")(x)))
    text = python_source(res.graph)
    assert "self.append(nn.Softsign())" in text
    scope: dict = {}
    exec(compile(text, "generated.py", "exec"), scope)
    generated = scope["M"]().eval()
    generated.load_state_dict(m.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(generated(x), m(x))


def test_one_plan_places_ties_bare_parameters_picks_and_residuals():
    from archlang.compiler.plan import Bare, Call, Pick, Residual, Tie, lowering_plan
    from archlang.compiler.torch_layers import REGISTRY as TORCH_REGISTRY

    def plan(path, **params):
        g = dsl.check_file(SPECS / path, params=params).graph
        return g, lowering_plan(g, TORCH_REGISTRY)

    g, p = plan("gpt2_small.arch", vocab_size=100, n_positions=16, n_embd=32, n_head=2, n_layer=2, seq=8)
    head = next(e for e in p.elements if e.path == ("lm_head",))
    assert head.ties == (Tie("weight", p.elements[0].node),) and p.elements[0].path == ("transformer", "wte")
    assert any(isinstance(s, Residual) for s in p.steps)
    assert all(not s.frees or set(s.frees).isdisjoint(p.outputs) for s in p.steps)
    g, p = plan("vit_b16.arch", classes=10, hidden_dim=32, num_heads=2, mlp_dim=64)
    bare = [s.path for s in p.steps if isinstance(s, Bare)]
    assert bare == [("class_token",), ("encoder", "pos_embedding")]
    g, p = plan("lstm_translator.arch", src_len=5, tgt_len=4)
    picks = [s for s in p.steps if isinstance(s, Pick)]
    assert [(g.node(s.source).name, s.member) for s in picks] == [("encoder", "state")]
    assert p.element(picks[0].source).path == ("encoder",)
    assert next(s for s in p.steps if s.node == picks[0].source).multi
    res = dsl.check_text("model M { input x: [4]\n linear(2) }")
    p = lowering_plan(res.graph, TORCH_REGISTRY)
    assert p.root_alias is not None and [type(s) for s in p.steps] == [Call] and p.steps[0].path == ()


@pytest.mark.parametrize("spec, params", [("resnet18.arch", {}), ("mobilenet_v2.arch", {}),
                                          ("transformer.arch", {"d": 32, "heads": 2, "depth": 2, "ff": 64})])
def test_the_summary_counts_the_buffers_a_built_model_keeps(spec, params):
    from archlang.compiler.report import summary_facts

    g = dsl.check_file(SPECS / spec, params=params).graph
    m = lower(g)
    names = {k for k, _ in m.named_parameters()}
    kept = sum(v.numel() for k, v in m.state_dict().items() if k not in names)
    assert summary_facts(g)["buffers"] == kept
