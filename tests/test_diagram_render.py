"""`archlang diagram` end to end: real graphviz, escaping, a missing `dot`, big models, atomic writes.

These run the real `dot` program (CI installs Debian's graphviz). The one
test about a missing `dot` runs the CLI in a subprocess whose PATH holds no
`dot` at all: that is the user's situation, not a mock of graphviz.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from archlang.compiler.cli import main
from archlang.compiler.diagram import DiagramOptions, draw
from archlang.compiler.diagram.dot import quote
from archlang.compiler.diagram.render import run_dot
from archlang.dsl import check_file
from click.testing import CliRunner
from conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
NASTY = 'say "hi" <b> {x} | a\\b \\n end'  # every character DOT or a record label would misread


def _cli(*args: str):
    return CliRunner().invoke(main, ["diagram", *args])


def _svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_svg_is_xml_and_shows_the_boxes_labels_and_notes(at_root, tmp_path):
    out = tmp_path / "cats.svg"
    result = _cli("specs/cats_vs_dogs.arch", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: CatsVsDogs, 6 boxes")
    texts = _svg_texts(out.read_bytes())
    for want in ("image 3×128×128", "32×64×64", "edges", "conv 3×3, 32 → relu → maxpool 2×2", "cat vs dog"):
        assert any(want in t for t in texts), want


@pytest.mark.parametrize("suffix, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_png_and_pdf_are_real_pictures(at_root, tmp_path, suffix, magic):
    out = tmp_path / f"cats.{suffix}"
    result = _cli("specs/cats_vs_dogs.arch", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_notes_with_dot_syntax_render_as_written(tmp_path):
    spec = tmp_path / "nasty.arch"
    spec.write_text("model M {\n"
                    "    input x: [4, 8]\n"
                    f"    linear(8)    # {NASTY}\n"
                    f"    residual {{ linear(8) -> relu }}    # {NASTY} again\n"
                    "}\n", encoding="utf-8")
    for style in ("document", "detailed"):
        out = tmp_path / f"nasty-{style}.svg"
        result = _cli(str(spec), "--style", style, "-o", str(out))
        assert result.exit_code == 0, result.output
        texts = _svg_texts(out.read_bytes())
        mark = "# " if style == "detailed" else ""  # a detailed box carries its note as its last field
        assert f"{mark}{NASTY}" in texts and f"{mark}{NASTY} again" in texts


def test_quote_escapes_every_special_character_and_real_newlines():
    label = 'a "q" <html> {rec|ord} back\\slash\nsecond line'
    svg = run_dot(f"digraph {{ n [shape=record, label={quote(label)}]; m [label={quote(label)}]; n -> m; }}", "svg")
    texts = _svg_texts(svg)
    assert texts.count('a "q" <html> {rec|ord} back\\slash') == 2
    assert texts.count("second line") == 2


def test_missing_dot_is_one_clear_line_and_text_still_works(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "archlang.compiler.cli", "diagram", "specs/cats_vs_dogs.arch", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    for suffix in ("svg", "png", "pdf"):
        out = tmp_path / f"cats.{suffix}"
        p = run("-o", str(out))
        assert p.returncode == 2
        assert p.stderr.splitlines() == [
            f"error: rendering .{suffix} needs graphviz's `dot` program; install it with `apt-get install graphviz` "
            "(Debian/Ubuntu) or `brew install graphviz` (macOS), or write .txt or .dot instead"]
        assert not out.exists()
    for suffix in ("txt", "dot"):
        out = tmp_path / f"cats.{suffix}"
        p = run("-o", str(out))
        assert p.returncode == 0, p.stderr
        assert "32×64×64" in out.read_text(encoding="utf-8")
    p = run("-o", "-")
    assert p.returncode == 0 and p.stdout.startswith("[image 3×128×128]\n")


@pytest.mark.parametrize("spec", ["resnet50", "gpt2_small"])
def test_big_models_stay_readable_at_the_default_depth(at_root, spec):
    path = ROOT / "specs" / f"{spec}.arch"
    text = _cli(str(path.relative_to(ROOT)), "-o", "-").stdout
    boxes = [line for line in text.splitlines() if line.lstrip(" │├└┌┼").startswith("[")]
    assert 10 <= len(boxes) <= 80, len(boxes)
    g = check_file(path).graph
    assert len(boxes) < len(g.nodes) / 2  # folded: far fewer boxes than layers
    assert len(boxes) == draw(g).boxes


def test_a_drawing_shows_itself_as_svg_in_jupyter():
    d = draw(check_file(ROOT / "specs/cats_vs_dogs.arch").graph)
    svg = d._repr_svg_()
    assert ET.fromstring(svg).tag == SVG + "svg"
    assert d._repr_markdown_() is None  # the frontend shows the picture, not the text
    assert str(d).startswith("[image 3×128×128]") and d.markdown().startswith("```text\n[image")


def test_options_reach_the_drawing(at_root):
    g = check_file(ROOT / "specs/cats_vs_dogs.arch").graph
    assert str(draw(g, style="detailed")) == _cli("specs/cats_vs_dogs.arch", "--style", "detailed").stdout
    assert draw(g, DiagramOptions(depth=0)).diagram.depth == 0


def test_failures_write_nothing(at_root, tmp_path):
    out = tmp_path / "keep.svg"
    out.write_text("old")
    bad = tmp_path / "bad.arch"
    bad.write_text("model M {\n    input x: [3, 8, 8]\n    linear(4)\n}\n", encoding="utf-8")
    result = _cli(str(bad), "-o", str(out))
    assert result.exit_code == 1 and "error[E301]" in result.stderr
    assert out.read_text() == "old"
    result = _cli("specs/cats_vs_dogs.arch", "-o", str(tmp_path / "cats.jpg"))
    assert result.exit_code == 2 and "unsupported format .jpg" in result.stderr
    assert not (tmp_path / "cats.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.arch", "keep.svg"]  # no temporary left over


def test_every_spec_draws_in_every_style(at_root, tmp_path):
    """No spec, style or recurrent option makes the command fail."""
    for spec in sorted((ROOT / "specs").glob("*.arch")):
        g = check_file(spec).graph
        if g is None:
            continue
        for options in ({}, {"style": "detailed", "shapes": True}, {"unroll": 3, "gates": True}, {"depth": 0}):
            d = draw(g, **options)
            assert d.text.strip() and d.dot.startswith("digraph archlang {"), (spec.name, options)
