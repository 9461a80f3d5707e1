"""Paths into a `repeat` (LANGUAGE.md §2): a pass is named by its number; a pass of one unlabelled
block call is that call, so its labels are the pass's; inside the repeat, earlier passes are reachable."""

from __future__ import annotations

import torch
from archlang.compiler.lower import lower

from archlang import dsl

BLOCK = """
block B() {
    a: linear(4)
    b: linear(4)
}
"""


def test_a_pass_of_one_block_call_has_the_calls_labels():
    res = dsl.check_text(BLOCK + "model M {\n input x: [4]\n h: repeat(3) { B() }\n h.2.a -> linear(3)\n}\n")
    assert res.ok, res.diagnostics
    last = res.graph.nodes[-1]
    assert res.graph.node(last.inputs[0]).name == "h.2.a"


def test_a_pass_of_several_elements_keeps_only_its_labels():
    res = dsl.check_text(BLOCK + "model M {\n input x: [4]\n h: repeat(2) { B() -> relu }\n h.1.a -> linear(3)\n}\n")
    assert [d.code for d in res.diagnostics] == ["E401"]


def test_a_later_pass_reads_an_earlier_pass_by_the_repeats_label():
    src = "model M {\n input x: [4]\n h: repeat(3, i) {\n  a: linear(4)\n  if i > 0 { add(h.0.a) }\n }\n}\n"
    res = dsl.check_text(src)
    assert res.ok, res.diagnostics
    g = res.graph
    adds = [n for n in g.nodes if n.layer == "add"]
    first = next(n for n in g.nodes if n.name == "h.0.a")
    assert [n.name for n in adds] == ["h.1.1", "h.2.1"] and all(first.id in n.inputs for n in adds)
    m = lower(g).eval()
    x = torch.randn(2, 4)
    with torch.no_grad():
        a = [getattr(m.h, str(k)).a for k in range(3)]
        a0 = a[0](x)
        torch.testing.assert_close(m(x), a[2](a[1](a0) + a0) + a0)


def test_a_pass_not_made_yet_cannot_be_read():
    src = "model M {\n input x: [4]\n h: repeat(2, i) {\n  a: linear(4)\n  if i > 0 { add(h.1.a) }\n }\n}\n"
    res = dsl.check_text(src)
    assert [(d.code, d.span.line) for d in res.diagnostics] == [("E401", 5)]
