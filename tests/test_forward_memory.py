"""A built model lets go of a value as soon as its last reader has run.

The lowering plan says after which step each value is read no more
(`Step.frees`); the module tree's forward must then hold no other reference to
it, so that the next layer's output can take its memory, as in a hand-written
`forward` that rebinds `out`. A value kept one step too long costs a fresh
allocation of a whole activation: ResNet-50's conv3 output held while the add
allocated was 6 % of its forward. These tests watch a value through a weak
reference from the step that makes it to the first step after its last reader.
"""

from __future__ import annotations

import weakref

import torch
from archlang.compiler.lower import lower

from archlang import dsl

# `b` is the last reader of `a`'s output, and `d` of `c`'s; what runs next is a block call (a module of
# its own) or the residual's implicit add, not a layer call of this level.
SPEC = """
block Inner() {
    probe: linear(8)
}

model Freed {
    input x: [4, 8]
    a: linear(8)
    b: linear(8)
    inner: Inner()
    residual {
        c: linear(8)
        d: linear(8)
    }
    after: Inner()
}
"""


def _model() -> torch.nn.Module:
    res = dsl.check_text(SPEC)
    assert res.ok, res.diagnostics
    return lower(res.graph).eval()


def _alive_when(model: torch.nn.Module, made_by: str, checked_at: str) -> bool:
    """Whether the output of `made_by` is still referenced when `checked_at` starts."""
    modules = dict(model.named_modules())
    seen: dict[str, weakref.ref] = {}
    alive: list[bool] = []

    def made(module, inputs, out) -> None:  # a hook that returns nothing leaves the output as it is
        seen["v"] = weakref.ref(out)

    def check(module, inputs) -> None:
        alive.append(seen["v"]() is not None)

    modules[made_by].register_forward_hook(made)
    modules[checked_at].register_forward_pre_hook(check)
    with torch.no_grad():
        model(torch.randn(4, 8))
    assert len(alive) == 1
    return alive[0]


def test_a_value_is_gone_when_the_block_after_its_last_reader_runs():
    assert not _alive_when(_model(), "a", "inner.probe")


def test_a_value_read_inside_a_residual_is_gone_once_the_add_has_run():
    assert not _alive_when(_model(), "c", "after.probe")


def test_a_value_still_to_be_read_stays():
    # The residual's input (`inner`'s output) is read again by the add after `d`.
    assert _alive_when(_model(), "inner.probe", "d")
