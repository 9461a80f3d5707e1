"""A block call's frame records its parameters as bound at the call (`Frame.args`).

LANGUAGE.md §3: a block's parameters are declared `Name(a, b = 2, ...)` and
callers pass them by position or by name. The checked graph keeps, for each
block call, what every parameter was bound to there: in declared order, the
defaults filled in, whichever way the caller wrote them. A parameter given a
tensor (an input or a label) is no constant and is left out. Frames of other
kinds (repeats, passes, groups, chains) record none.

A call the checker copies from an earlier one (`dsl.expand.reuse`) records
the same as a walk would, and each frame holds its own dict. Codegen names a
block's constructor arguments after its parameters from these records, so a
parameter that no layer argument names directly is known too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from archlang.compiler.codegen import python_source
from archlang.compiler.lower import lower
from conftest import generated_class

from archlang import dsl

ROOT = Path(__file__).resolve().parents[1]


def block_args(g) -> dict[str, dict]:
    """Each block frame's args, by its path."""
    return {f.path: f.args for f in g.frames if f.kind == "block"}


def test_a_block_call_records_its_parameters_with_defaults_filled(check_src):
    res = check_src("""
        import "std/resnet"
        model M {
            input image: [64, 56, 56]
            a: BasicBlock(64)
            b: BasicBlock(128, stride=2)
            c: Bottleneck(stride=2, planes=32)
        }
    """)
    assert res.ok
    args = block_args(res.graph)
    assert args == {
        "a": {"planes": 64, "stride": 1},
        "b": {"planes": 128, "stride": 2},
        "c": {"planes": 32, "stride": 2, "expansion": 4},
    }
    assert list(args["c"]) == ["planes", "stride", "expansion"]  # declared order, not the call's


def test_values_are_the_checkers_own(check_src):
    # Whatever the parameter holds: a computed number, a float, a string, a boolean, none, a list.
    res = check_src("""
        let base = 8
        block B(width, scale = 0.5, act = "relu", norm = true, extra = none, sizes = [1, 2]) {
            linear(width)
        }
        model M {
            input x: [4]
            B(base * 2, act="gelu", sizes=[3, base])
        }
    """)
    assert res.ok
    f = next(f for f in res.graph.frames if f.kind == "block")
    assert f.args == {"width": 16, "scale": 0.5, "act": "gelu", "norm": True, "extra": None, "sizes": [3, 8]}
    assert type(f.args["width"]) is int and type(f.args["norm"]) is bool


def test_a_tensor_parameter_is_left_out(check_src):
    res = check_src("""
        block Gate(other, width) {
            linear(width) -> mul(other)
        }
        model M {
            input x: [5, 8]
            skip: linear(8)
            Gate(skip, 8)
        }
    """)
    assert res.ok
    assert [f.args for f in res.graph.frames if f.kind == "block"] == [{"width": 8}]


def test_other_frames_record_no_arguments(check_src):
    res = check_src("""
        block B(width) {
            linear(width)
        }
        model M {
            input x: [4]
            g: { linear(4) }
            r: repeat(2, i) { B(4 + i) }
        }
    """)
    assert res.ok
    kinds = {f.kind for f in res.graph.frames}
    assert {"group", "repeat", "pass", "block"} <= kinds
    assert all(f.args == {} for f in res.graph.frames if f.kind != "block")
    assert block_args(res.graph) == {"r.0": {"width": 4}, "r.1": {"width": 5}}


def test_nested_blocks_record_their_own_calls(check_src):
    res = check_src("""
        block Inner(width, act = "relu") {
            linear(width)
        }
        block Outer(width) {
            a: Inner(width * 2)
            b: Inner(width, act="gelu")
        }
        model M {
            input x: [4]
            p: Outer(4)
            q: Outer(4)
            r: Outer(6)
        }
    """)
    assert res.ok
    assert block_args(res.graph) == {
        "p": {"width": 4}, "p.a": {"width": 8, "act": "relu"}, "p.b": {"width": 4, "act": "gelu"},
        "q": {"width": 4}, "q.a": {"width": 8, "act": "relu"}, "q.b": {"width": 4, "act": "gelu"},
        "r": {"width": 6}, "r.a": {"width": 12, "act": "relu"}, "r.b": {"width": 6, "act": "gelu"},
    }


# ---------------------------------------------------------------- copied calls


@pytest.mark.parametrize("spec", ["resnet50", "efficientnet_b0"])
def test_a_copied_call_records_what_a_walk_records(spec, replays, request):
    # ResNet-50's layer3.4 is a copy of layer3.1; EfficientNet's copies hold nested blocks (ConvBNAct, ...).
    fast = dsl.check_file(ROOT / "specs" / f"{spec}.arch").graph
    assert replays[0] > 0
    request.getfixturevalue("walk_everything")
    full = dsl.check_file(ROOT / "specs" / f"{spec}.arch").graph
    assert [(f.path, f.args) for f in fast.frames] == [(f.path, f.args) for f in full.frames]
    assert all(list(f.args) == list(g.args) for f, g in zip(fast.frames, full.frames))
    if spec == "resnet50":
        assert block_args(fast)["layer3.4"] == {"planes": 256, "stride": 1, "expansion": 4}
    # every frame its own dict: none shared with another frame, nor with another graph
    seen = {id(f.args) for f in fast.frames}
    assert len(seen) == len(fast.frames)
    assert not seen & {id(f.args) for f in full.frames}


def test_copied_nested_frames_do_not_share_their_args(check_src, replays):
    res = check_src("""
        block Inner(width) {
            linear(width)
        }
        block Outer(width) {
            a: Inner(width)
            b: Inner(width * 2)
        }
        model M {
            input x: [4]
            linear(8)
            p: Outer(4)
            q: Outer(4)
        }
    """)
    assert res.ok and replays[0] == 1  # q is a copy of p, q.a and q.b with it
    frames = {f.path: f for f in res.graph.frames}
    assert frames["q.b"].args == frames["p.b"].args == {"width": 8}
    assert frames["q.b"].args is not frames["p.b"].args
    assert frames["q"].args is not frames["p"].args


# ---------------------------------------------------------------- codegen


def _same_module(g, tmp_path: Path) -> None:
    """The generated class, given the built module's weights, computes what the built module computes."""
    torch.manual_seed(0)
    built = lower(g).eval()
    made = generated_class(g, tmp_path, g.name)().eval()
    made.load_state_dict(built.state_dict(), strict=True)
    x = torch.randn(2, *g.inputs[0].shape)
    with torch.no_grad():
        torch.testing.assert_close(made(x), built(x))


def test_a_parameter_known_only_from_the_frame_names_a_constructor_argument(check_src, tmp_path):
    # `width` reaches a layer only through an expression: no layer argument names it.
    res = check_src("""
        block Scale(width, wide = false) {
            residual {
                inner: linear(2 * width if wide else width)
                relu
                outer: linear(in.shape[-1])
            }
        }
        model Small {
            input x: [5, 8]
            a: Scale(16)
            b: Scale(12)
        }
    """)
    assert res.ok
    text = python_source(res.graph)
    assert "    def __init__(self, width: int) -> None:" in text
    assert "        self.inner = nn.Linear(8, width)\n" in text
    assert "        self.a = Scale(16)\n        self.b = Scale(12)\n" in text
    _same_module(res.graph, tmp_path)


def test_a_let_of_parameters_is_computed_from_them(check_src, tmp_path):
    # `hidden` is the only name a layer argument gives; the parameters it is made of become the arguments.
    res = check_src("""
        block Mlp(width, ratio = 4) {
            let hidden = width * ratio
            residual {
                up: linear(hidden)
                gelu
                down: linear(in.shape[-1])
            }
        }
        model Small {
            input x: [5, 8]
            a: Mlp(8)
            b: Mlp(6)
            c: Mlp(4, ratio=2)
        }
    """)
    assert res.ok
    text = python_source(res.graph)
    assert "    def __init__(self, width: int, ratio: int = 4) -> None:" in text
    assert "        hidden = width * ratio\n        self.up = nn.Linear(8, hidden)\n" in text
    assert "        self.a = Mlp(8)\n        self.b = Mlp(6)\n        self.c = Mlp(4, ratio=2)\n" in text
    _same_module(res.graph, tmp_path)


def test_a_definition_whose_file_is_gone_still_names_its_parameters(check_src, tmp_path):
    res = check_src("""
        block Scale(width) {
            residual {
                inner: linear(width + 0)
                relu
                outer: linear(in.shape[-1])
            }
        }
        model Small {
            input x: [5, 8]
            a: Scale(16)
            b: Scale(12)
        }
    """, name="gone.arch")
    assert res.ok
    (tmp_path / "gone.arch").unlink()
    text = python_source(res.graph)
    assert "    def __init__(self, width: int) -> None:" in text
    _same_module(res.graph, tmp_path)


def test_an_edited_definition_does_not_overrule_the_checked_graph(check_src, tmp_path):
    # The file now declares other parameters: its defaults and `let`s are not the checked call's, so only
    # the frame's values are used.
    src = """
        block Mlp(width, ratio = 4) {
            let hidden = width * ratio
            residual {
                up: linear(hidden)
                gelu
                down: linear(in.shape[-1])
            }
        }
        model Small {
            input x: [5, 8]
            a: Mlp(8)
            b: Mlp(6, ratio=2)
        }
    """
    res = check_src(src, name="edited.arch")
    assert res.ok
    (tmp_path / "edited.arch").write_text(src.replace("Mlp(width, ratio = 4)", "Mlp(size, ratio = 3)"))
    text = python_source(res.graph)
    assert "    def __init__(self, out_features: int) -> None:" in text  # `hidden` is no longer known
    assert "ratio = 3" not in text and "size" not in text
    _same_module(res.graph, tmp_path)
