"""Golden text diagrams: the architectures document's four pictures, drawn from specs.

Each case runs `archlang diagram ... -o -` from the repo root and compares
stdout with `tests/data/diagrams/<case>.txt` (and one DOT source with
`<case>.dot`). Rewrite them with `pytest tests/test_diagram_text.py
--update-goldens`, then read each one: it must look like the document.
Besides the goldens, invariants that any spec's diagram keeps are checked
on the fresh output, so a refreshed golden cannot hide a lost layer or note.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from archlang.compiler.cli import main
from archlang.dsl import check_file
from click.testing import CliRunner
from conftest import ROOT

GOLDEN = Path(__file__).resolve().parent / "data" / "diagrams"

# case → (spec, extra options). The first four are the document's diagrams.
CASES = {
    "cats_vs_dogs": ("specs/cats_vs_dogs.arch", []),  # §2: [Image] ↓ (Convolution Filter) ...
    "stock_rnn_unroll3": ("specs/stock_rnn.arch", ["--unroll", "3"]),  # §3: x1 → [RNN Cell] → h1 ...
    "char_lstm_gates": ("specs/char_lstm.arch", ["--gates"]),  # §4: Input ----> [Forget Gate] ...
    "transformer": ("specs/transformer.arch", []),  # §5: [Self-Attention Layer] → focuses on relationships
    "transformer_depth1": ("specs/transformer.arch", ["--depth", "1"]),
    "branches": ("tests/data/diagrams/branches.arch", []),
    "branches_depth0": ("tests/data/diagrams/branches.arch", ["--depth", "0"]),
    "char_lstm_unroll2_gates": ("specs/char_lstm.arch", ["--unroll", "2", "--gates"]),
    "cats_vs_dogs_detailed": ("specs/cats_vs_dogs.arch", ["--style", "detailed"]),
    "cats_vs_dogs_detailed_shapes": ("specs/cats_vs_dogs.arch", ["--style", "detailed", "--shapes"]),
    "resnet50": ("specs/resnet50.arch", []),
    "gpt2_small": ("specs/gpt2_small.arch", []),
}


@pytest.fixture
def diagram(monkeypatch):
    """`archlang diagram` from the repo root (paths in the output stay stable)."""
    monkeypatch.chdir(ROOT)

    def run(spec: str, *args: str) -> str:
        result = CliRunner().invoke(main, ["diagram", spec, *args])
        assert result.exit_code == 0, result.output
        return result.stdout
    return run


def _compare(path: Path, got: str, request) -> None:
    if request.config.getoption("--update-goldens"):
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"missing {path.name}; run with --update-goldens"
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", list(CASES))
def test_golden_text(case: str, diagram, request):
    spec, args = CASES[case]
    got = diagram(spec, *args, "-o", "-")
    _compare(GOLDEN / f"{case}.txt", got, request)


def test_golden_dot(monkeypatch, tmp_path, request):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "cats.dot"
    result = CliRunner().invoke(main, ["diagram", "specs/cats_vs_dogs.arch", "-o", str(out)])
    assert result.exit_code == 0, result.output
    _compare(GOLDEN / "cats_vs_dogs.dot", out.read_text(encoding="utf-8"), request)


# ---------------------------------------------------------------- invariants

def test_document_style_shows_every_layer_and_note_in_order(diagram):
    """Nothing folded here: each layer's label and each note appears, in the spec's order."""
    text = diagram("specs/cats_vs_dogs.arch", "-o", "-")
    g = check_file(ROOT / "specs/cats_vs_dogs.arch").graph
    pos = 0
    for n in g.nodes[1:]:
        found = text.find(n.label, pos)
        assert found >= 0, f"{n.label!r} missing after offset {pos}"
        pos = found + len(n.label)
    for n in g.nodes:
        if n.note:
            assert text.count(n.note) == 1, n.note
    assert text.splitlines()[0] == "[image 3×128×128]"
    assert text.splitlines()[-1] == "[output 2]  cat vs dog"  # the model's output says so


def test_values_are_boxes_and_layers_are_arrow_labels(diagram):
    lines = diagram("specs/cats_vs_dogs.arch", "-o", "-").splitlines()
    # Box, arrow, box, arrow ...: the document's vertical flow.
    assert all(line.startswith("[") for line in lines[::2])
    assert all(line.startswith("   ↓ (") and line.endswith(")") for line in lines[1::2])


def test_unroll_draws_n_cells_each_feeding_the_next(diagram):
    text = diagram("specs/stock_rnn.arch", "--unroll", "3", "-o", "-")
    rows = [line.strip() for line in text.splitlines() if "[RNN cell]" in line]
    # The document's x1, x2, x3; a symbolic sequence goes on to its last step after a gap.
    assert rows == ["x1 → [RNN cell] → h1", "x2 → [RNN cell] → h2", "x3 → [RNN cell] → h3",
                    "x_seq → [RNN cell] → h_seq"]
    assert "⋮" in text
    assert "↓ h1" in text  # h1 feeds the second cell
    exact = diagram("specs/stock_rnn.arch", "--unroll", "3", "--set", "seq=3", "-o", "-")
    assert [line.strip() for line in exact.splitlines() if "[RNN cell]" in line][-1] == "x3 → [RNN cell] → h3"
    assert "⋮" not in exact


def test_gates_open_the_lstm_cell_in_the_documents_words(diagram):
    text = diagram("specs/char_lstm.arch", "--gates", "-o", "-")
    for gate, role in (("forget gate", "what to erase"), ("input gate", "what to store"),
                       ("output gate", "what to reveal")):
        line = next(ln for ln in text.splitlines() if gate in ln)
        assert role in line
    assert "c_t = f ⊗ c_t−1 ⊕ i ⊗ g" in text and "──▶ h_t" in text


def test_residual_joins_with_a_plus_and_repeats_fold(diagram):
    text = diagram("tests/data/diagrams/branches.arch", "-o", "-")
    assert "⊕ ◀───┘" in text and "‖ ◀───┴─────┘" in text and "⊗ ◀───┘" in text
    assert "┌─ mixers: Mixer ×3" in text and text.count("mixes features") == 1
    folded = diagram("tests/data/diagrams/branches.arch", "--depth", "0", "-o", "-")
    assert "[mixers: Mixer ×3] → 16×32" in folded and "[Gate] → 16×32" in folded


def test_closed_blocks_that_differ_only_inside_fold_to_one_box(diagram):
    """ConvNeXt's CNBlocks each drop their path at another rate: closed, they look alike and fold to ×9;
    opened, each shows its own rate, so none is hidden behind another's."""
    closed = diagram("specs/convnext_tiny.arch", "-o", "-")
    assert "[features.5: CNBlock ×9] → 384×14×14" in closed and "features.5.1" not in closed
    opened = diagram("specs/convnext_tiny.arch", "--depth", "3", "-o", "-")
    assert "drop_path 0.00588235" in opened and "┌─ features.1.1: CNBlock" in opened


def test_attention_from_parts_says_its_heads_below_its_join(diagram):
    """`attend` joins queries, keys and values at α; the sign alone would hide the heads, the causal mask
    and the rotary positions, so its words lead the arrow out of the join. A merge's sign (⊕) stays alone."""
    text = diagram("specs/llama_tiny.arch", "-o", "-")
    lines = text.splitlines()
    join = next(i for i, line in enumerate(lines) if "α ◀" in line)
    assert lines[join + 1].strip("│ ") == "↓ (causal attention, 4 heads, 2 kv, rotary → linear 256)"
    assert "↓ (⊕" not in text and "(⊗" not in text


def test_a_block_opened_alone_is_framed_and_named_like_a_pass(diagram):
    """MobileNetV2's features.3 is one residual InvertedResidual among its siblings: opened, it gets the frame
    and name a repeat's pass gets, rather than a bare ⊕ in the main line; closed, one named box."""
    text = diagram("specs/mobilenet_v2.arch", "-o", "-")
    assert "┌─ features.3: InvertedResidual ──" in text
    assert "[features.1: InvertedResidual] → 16×112×112" in text and "[features.1.conv]" not in text


def test_detailed_style_has_one_box_per_layer_with_shape_and_params(diagram):
    g = check_file(ROOT / "specs/cats_vs_dogs.arch").graph
    text = diagram("specs/cats_vs_dogs.arch", "--style", "detailed", "-o", "-")
    boxes = [line for line in text.splitlines() if line.startswith("[")]
    assert len(boxes) == len(g.nodes)
    assert "[0: conv 3×3, 32] → 32×128×128 · 896 params" in boxes
    shapes = diagram("specs/cats_vs_dogs.arch", "--style", "detailed", "--shapes", "-o", "-")
    lines = shapes.splitlines()
    assert "   ↓ (32×128×128)" in lines and "[0: conv 3×3, 32] · 896 params" in lines
    assert lines[-1] == "[11: linear 2] → output 2 · 258 params  cat vs dog"  # the last shape has no arrow to ride
