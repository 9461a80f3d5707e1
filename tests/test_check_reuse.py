"""The checker's shortcuts give what a full walk gives.

`dsl.expand.reuse` copies a block call's recorded expansion for a later call
with the same block, arguments and input type, and `dsl.expand.layers`
memoises a layer use by its written arguments and input type, for the whole
process (so a check may find uses an earlier one kept). Each spec here
is checked twice, with the shortcuts and with them turned off, and the two
results must match exactly: every node and frame with all its fields
(names, shapes, arguments, spans, notes, statements) and in the same field
order, and every diagnostic as rendered.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from archlang.dsl.expand import layers

from archlang import dsl

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.arch"))
EXAMPLES = sorted((ROOT / "examples").glob("*.arch"))


def _outcome(res: dsl.CheckResult) -> list[str]:
    """Everything a check says, as text that tells apart any difference in value, type or order."""
    out = [d.render() + repr(d) for d in res.diagnostics]
    for g in res.models:
        out.append(repr({k: v for k, v in g.__dict__.items() if k not in ("nodes", "frames")}))
        out += [repr(n) + repr(list(n.__dict__)) + repr(sorted(n.model_fields_set)) for n in g.nodes]
        out += [repr(f) + repr(sorted(f.model_fields_set)) for f in g.frames]
    return out


def _both(check, request) -> tuple[list[str], list[str]]:
    fast = _outcome(check())
    request.getfixturevalue("walk_everything")
    return fast, _outcome(check())


@pytest.mark.parametrize("path", SPECS + EXAMPLES, ids=lambda p: p.stem)
def test_a_shipped_spec_checks_the_same_without_shortcuts(path, request):
    fast, full = _both(lambda: dsl.check_file(path, all_models=True), request)
    assert fast == full


def test_the_shortcuts_are_taken(replays):
    # The measure of the test above: ResNet-50 walks 8 of its 16 Bottleneck calls and copies the rest.
    res = dsl.check_file(ROOT / "specs" / "resnet50.arch")
    assert res.ok and replays[0] == 8
    names = [n.name for n in res.graph.nodes]
    assert "layer3.4.conv1" in names and "layer3.5.downsample.0" not in names


BLOCKS = """
block Pair(n = 4) {
    a: linear(n)
    b: linear(4)
    relu
}
block ReadsMember() {
    in.a -> relu
}
block ReadsShape() {
    linear(in.a.shape[0] * 2)
}
block Same() {
    let k = 1
}
block Noted() {
    in  # the input itself
}
block Twice(n) {
    linear(n) -> relu
    linear(n)
}
"""

CASES = {
    # The input's labels are read: each call must see its own input's `a`.
    "reads the input's member": "p: Pair()\n ReadsMember()\n q: Pair()\n ReadsMember()\n",
    # Only the size of one: the inputs have one shape, their members two.
    "reads the shape of the input's member": "Pair(3) -> ReadsShape()\n Pair(5) -> ReadsShape()\n",
    # A body that makes nothing returns its input, the new call's.
    "returns its input": "linear(4) -> Same() -> linear(4) -> Same() -> relu\n",
    # A note on a read of `in` lands on the input's node, outside the block.
    "notes its input": "linear(4) -> Noted()\n linear(4) -> Noted()\n",
    "repeated with the same arguments": "t: repeat(3) { Twice(4) }\n Twice(4)\n Twice(8)\n",
    "arguments of other types": "Twice(4)\n Twice(4.0)\n Twice(true)\n",
    "labels of the passes": "h: repeat(3) { Pair() }\n h.2.a -> linear(3)\n h.1.b\n",
}


@pytest.mark.parametrize("body", CASES.values(), ids=list(CASES))
def test_a_copied_call_is_what_a_walk_makes(body, request):
    text = BLOCKS + "model M {\n input x: [4]\n " + body + "}\n"
    fast, full = _both(lambda: dsl.check_text(text), request)
    assert fast == full


def test_a_call_that_would_close_a_cycle_is_walked_and_reported(request):
    # B(0) is recorded calling A; inside A, the same call must report the cycle, not be copied.
    text = ("block A(n) {\n if n > 0 { B(n - 1) } else { relu }\n}\n"
            "block B(n) {\n A(n)\n}\n"
            "model M {\n input x: [4]\n B(0)\n A(1)\n}\n")
    fast, full = _both(lambda: dsl.check_text(text), request)
    assert fast == full and any("E109" in line for line in fast)


def test_a_call_that_would_nest_too_deep_is_walked_and_reported(request):
    # L60 → ... → L66 is recorded at depth 1; from L0 the same call would pass the limit of 64.
    blocks = "".join(f"block L{i}() {{\n L{i + 1}()\n}}\n" for i in range(66)) + "block L66() {\n relu\n}\n"
    text = blocks + "model M {\n input x: [4]\n L60()\n L0()\n}\n"
    fast, full = _both(lambda: dsl.check_text(text), request)
    assert fast == full and any("E006" in line for line in fast)


LISTS = """
model M {
    input x: [3, 16, 16]
    conv(8, [3, 3], stride=[1, 1], padding=[1, 1]) -> relu
    conv(8, [3, 3], stride=[1, 1], padding=[1, 1])
}
"""


def test_the_process_memo_of_layer_uses_says_what_a_fresh_check_says(request):
    # `dsl.expand.layers` keeps plain layer uses for the whole process: a check that finds them kept must
    # say what one that works them out says, and both what a full walk says.
    warm = _outcome(dsl.check_file(ROOT / "specs" / "resnet50.arch"))
    layers.forget_layer_uses()
    cold = _outcome(dsl.check_file(ROOT / "specs" / "resnet50.arch"))
    again = _outcome(dsl.check_file(ROOT / "specs" / "resnet50.arch"))
    request.getfixturevalue("walk_everything")
    assert warm == cold == again == _outcome(dsl.check_file(ROOT / "specs" / "resnet50.arch"))


def test_a_graph_changed_by_its_caller_changes_no_later_check():
    first = dsl.check_text(LISTS).graph
    before = _outcome(dsl.check_text(LISTS))
    for node in first.nodes:
        for value in node.args.values():
            if isinstance(value, list):
                value.append(99)
    assert _outcome(dsl.check_text(LISTS)) == before
    convs = [n for n in dsl.check_text(LISTS).graph.nodes if n.layer == "conv"]
    assert [n.args["kernel"] for n in convs] == [[3, 3], [3, 3]]
    assert convs[0].args["kernel"] is not convs[1].args["kernel"]


def test_a_layer_use_that_fails_is_reported_at_every_check():
    text = "model M {\n input x: [3, 4, 4]\n conv(8, 9)\n}\n"
    first, second = dsl.check_text(text), dsl.check_text(text)
    assert not first.ok and [d.render() for d in first.diagnostics] == [d.render() for d in second.diagnostics]


@pytest.mark.parametrize("path", [ROOT / "specs" / "resnet50.arch", ROOT / "specs" / "t5_small.arch"],
                         ids=lambda p: p.stem)
def test_every_node_and_frame_holds_its_fields_in_declared_order(path):
    # The checker adopts each node's and frame's dict of fields without looking at its order again
    # (`construct.in_order`): what made the dicts must have written them so.
    from archlang.dsl.graph import Frame, Node
    res = dsl.check_file(path, all_models=True)
    assert res.models
    for g in res.models:
        assert all(list(n.__dict__) == list(Node.model_fields) for n in g.nodes)
        assert all(list(f.__dict__) == list(Frame.model_fields) for f in g.frames)
        assert all(n.model_fields_set == set(Node.model_fields) for n in g.nodes)
