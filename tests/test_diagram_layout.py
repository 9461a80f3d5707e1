"""Diagram layout faults, checked on what graphviz actually lays out, and golden DOT files per fault class.

The structural tests run real `dot -Tjson` on each spec's DOT source and read
the geometry back: a block's entry edges stay inside its frame, no arrow runs
through a frame's title, flow edges go one way (no kinks), every node is
connected, outputs are marked. The goldens (`tests/data/diagrams/*.dot`,
rewritten with `--update-goldens`) pin one spec per fault class.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from archlang.compiler.cli import main
from archlang.compiler.diagram import draw
from archlang.compiler.diagram.render import run_dot
from archlang.dsl import check_file
from click.testing import CliRunner
from conftest import ROOT

GOLDEN = Path(__file__).resolve().parent / "data" / "diagrams"
SPECS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").glob("*.arch")) + ["examples/tiny_gpt.arch"]

# golden → (spec, options, the fault it pins)
GOLDENS = {
    "resnet50": ("specs/resnet50.arch", [], "block entry edges inside frames, titles as nodes, straight skips"),
    "bert_base": ("specs/bert_base.arch", [], "the pooler connected to the encoder, two outputs marked"),
    "vit_b16": ("specs/vit_b16.arch", [], "twelve named identical layers fold to ×12; heads are `12 heads`"),
    "lstm_translator_lr": ("specs/lstm_translator.arch", ["--rankdir", "LR", "--dpi", "72"],
                           "left to right, a resolution, recurrent colour"),
}


def _layout(dot_source: str) -> dict:
    return json.loads(run_dot(dot_source, "json"))


class Layout:
    """The parts of graphviz's json the checks read: nodes, clusters and edges with their points."""

    def __init__(self, data: dict):
        objs = data.get("objects", [])
        self.clusters = [o for o in objs if o.get("name", "").startswith("cluster")]
        self.nodes = {o["_gvid"]: o for o in objs if "pos" in o}
        self.edges = data.get("edges", [])

    def name(self, gvid: int) -> str:
        return self.nodes[gvid]["name"]

    def box(self, gvid: int) -> tuple[float, float, float, float]:
        n = self.nodes[gvid]
        x, y = map(float, n["pos"].split(","))
        w, h = float(n["width"]) * 36, float(n["height"]) * 36  # half sizes, inches → points
        return x - w, y - h, x + w, y + h

    def members(self, cluster: dict) -> set[int]:
        return set(cluster.get("nodes", []))

    @staticmethod
    def points(edge: dict) -> list[tuple[float, float]]:
        return [tuple(p) for op in edge.get("_draw_", []) if op.get("op") == "b" for p in op["points"]]

    @staticmethod
    def visible(edge: dict) -> bool:
        return edge.get("style") != "invis"


def _inside(p, bb, slack=1.0) -> bool:
    x0, y0, x1, y1 = bb
    return x0 - slack <= p[0] <= x1 + slack and y0 - slack <= p[1] <= y1 + slack


def _drawn(spec: str, **options) -> Layout:
    g = check_file(ROOT / spec).graph
    return Layout(_layout(draw(g, **options).dot))


@pytest.fixture(scope="module", params=SPECS)
def layout(request) -> tuple[str, Layout]:
    return request.param, _drawn(request.param)


def _innermost(lay: Layout) -> dict[int, dict]:
    """Each node → the smallest cluster that holds it."""
    owner: dict[int, dict] = {}
    for c in sorted(lay.clusters, key=lambda c: len(lay.members(c)), reverse=True):
        for n in lay.members(c):
            owner[n] = c
    return owner


def test_a_frame_is_entered_only_at_its_title_and_its_inner_edges_stay_inside(layout):
    spec, lay = layout
    for c in lay.clusters:
        inside = lay.members(c)
        bb = tuple(map(float, c["bb"].split(",")))
        titles = [n for n in inside if lay.nodes[n].get("shape") == "plaintext" and lay.name(n).startswith("t")]
        assert len(titles) == 1 and c.get("label", "") == "", (spec, c["name"])  # the title is a node, not a label
        for e in lay.edges:
            if not lay.visible(e) or e.get("style") == "dashed":
                continue  # a named argument (memory=, init=) reaches the box that reads it, wherever it is
            if e["tail"] in inside and e["head"] in inside:
                assert all(_inside(p, bb) for p in lay.points(e)), (spec, lay.name(e["tail"]), lay.name(e["head"]))
            elif e["head"] in inside:
                assert e["head"] == titles[0], (spec, c["name"], lay.name(e["tail"]), lay.name(e["head"]))


def test_no_arrow_crosses_a_frame_title(layout):
    spec, lay = layout
    titles = [n for c in lay.clusters for n in lay.members(c) if lay.name(n).startswith("t")
              and lay.nodes[n].get("shape") == "plaintext"]
    for t in titles:
        x0, y0, x1, y1 = lay.box(t)
        inner = (x0 + 2, y0 + 2, x1 - 2, y1 - 2)
        for e in lay.edges:
            if t in (e["tail"], e["head"]) or not lay.visible(e):
                continue
            assert not any(_inside(p, inner, slack=0) for p in lay.points(e)), (spec, lay.name(t))


def test_flow_edges_have_no_kinks(layout):
    """A solid edge runs one way down and bends one way sideways: no S-bends, no loops back up."""
    spec, lay = layout
    for e in lay.edges:
        if not lay.visible(e) or e.get("style") or e.get("constraint") == "false":
            continue
        pts = lay.points(e)
        ys = [p[1] for p in pts]
        assert all(a >= b - 0.5 for a, b in zip(ys, ys[1:])), (spec, lay.name(e["tail"]), lay.name(e["head"]))
        xs = [p[0] for p in pts]
        steps = [b - a for a, b in zip(xs, xs[1:]) if abs(b - a) > 0.5]
        turns = sum(1 for a, b in zip(steps, steps[1:]) if (a > 0) != (b > 0))
        assert turns <= 1, (spec, lay.name(e["tail"]), lay.name(e["head"]), xs)


def test_every_node_is_connected(layout):
    spec, lay = layout
    touched = {i for e in lay.edges if lay.visible(e) for i in (e["tail"], e["head"])}
    loose = [lay.nodes[n]["label"] for n in lay.nodes if n not in touched]
    assert not loose, (spec, loose)
    # And the picture is one piece: every lane reaches the others (BERT's pooler once floated on its own).
    root = {n: n for n in lay.nodes}

    def find(n: int) -> int:
        while root[n] != n:
            n = root[n]
        return n

    for e in lay.edges:
        if lay.visible(e):
            root[find(e["tail"])] = find(e["head"])
    assert len({find(n) for n in lay.nodes}) == 1, spec


def test_outputs_are_marked_in_text_and_dot(layout):
    spec, lay = layout
    g = check_file(ROOT / spec).graph
    marked = [n for n in lay.nodes.values() if n.get("peripheries") == "2"]
    assert len(marked) == len(g.outputs), spec
    assert all(n["label"].startswith("output") for n in marked)
    text = draw(g).text
    assert text.count("[output") + text.count("→ output") == len(g.outputs)


def test_frames_are_nested_boxes_and_their_nodes_lie_inside(layout):
    spec, lay = layout
    owner = _innermost(lay)
    for n, c in owner.items():
        bb = tuple(map(float, c["bb"].split(",")))
        x0, y0, x1, y1 = lay.box(n)
        assert _inside((x0, y0), bb) and _inside((x1, y1), bb), (spec, lay.name(n))


def test_bert_pooler_reads_the_encoders_output_box():
    lay = _drawn("specs/bert_base.arch")
    by_label = {n["label"]: g for g, n in lay.nodes.items()}
    enc = by_label["output encoder seq×768"]
    first = [e for e in lay.edges if e["tail"] == enc and e.get("label") == " first"]
    assert len(first) == 1
    assert not any(n["label"].startswith("↪") for n in lay.nodes.values())  # no floating stand-in


def test_named_identical_siblings_fold_like_a_repeat(tmp_path):
    g = check_file(ROOT / "specs/vit_b16.arch").graph
    text = draw(g).text
    assert "┌─ encoder.layers: ViTEncoderLayer ×12" in text and "encoder_layer_1" not in text
    assert "[encoder.layers: ViTEncoderLayer ×12] → 197×768" in draw(g, depth=2).text
    # Different siblings do not fold: change one layer's heads and the run splits.
    src = (ROOT / "specs/vit_b16.arch").read_text(encoding="utf-8").replace(
        "encoder_layer_5: ViTEncoderLayer(num_heads,", "encoder_layer_5: ViTEncoderLayer(8,")
    (tmp_path / "vit.arch").write_text(src, encoding="utf-8")
    g2 = check_file(tmp_path / "vit.arch").graph
    t2 = draw(g2, depth=2).text
    assert "encoder_layer_0–4: ViTEncoderLayer ×5" in t2 and "encoder_layer_6–11: ViTEncoderLayer ×6" in t2
    assert "[encoder.layers.encoder_layer_5: ViTEncoderLayer] → 197×768" in t2


def test_times_n_means_repeats_only():
    for spec in ("specs/gpt2_small.arch", "specs/transformer.arch", "specs/char_lstm.arch", "specs/vit_b16.arch"):
        g = check_file(ROOT / spec).graph
        text = draw(g, gates=spec.endswith("char_lstm.arch")).text
        for line in text.splitlines():
            if "×" in line and ("heads" in line or "layers" in line):
                assert "heads ×" not in line and "×2 layers" not in line, (spec, line)
        reps = [f.count for f in g.frames if f.kind == "repeat"]
        for count in reps:
            assert f"×{count}" in text or count == 1


def test_rankdir_and_dpi_reach_the_picture(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "c.dot"
    res = CliRunner().invoke(main, ["diagram", "specs/cats_vs_dogs.arch", "--rankdir", "LR", "--dpi", "50",
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    src = out.read_text(encoding="utf-8")
    assert "rankdir=LR" in src and "dpi=50" in src
    lay = Layout(_layout(src))
    xs = [float(n["pos"].split(",")[0]) for n in lay.nodes.values() if n.get("shape") != "plaintext"]
    assert xs == sorted(xs)  # left to right, in the flow's order
    small, big = (tmp_path / "s.png"), (tmp_path / "b.png")
    for dpi, p in ((40, small), (120, big)):
        assert CliRunner().invoke(main, ["diagram", "specs/cats_vs_dogs.arch", "--dpi", str(dpi),
                                         "-o", str(p)]).exit_code == 0
    width = lambda p: int.from_bytes(p.read_bytes()[16:20], "big")  # noqa: E731 - the PNG header's width
    assert width(big) > 2.5 * width(small)
    assert CliRunner().invoke(main, ["diagram", "specs/cats_vs_dogs.arch", "--rankdir", "XY"]).exit_code == 2


def test_colours_come_from_the_catalogue(monkeypatch):
    from archlang.dsl.layers import REGISTRY
    g = check_file(ROOT / "specs/cats_vs_dogs.arch").graph
    assert "#dce9f7" in draw(g).dot  # conv's pale blue
    monkeypatch.setattr(type(REGISTRY["conv"]), "tint", "attention")
    assert "#dce9f7" not in draw(g).dot and "#fce8d2" in draw(g).dot
    assert REGISTRY["layernorm"].colour_class() == "norm" and REGISTRY["lstm"].colour_class() == "recurrent"
    assert REGISTRY["relu"].colour_class() is None


@pytest.mark.parametrize("case", list(GOLDENS))
def test_golden_dot(case, request, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    spec, args, _ = GOLDENS[case]
    out = tmp_path / f"{case}.dot"
    res = CliRunner().invoke(main, ["diagram", spec, *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = out.read_text(encoding="utf-8")
    path = GOLDEN / f"{case}.dot"
    if request.config.getoption("--update-goldens"):
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"missing {path.name}; run with --update-goldens"
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec, arg", [("specs/lstm_translator.arch", "init"), ("specs/transformer.arch", "memory")])
def test_a_named_argument_from_another_line_of_flow_runs_down_into_its_reader(spec, arg):
    """The encoder's state (init=) or output (memory=) enters the decoder from above, as the document's
    seq2seq pictures draw it: the dashed edge never climbs back up, so its label cannot land on the
    decoder's own arrows."""
    lay = _drawn(spec)
    (edge,) = [e for e in lay.edges if e.get("style") == "dashed" and e.get("label") == arg]
    ys = [p[1] for p in lay.points(edge)]
    assert all(a >= b - 0.5 for a, b in zip(ys, ys[1:])), ys  # dot's y grows upwards
    tail, head = lay.box(edge["tail"]), lay.box(edge["head"])
    assert head[3] < tail[1]  # the reader's box lies wholly below the value it reads
