"""The grammar builds under lark's strict LALR mode and accepts the syntax of §1–§4."""

from __future__ import annotations

import pytest
from archlang.dsl import ast
from archlang.dsl.diagnostics import DiagnosticError, Reporter
from archlang.dsl.parse import GRAMMAR, _machinery, parse
from archlang.dsl.source import source_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from lark.lexer import LexerThread

from archlang import dsl


def test_grammar_builds_strict_without_conflicts():
    Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", strict=True)


def _parse(src: str) -> ast.File:
    return parse(src, "t.arch", Reporter())


def test_chains_join_across_lines_that_end_or_begin_with_an_arrow():
    f = _parse("model M {\n  input x: [4]\n  linear(8) ->\n    relu\n  -> linear(2)\n}\n")
    chain = f.models[0].body.stmts[1]
    assert [e.name for e in chain.elements] == ["linear", "relu", "linear"]


def test_semicolons_separate_statements_and_newlines_inside_brackets_are_ignored():
    f = _parse("model M { input x: [4]; conv(\n 8,\n 3) ; relu }")
    assert [s.kind for s in f.models[0].body.stmts] == ["input", "chain", "chain"]


def test_trailing_comment_is_the_note_of_the_last_element_on_its_line():
    f = _parse("model M {\n input x: [4]  # numbers\n linear(8) -> relu   # hidden\n linear(2)\n}")
    stmts = f.models[0].body.stmts
    assert stmts[0].note == "numbers"
    assert [e.note for e in stmts[1].elements] == [None, "hidden"]
    assert stmts[2].elements[0].note is None


def test_structure_forms_parse():
    src = """
    import "std/resnet"
    let width = 64
    block B(c, stride = 1) {
        residual { conv(c, 3, padding=1) } shortcut { if stride != 1 { conv(c, 1) } else { identity } }
        parallel { relu; tanh } -> concat(dim=0)
        layers: repeat(2, i) { conv(c * (i + 1), 1) }
        add(in)
    }
    model M(classes = 10) {
        input image: [3, 32, 32]
        input tokens: int[seq]
        image -> B(width) -> global_avgpool -> flatten -> linear(classes)
        output image
    }
    """
    f = _parse(src)
    assert [type(i).__name__ for i in f.items] == ["Import", "Let", "BlockDef", "ModelDef"]
    assert f.models[0].body.stmts[1].type.dtype == "int"


def test_keywords_used_by_published_models_are_labels():
    f = _parse("model M { input x: [3, 8, 8]\n block: conv(3, 1)\n output x }")
    assert f.models[0].body.stmts[1].label == "block"


def test_expression_precedence():
    res = dsl.check_text("let a = 1 + 2 * 3 ** 2 // 2\nlet b = -2 ** 2\n"
                         "model M { input x: [a]\n linear(a if not false and a > 9 else 0) }")
    assert res.ok, res.diagnostics
    assert res.graph.outputs[0].shape == (10,)


def test_a_syntax_error_is_a_diagnostic_not_an_exception_from_lark():
    try:
        _parse("model M { conv(8 3) }")
    except DiagnosticError as e:
        assert e.diagnostics[0].code == "E001"
    else:
        raise AssertionError("expected a diagnostic")


def test_parses_in_parallel_threads_keep_their_own_comments_and_brackets():
    # One parse is one object: with comments or the bracket stack in module globals,
    # threads switching every microsecond would read each other's.
    import sys
    from concurrent.futures import ThreadPoolExecutor

    def job(i: int) -> tuple[str | None, str]:
        ok = parse(f"model M{i} {{\n input x: [4]  # note {i}\n}}\n", "t.arch", Reporter())
        try:
            parse(f"let v{i} = (1\n" + "  + 2\n" * (i % 5) + f"let w = {i}\n", "t.arch", Reporter())
        except DiagnosticError as e:
            return ok.models[0].body.stmts[0].note, e.diagnostics[0].render()
        raise AssertionError("the second text must not parse")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(job, range(200)))
    finally:
        sys.setswitchinterval(old)
    for i, (note, error) in enumerate(results):
        assert note == f"note {i}"
        assert error.startswith("error[E002]: unclosed `(`") and "t.arch:1:" in error, error


def test_a_number_of_thousands_of_digits_is_refused_before_conversion():
    with pytest.raises(DiagnosticError) as e:
        _parse("model M {\n input x: [4]\n linear(" + "9" * 5000 + ")\n}\n")
    d = e.value.diagnostics[0]
    assert d.code == "E404" and d.message == "this number is too large (5000 digits); the limit is 100 digits"
    assert (d.span.line, d.span.col, d.span.end_col) == (3, 9, 5009)


def test_the_longest_allowed_number_still_parses():
    f = _parse("let n = " + "1" * 100 + "\n")
    assert f.items[0].value.value == int("1" * 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ab", "12", " ", "\t", "\n", "\r\n", ";", "# c\f", "# \u2028d", "# \x85\x0b\x1c",
                                 '"s"', "(", ")", "->"]), max_size=40).map("".join))
def test_quoted_lines_are_the_lines_the_lexer_counts(text):
    # Every token sits in the quoted line at its own column, whatever line-break-like
    # characters the comments hold.
    lines = source_lines(text)
    lexer = _machinery()[1]
    for tok in LexerThread.from_text(lexer, text).lex(None):
        if tok.type == "_SEP" and tok.value != ";":
            continue
        line = lines[tok.line - 1]
        assert line[tok.column - 1:].startswith(tok.value.rstrip("\r")), (tok, line)
