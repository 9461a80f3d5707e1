"""`archlang fmt`: one canonical layout, every comment kept, meaning unchanged, idempotent."""

from __future__ import annotations

import re

import pytest
from archlang.compiler.cli import main
from archlang.dsl.diagnostics import Reporter
from archlang.dsl.fmt import _shape, format_text
from archlang.dsl.parse import parse
from click.testing import CliRunner
from conftest import DATA, ROOT

CASES = DATA / "fmt"
SHIPPED = sorted([*ROOT.glob("specs/*.arch"), *ROOT.glob("dsl/std/*.arch"), *ROOT.glob("examples/*.arch")])
DOC_EXAMPLES = re.findall(r"```arch\n(.*?)```", (ROOT / "docs" / "LANGUAGE.md").read_text(encoding="utf-8"), re.S)


def fmt(*args: str):
    return CliRunner().invoke(main, ["fmt", *args])


def test_golden_layout(request):
    got = format_text((CASES / "messy.arch").read_text(encoding="utf-8"))
    expected = CASES / "messy.expected"
    if request.config.getoption("--update-goldens"):
        expected.write_text(got, encoding="utf-8")
    assert got == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", [p.read_text(encoding="utf-8") for p in SHIPPED] + DOC_EXAMPLES,
                         ids=[p.name for p in SHIPPED] + [f"LANGUAGE.md#{i}" for i in range(len(DOC_EXAMPLES))])
def test_formatting_keeps_meaning_and_comments_and_is_idempotent(text):
    new = format_text(text)
    assert _shape(parse(new, "a.arch", Reporter())) == _shape(parse(text, "a.arch", Reporter()))
    assert [c.strip() for c in re.findall(r"#[^\n]*", new)] == [c.strip() for c in re.findall(r"#[^\n]*", text)]
    assert format_text(new) == new


def test_the_shipped_specs_are_formatted():
    r = fmt("--check", *[str(p) for p in SHIPPED])
    assert r.exit_code == 0, r.output


def test_check_reports_and_writes_nothing_then_fmt_rewrites(tmp_path):
    spec = tmp_path / "m.arch"
    messy = (CASES / "messy.arch").read_text(encoding="utf-8")
    spec.write_text(messy, encoding="utf-8")
    r = fmt("--check", str(spec))
    assert r.exit_code == 1 and r.stdout == f"would reformat {spec}\n"
    assert spec.read_text(encoding="utf-8") == messy
    r = fmt(str(spec))
    assert r.exit_code == 0 and r.stdout == f"reformatted {spec}\n"
    assert spec.read_text(encoding="utf-8") == (CASES / "messy.expected").read_text(encoding="utf-8")
    assert fmt("--check", str(spec)).exit_code == 0  # twice changes nothing


def test_a_spec_that_does_not_parse_is_reported_and_left_alone(tmp_path):
    spec = tmp_path / "bad.arch"
    spec.write_text("model M {\n  input x: [4]\n  linear(3\n}\n", encoding="utf-8")
    before = spec.read_bytes()
    r = fmt(str(spec))
    assert r.exit_code == 1
    assert "error[E003]" in r.stderr and "Traceback" not in r.output
    assert spec.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.arch"]  # no temporary file left
