"""Every fenced `arch` example of LANGUAGE.md (docs/ copy) checks and builds as written."""

from __future__ import annotations

import re

import pytest
import torch
from archlang.compiler.lower import lower
from archlang.dsl import check_text
from conftest import ROOT

DOC = ROOT / "docs" / "LANGUAGE.md"
EXAMPLES = re.findall(r"```arch\n(.*?)```", DOC.read_text(), flags=re.S)

# Examples that define blocks only are used inside a model: input shape, then calls.
USES = {
    "BasicBlock": ("[64, 56, 56]", "BasicBlock(64) -> BasicBlock(128, stride=2)", (128, 28, 28)),
}


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_checks_and_builds(index):
    src = EXAMPLES[index]
    expected = None
    if "model " not in src:
        name = re.search(r"block (\w+)", src).group(1)
        shape, calls, expected = USES[name]
        src += f"\nmodel Use {{\n    input x: {shape}\n    {calls}\n}}\n"
    res = check_text(src, root=ROOT)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    g = res.graph
    if expected is not None:
        assert g.outputs[0].shape == expected
    m = lower(g).eval()
    with torch.no_grad():
        y = m(*[torch.randn(2, *p.shape) for p in g.inputs])
    assert tuple(y.shape[1:]) == g.outputs[0].shape
