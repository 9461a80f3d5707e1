"""The parser's own LALR loop and positions agree with lark's: the same AST, spans included.

`dsl.parse` runs lark's table in a loop of its own and computes node positions in lean callbacks
rather than with lark's `propagate_positions=True`, for speed. Here every spec in the repository,
and some made-up texts that put brackets, inlined rules and comments where positions can go wrong,
is parsed both ways: by `parse`, and by lark's interactive parser with `propagate_positions=True`
fed the same tokens, turned into an AST by the same `ToAst`. The two must be equal field for field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from archlang.dsl.diagnostics import DiagnosticError, Reporter
from archlang.dsl.parse import GRAMMAR, ToAst, _machinery, _Parse, _parse_cached, parse
from archlang.dsl.postlex import BracketError
from lark import Lark, Tree
from lark.exceptions import UnexpectedInput

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted({p for d in ("specs", "dsl/std", "examples", "tests/data") for p in (ROOT / d).rglob("*.arch")})

TEXTS = {
    "inlined brackets": "let a = (1 + 2) * (3)\nlet b = ((x))\nlet c = [ (1), 2, ]\nlet d = (x).y[(0)]\n",
    "trailing comments": "model M(n = (2)) {  # a model\n  input x: [n]  # input\n"
                         "  y: linear((4), k = (n)) -> relu  # r\n"
                         "  residual { a } shortcut { b }  # c\n  output y\n}\n",
    "empty": "",
    "semicolons": "let a = 1; let b = 2;\nblock B() { relu; relu }\n",
    "conditions": "block B(k = 1) {\n  if k > 1 and not (k == 3) { relu } else if k { gelu } else { tanh }\n"
                  "  repeat(k, i) { linear(i ** 2 if i else -1) }\n}\n",
    # Deeper than the fast path builds (`dsl.lalr.MAX_DEPTH`): lark's path and `ToAst.transform` answer.
    "deep": "let a = " + "(1) + " * 150 + "1\nblock B() {\n  x" + " -> x.y(a[0], k = -1)" * 20 + "  # c\n}\n",
}


@lru_cache(maxsize=1)
def _reference() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", strict=True, propagate_positions=True,
                maybe_placeholders=True)


def _by_lark(text: str, file: str):
    """The AST from lark's own parser and positions, fed the tokens `parse` reads."""
    run = _Parse(text, file, Reporter())
    lark, lexer, _ = _machinery()
    parser = _reference().parse_interactive()
    tok = None
    for tok in run.layout.process(run._tokens(lexer, lark.lexer_conf.ignore)):
        parser.feed_token(tok)
    tree = parser.feed_eof(tok)
    for node in tree.iter_subtrees():
        # `ToAst` reads a position as `parse`'s callbacks leave it: None where lark's meta is empty.
        node._meta = None if node.meta.empty else node.meta
    assert isinstance(tree, Tree)
    return ToAst(file, run.comments).transform(tree)


def _by_parse(text: str, file: str):
    _parse_cached.cache_clear()
    return parse(text, file, Reporter())


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_parses_as_with_lark_positions(path: Path):
    text = path.read_text()
    file = str(path.relative_to(ROOT))
    try:
        mine = _by_parse(text, file)
    except DiagnosticError:  # a spec of tests/data/diagnostics with a syntax error: lark refuses it too
        with pytest.raises((UnexpectedInput, BracketError, DiagnosticError)):
            _by_lark(text, file)
        return
    assert mine.model_dump() == _by_lark(text, file).model_dump()


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_made_up_texts_parse_as_with_lark_positions(name: str):
    assert _by_parse(TEXTS[name], "t.arch").model_dump() == _by_lark(TEXTS[name], "t.arch").model_dump()


def test_the_comparison_sees_a_wrong_span():
    """The reference differs where positions differ: the equality above is not vacuous."""
    text = TEXTS["inlined brackets"]
    mine = _by_parse(text, "t.arch")
    moved = mine.items[0].value.model_copy(update={"span": mine.items[0].value.left.span})
    assert moved.model_dump() != _by_lark(text, "t.arch").items[0].value.model_dump()
