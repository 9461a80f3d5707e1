"""Fuzzing on every run: bad input of any shape ends in diagnostics whose carets quote the right line.

A few hundred cases of each generator in `bench/fuzzing.py` (the long runs
are `bench/fuzz.py`): mutations of the shipped specs, and specs drawn from
`dsl/grammar.lark` by hypothesis. The oracle fails a case that raises, that
reports an internal error (E900), or whose diagnostic quotes another line
than its span names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fuzzing  # noqa: E402
from archlang.dsl.check import CheckResult  # noqa: E402

from archlang import dsl  # noqa: E402


@pytest.mark.parametrize("seed", range(4))
def test_mutated_specs_end_in_clean_diagnostics(seed):
    broken = {}
    for text in fuzzing.mutated_cases(75, seed):
        for finding in fuzzing.check_case(text):
            broken.setdefault(finding, text)
    assert not broken, "\n\n".join(f"{f.kind}: {f.detail}\n--- spec:\n{t}" for f, t in list(broken.items())[:3])


@settings(max_examples=200, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fuzzing.grammar_strategy())
def test_specs_drawn_from_the_grammar_end_in_clean_diagnostics(text):
    assert fuzzing.check_case(text) == []


def test_the_oracle_catches_a_caret_on_the_wrong_line():
    text = "model M {\n  input x: [4]\n  nonsense(3)\n}\n"
    result = dsl.check_text(text, name=fuzzing.FUZZ_NAME)
    assert [d.code for d in result.diagnostics] == ["E101"]
    assert fuzzing.judge(text, result) == []
    moved = result.diagnostics[0].model_copy(update={"line_text": "  input x: [4]"})
    wrong = CheckResult(result.path, diagnostics=[moved])
    assert [f.kind for f in fuzzing.judge(text, wrong)] == ["caret"]
