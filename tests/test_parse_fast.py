"""The parser's fast path answers as lark's path would, or leaves the text to it.

`dsl.parse` parses first with its own lexer (`dsl.lexer`) and LALR loop (`dsl.lalr`), and only where
that path has no answer (an error of any kind, or a tree too deep) with lark's tokens, layout pass
and parser, whose exceptions are the diagnostics. Here the two are held to each other: the same
tokens and comments, the same AST instance for instance (fields in order, fields-set included), the
same diagnostics for every bad text; and the fast path answers every good text of usual depth, so
that nothing falls back to the slow path unseen. tests/test_parse_reference.py compares with lark's
own positions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from archlang.dsl import ast
from archlang.dsl.construct import trusted
from archlang.dsl.diagnostics import DiagnosticError, Reporter
from archlang.dsl.lalr import MAX_DEPTH
from archlang.dsl.parse import MAX_DIGITS, MAX_TOKENS, _machinery, _Parse, _scanner
from archlang.dsl.postlex import MAX_NESTING
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted({p for d in ("specs", "dsl/std", "examples", "tests/data") for p in (ROOT / d).rglob("*.arch")})
TEXTS = [p.read_text() for p in FILES] + [
    "", "\n", "  \t\f", "# only a comment", "let a = 1", "let a = 1  ", "let a = 1\t# c\r\nlet b = 2;;\n\n",
    "model M {\n  input x: [3]\n  y: linear(4) -> relu  # r\n  output y\n}\n",
    'let s = "a \\" b"\nlet f = 1.5e-3 ** -2 // 3 % 4\nlet t = x.0.y[1] if not a or b and c <= d else none\n',
    "block B(k = 1,) {\n  repeat(k, i) { linear(i) }\n  if k { relu } else if k == 2 { gelu } else { tanh }\n"
    "  residual { a } shortcut { b }\n  parallel { c\n d }\n  block: e\n  { f -> g }\n}\n",
]


class _SlowParse(_Parse):
    """A parse that leaves every text to lark's path: what `_Parse` did before it had a fast path."""

    def _fast(self):
        return None


def _outcome(parse_class: type[_Parse], text: str):
    try:
        return parse_class(text, "t.arch", Reporter()).run()
    except DiagnosticError as e:
        return [d.model_dump() for d in e.diagnostics]


def _assert_same(a, b):
    """Equal instance for instance: type, fields in the same order, the same fields-set (a loop, not
    a recursion: some of the texts below nest deeper than Python's stack)."""
    todo = [(a, b, "file")]
    while todo:
        a, b, path = todo.pop()
        assert type(a) is type(b), path
        if isinstance(a, BaseModel):
            assert list(a.__dict__) == list(b.__dict__), path
            assert a.model_fields_set == b.model_fields_set, path
            assert a.__pydantic_extra__ == b.__pydantic_extra__, path
            assert a.__pydantic_private__ == b.__pydantic_private__, path
            todo += [(a.__dict__[name], b.__dict__[name], f"{path}.{name}") for name in a.__dict__]
        elif isinstance(a, list):
            assert len(a) == len(b), path
            todo += [(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b))]
        else:
            assert a == b, path


def _lark_tokens(text: str):
    run = _Parse(text, "t.arch", Reporter())
    lark, lexer, _ = _machinery()
    toks = [(t.type, t.value, t.line, t.column, t.end_line, t.end_column)
            for t in run.layout.process(run._tokens(lexer, lark.lexer_conf.ignore))]
    return toks, run.comments


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_the_fast_lexer_makes_lark_tokens(text):
    comments: dict[int, str] = {}
    scanned = _machinery()[2][0].scan(text, comments)
    if isinstance(_outcome(_SlowParse, text), list):  # a spec of tests/data/diagnostics: it may not answer
        return
    kinds, toks = scanned
    mine = [(k, t.value, t.line, t.column, t.end_line, t.end_column) for k, t in zip(kinds, toks)]
    assert (mine, comments) == _lark_tokens(text)


def test_blanks_matched_alone_give_the_same_tokens():
    """Python 3.10 has no atomic groups, so there the fast lexer matches blanks on their own rather than
    with the token after them (`JOIN_BLANKS`): the same tokens, comments and refusals either way."""
    lark, lexer, (joined, _) = _machinery()
    alone = _scanner(lexer, lark.lexer_conf.ignore, join_blanks=False)
    assert alone.pattern.pattern != joined.pattern.pattern
    for text in TEXTS + ["a  \t b", " " * 5000 + "x", "let a = 1 \\\n"]:
        comments_a: dict[int, str] = {}
        comments_j: dict[int, str] = {}
        assert alone.scan(text, comments_a) == joined.scan(text, comments_j)
        assert comments_a == comments_j


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_the_fast_path_builds_the_same_ast(text):
    fast = _Parse(text, "t.arch", Reporter())._fast()
    if isinstance(_outcome(_SlowParse, text), list):  # a spec with a syntax error: lark's path answers
        assert fast is None
        return
    assert fast is not None  # a good text never falls back to lark's path
    _assert_same(fast, _SlowParse(text, "t.arch", Reporter()).run())


def _walk(node):
    todo = [node]
    while todo:
        node = todo.pop()
        if isinstance(node, BaseModel):
            yield node
            todo += node.__dict__.values()
        elif isinstance(node, list):
            todo += node


def test_every_node_is_as_trusted_makes_it():
    """The parser's own constructors (and its copy with changes) give what `dsl.construct.trusted` gives."""
    seen = set()
    for text in TEXTS:
        for node in _walk(_Parse(text, "t.arch", Reporter())._fast()):
            again = trusted(type(node))(**{name: node.__dict__[name] for name in node.model_fields_set})
            _assert_same(node, again)
            seen.add(type(node).__name__)
    assert {"Span", "Chain", "LayerCall", "Literal_", "Residual", "If", "Repeat", "Param"} <= seen


# Pieces of .arch, and what may join them: texts of every kind, most of them bad.
PIECES = ["model", "block", "import", "let", "input", "output", "repeat", "residual", "shortcut", "parallel",
          "if", "else", "in", "not", "and", "or", "true", "false", "none", "{", "}", "(", ")", "[", "]", "->", ":",
          ",", "=", ";", ".", "+", "-", "*", "/", "//", "%", "**", "==", "<", "#", "# note", '"s"', '"a\\"b', "'", "@",
          "M", "x", "y", "n", "int", "conv", "relu", "0", "1", "-1", "1.5", "1e-5", "7" * (MAX_DIGITS + 1)]
JOINS = [" ", "", "\n", "\r\n", "\t", " \f", ";", "\n\n  "]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(JOINS)), max_size=50))
def test_any_text_parses_or_fails_as_on_lark_path(pieces):
    text = "".join(p + j for p, j in pieces)
    _assert_same(_outcome(_Parse, text), _outcome(_SlowParse, text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEXTS[:len(FILES)]), st.floats(0, 1), st.integers(0, 3), st.sampled_from(PIECES + JOINS))
def test_an_edited_spec_parses_or_fails_as_on_lark_path(text, where, cut, insert):
    at = int(where * len(text))
    text = text[:at] + insert + text[at + cut:]
    _assert_same(_outcome(_Parse, text), _outcome(_SlowParse, text))


@pytest.mark.parametrize("text", [
    "let x = " + "1+" * (MAX_DEPTH + 10) + "1\n",
    "let x = " + "-" * 5000 + "1\n",
    "let x = " + "not " * 5000 + "true\n",
    "let x = " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING + "\n",
    "let x = " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + "\n",
    "model M {\n" + "  if a { x } else" * 300 + " { y }\n}\n",
], ids=["plus", "neg", "not", "nested", "too-nested", "else-if"])
def test_deep_texts_end_as_on_lark_path(text):
    _assert_same(_outcome(_Parse, text), _outcome(_SlowParse, text))


def test_a_tree_too_deep_goes_lark_way():
    text = "let x = " + "1+" * (MAX_DEPTH + 10) + "1\n"
    assert _Parse(text, "t.arch", Reporter())._fast() is None
    shallow = "let x = " + "1+" * (MAX_DEPTH // 2) + "1\n"
    assert _Parse(shallow, "t.arch", Reporter())._fast() is not None


def test_too_many_tokens_go_lark_way(monkeypatch):
    text = "let a = 1\n" * (MAX_TOKENS // 4 + 1)
    assert _Parse(text, "t.arch", Reporter())._fast() is None
    with pytest.raises(DiagnosticError) as e:
        _Parse(text, "t.arch", Reporter()).run()
    assert [d.code for d in e.value.diagnostics] == ["E008"]


def test_a_parse_of_nothing_is_an_empty_file():
    assert _Parse("", "t.arch", Reporter())._fast() == ast.File(path="t.arch", items=[])


def test_a_grammar_lark_has_just_built_parses_as_one_from_its_cache(tmp_path):
    """The first `archlang check` on a machine builds the grammar (lark then caches it in the temporary
    folder); every later one loads it. Both must take the fast path and give the same answer: a fresh
    build names its rules with lark `Token`s where a loaded one has plain strings."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # a temporary folder with no lark cache in it yet
    probe = ("from archlang.dsl import parse\n"
             "parse._Parse._tree = lambda self: (_ for _ in ()).throw(AssertionError('fell back'))\n"
             "from archlang import dsl\n"
             "r = dsl.check_file('specs/resnet50.arch', debug=True)\n"
             "print(r.ok, r.graph.params, len(r.graph.nodes))\n")
    answers = []
    for _ in ("built", "loaded from lark's cache"):
        run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        answers.append(run.stdout)
    assert list(tmp_path.glob(".lark*")), "the first run should have left lark's cache"
    assert answers[0] == answers[1] == "True 25557032 176\n"
