"""ConvNeXt-T (specs/convnext_tiny.arch) against torchvision, through committed fixtures.

torchvision is not a dependency of this venv: tests/fixtures/make_convnext_fixtures.py,
run once with a Python that has torchvision, wrote torchvision's keys of
convnext_tiny() (keys/convnext_tiny.keys) and a small ConvNeXt's state_dict,
input and eval output (convnext_small_ref.pt). Here the full spec's count, MACs
and keys are checked against the first, and the spec at the small config, and
the Python source generated from it, must load the second strictly and give its
output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from archlang.compiler.lower import lower
from conftest import SPECS, generated_class
from reference import reference_keys, state_keys

from archlang import dsl

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "convnext_small_ref.pt"
SPEC = SPECS / "convnext_tiny.arch"
TOL = 1e-4


@pytest.fixture(scope="module")
def ref() -> dict:
    return torch.load(FIXTURE, weights_only=True)


def checked(**params):
    res = dsl.check_file(SPEC, params=params or None)
    assert res.ok, "\n".join(map(str, res.diagnostics))
    return res.graph


def small(ref: dict):
    cfg = ref["config"]
    return checked(dims=cfg["dims"], depths=cfg["depths"], classes=cfg["classes"], size=ref["input"].shape[-1])


def test_count_and_macs_are_torchvisions():
    g = checked()
    assert g.params == 28_589_128
    header = (SPECS.parent / "tests" / "fixtures" / "keys" / "convnext_tiny.keys").read_text().splitlines()[0]
    assert f"({g.params:,} parameters)" in header            # the count torchvision's module has
    assert abs(g.macs - 4.456e9) / 4.456e9 < 0.01           # torchvision publishes 4.456 GFLOPS (= MACs)
    assert g.outputs[0].shape == (1000,)


def test_full_keys_and_shapes_are_torchvisions_in_order():
    with torch.device("meta"):
        m = lower(checked())
    assert len(reference_keys("convnext_tiny")) == 182
    assert state_keys(m) == reference_keys("convnext_tiny")


def test_small_config_loads_torchvisions_state_dict_and_matches(ref):
    m = lower(small(ref)).eval()
    m.load_state_dict(ref["state_dict"], strict=True)
    assert list(m.state_dict()) == list(ref["state_dict"])
    with torch.no_grad():
        y = m(ref["input"])
    assert y.shape == ref["output"].shape
    assert (y - ref["output"]).abs().max().item() <= TOL


def test_stochastic_depth_rises_block_by_block_as_torchvisions(ref):
    m = lower(small(ref))
    probs = [mod.p for name, mod in m.named_modules() if type(mod).__name__ == "DropPath"]
    assert probs == pytest.approx(ref["drop_path"])
    assert ref["drop_path"][-1] == pytest.approx(0.1) and len(set(ref["drop_path"])) == len(ref["drop_path"])


def test_layer_scale_matters(ref):
    m = lower(small(ref)).eval()
    state = dict(ref["state_dict"])
    state["features.7.0.layer_scale"] = state["features.7.0.layer_scale"] * 0
    m.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = m(ref["input"])
    assert (y - ref["output"]).abs().max().item() > 10 * TOL


def test_generated_source_loads_the_same_state_dict_and_matches(ref, tmp_path: Path):
    m = generated_class(small(ref), tmp_path, "convnext")().eval()
    m.load_state_dict(ref["state_dict"], strict=True)
    with torch.no_grad():
        y = m(ref["input"])
    assert (y - ref["output"]).abs().max().item() <= TOL


def test_std_cnblock_keys_are_torchvisions_block():
    src = 'import "std/convnext"\nmodel M {\n    input x: [8, 14, 14]\n    CNBlock(0.1, 0.5)\n}\n'
    res = dsl.check_text(src)
    assert res.ok, res.diagnostics
    assert res.graph.params == 8 * 49 + 8 + 2 * 8 + (8 * 32 + 32) + (32 * 8 + 8) + 8
    m = lower(res.graph)
    assert [k for k, _ in state_keys(m)] == ["layer_scale", "block.0.weight", "block.0.bias", "block.2.weight",
                                             "block.2.bias", "block.3.weight", "block.3.bias", "block.5.weight",
                                             "block.5.bias"]
    torch.testing.assert_close(m.layer_scale, torch.full((8, 1, 1), 0.5))
