"""Fast lexer: .arch text → the tokens the parser's fast path reads, layout applied.

Stage: first step of `dsl.parse`'s fast path. It does in one loop what lark's lexer and the layout
pass (`dsl.postlex.Layout`) do as a chain of generators, over lark's own scanner regex and keyword
table, and makes light `Tok` tuples rather than lark's `Token`s (a str subclass that is slow to make).

It answers only for texts it can vouch for: at anything that ends in a diagnostic (a character no
terminal matches, a number too long, too many tokens, an unclosed, mismatched or too deep bracket)
it returns None, and the parse runs lark's path (`dsl.parse._Parse._tree`), whose diagnostics are
the reference. tests/test_parse_fast.py holds its tokens to that path's.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .postlex import CLOSERS, CONTINUES, MAX_NESTING, OPENERS, OPENS_LINE


class Tok(NamedTuple):
    """A token of the fast path: its position, and its text.

    The first five fields are laid out as a node's container position in `dsl.parse` (line, column,
    end line, end column, tree depth), so the parser reads a token's and a node's extent alike; a
    token is a leaf, of depth 0. `line` … `end_column` and `value` read as on a lark `Token`.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    depth: int
    value: str


_new = tuple.__new__  # `Tok(...)` without NamedTuple's Python-level __new__: a third of a token's cost
# The roles of `Scanner.roles`.
_IGNORED, _MULTILINE, _NAME, _NUMBER, _OPENER, _CLOSER = "ignored", "multiline", "name", "number", "opener", "closer"


class Scanner:
    """What the fast lexer needs of lark's lexer, read once: its regex, keywords, and kinds."""

    def __init__(self, pattern: re.Pattern, keywords: dict[str, str], ignored: frozenset[str],
                 multiline: frozenset[str], max_tokens: int, max_digits: int) -> None:
        self.pattern = pattern  # blanks, then every terminal, one alternation in lark's order of preference
        self.keywords = keywords  # NAME text → the keyword's kind (lark's `UnlessCallback`)
        # What a kind asks of `scan` beyond making its token; `ignored` (COMMENT and blanks) and
        # `multiline` (kinds whose text may hold a newline: _SEP, and any lark cannot rule out) from lark.
        self.roles = {kind: _IGNORED for kind in ignored}
        for kinds, role in ((multiline - ignored, _MULTILINE), (("NAME",), _NAME), (("INT", "FLOAT"), _NUMBER),
                            (OPENERS, _OPENER), (CLOSERS, _CLOSER)):
            for kind in kinds:
                assert kind not in self.roles, kind
                self.roles[kind] = role
        self.max_tokens = max_tokens
        self.max_digits = max_digits

    def scan(self, text: str, comments: dict[int, str]) -> tuple[list[str], list[Tok]] | None:
        """The kinds and tokens the grammar reads (newlines that are layout dropped), or None.

        Fills `comments` (line → the comment's text) as lark's path does. None where the text has
        an error the lexer or the layout pass reports; see the module docstring.
        """
        keywords, roles = self.keywords, self.roles
        max_tokens, max_digits = self.max_tokens, self.max_digits
        kinds: list[str] = []
        toks: list[Tok] = []
        stack: list[str] = []  # the kinds of the open brackets
        prev: str | None = None  # the kind of the last token passed on
        pending: Tok | None = None  # a separator waiting for the next token: it may join the lines
        pos = line_start = count = 0
        line = 1
        for m in self.pattern.finditer(text):
            start, end = m.span()
            if start != pos:  # a character no terminal matches
                return None
            pos = end
            kind = m.lastgroup
            value = m.group(kind)  # the token, without the blanks before it
            role = roles.get(kind)  # None for most tokens: they need none of the checks below
            if role is _IGNORED:
                if kind == "COMMENT" and (body := value[1:].strip()):
                    comments[line] = body
                continue
            count += 1
            if count > max_tokens:
                return None
            column = pos - len(value) - line_start + 1  # the token ends at `pos`, after its blanks
            if role is _MULTILINE and "\n" in value:
                start_line = line
                line += value.count("\n")
                line_start = pos - len(value) + value.rindex("\n") + 1
                tok = _new(Tok, (start_line, column, line, pos - line_start + 1, 0, value))
            else:
                tok = _new(Tok, (line, column, line, pos - line_start + 1, 0, value))
            if role is None:
                pass
            elif role is _NAME:
                kind = keywords.get(value, kind)
            elif kind == "_SEP":  # as `Layout.process`
                if not ((stack and stack[-1] != "LBRACE") or prev is None or prev in OPENS_LINE) and pending is None:
                    pending = tok
                continue
            elif role is _NUMBER:
                if len(value) > max_digits:
                    return None
            elif role is _OPENER:
                stack.append(kind)
                if len(stack) > MAX_NESTING:
                    return None
            elif role is _CLOSER:
                if not stack or stack.pop() != CLOSERS[kind]:
                    return None
            if pending is not None:
                if kind not in CONTINUES:
                    kinds.append("_SEP")
                    toks.append(pending)
                pending = None
            kinds.append(kind)
            toks.append(tok)
            prev = kind
        if pos != len(text) or stack:
            return None
        return kinds, toks
