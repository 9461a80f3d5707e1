"""torchview, the other way people look inside a torch model, folds the built model at the spec's blocks.

torchview draws a module tree to a chosen depth: at depth 1 the stages, at
depth 2 the blocks. The built ResNet-18 must give the same picture as the
plain-torch one written the way torchvision writes it (tests/plain_nets.py):
the same modules, in the same order, at the same depths — not the thousands
of tensor ops a model without real submodules unrolls into.
"""

from __future__ import annotations

import re

import pytest
import torch
import torchview  # a test dependency (the dev extra): a missing one fails, it does not skip
from plain_nets import ResNet18

from archlang import compiler

_BOX = re.compile(r'<TD ROWSPAN="2">([^<]*)<BR/>depth:(\d+)</TD>')


def _boxes(model: torch.nn.Module, depth: int) -> list[tuple[str, int]]:
    """The (module or function, depth) boxes torchview draws, top to bottom."""
    graph = torchview.draw_graph(model, input_size=(1, 3, 64, 64), depth=depth, save_graph=False)
    # The spec flattens with a layer (`Flatten`), torchvision with `torch.flatten`: one box either way.
    return [(name.lower(), int(d)) for name, d in _BOX.findall(graph.visual_graph.source)]


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return compiler.build("specs/resnet18.arch", classes=10).eval(), ResNet18(10).eval()


@pytest.mark.parametrize("depth", [1, 2])
def test_torchview_draws_the_built_resnet18_as_the_reference(models, depth):
    built, ref = models
    boxes = _boxes(built, depth)
    assert boxes == _boxes(ref, depth)
    blocks = [b for b in boxes if b == ("basicblock", 2)]
    assert len(blocks) == (8 if depth == 2 else 0)
    assert boxes.count(("sequential", 1)) == (4 if depth == 1 else 0)
