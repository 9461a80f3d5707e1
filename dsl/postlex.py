"""Post-lexer: decides which newlines separate statements.

Stage: between lark's lexer and its LALR parser, one `Layout` per parse. It keeps the grammar free
of layout rules (see the header of grammar.lark), tracks bracket nesting to
report unclosed and mismatched brackets at the opener, and bounds nesting
depth so that no spec can drive the later, recursive stages too deep.

The parser's fast path applies the same rules inside its own lexer loop (`dsl.lexer`, from the
constants here), and leaves any bracket error to this pass; tests/test_parse_fast.py holds the two
to the same tokens.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token

OPENERS = {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}
CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}  # closer → the opener it needs
CLOSING = {"(": ")", "[": "]", "{": "}"}
# A separator before these tokens joins the next line to the previous one.
CONTINUES = {"RBRACE", "ARROW", "ELSE", "SHORTCUT"}
# A separator after these tokens is layout only.
OPENS_LINE = {"LBRACE", "ARROW", "_SEP"}

MAX_NESTING = 48


class BracketError(Exception):
    """An unclosed, mismatched or too deeply nested bracket."""

    def __init__(self, kind: str, token: Token, opener: Token | None = None, opener_open: bool = True):
        self.kind = kind  # "unclosed" | "mismatched" | "deep"
        self.token = token
        self.opener = opener
        self.opener_open = opener_open  # for "mismatched": is a bracket of the closer's kind open at all?
        super().__init__(kind)


class Layout:
    """The layout pass of one parse: filters `_SEP` tokens by the rules above.

    Made afresh for every parse (`dsl.parse`), so the bracket stack a syntax
    error asks about is that parse's own.
    """

    def __init__(self) -> None:
        self.stack: list[Token] = []  # the brackets open at the last token passed on

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.stack = stack = []
        prev: str | None = None
        pending: Token | None = None
        for tok in stream:
            kind = tok.type
            if kind == "_SEP":
                if stack and stack[-1].type != "LBRACE":
                    continue
                if prev is None or prev in OPENS_LINE:
                    continue
                pending = pending or tok
                continue
            if pending is not None:
                if kind not in CONTINUES:
                    yield pending
                pending = None
            if kind in OPENERS:
                stack.append(tok)
                if len(stack) > MAX_NESTING:
                    raise BracketError("deep", tok)
            elif kind in CLOSERS:
                if not stack:
                    raise BracketError("mismatched", tok)
                if stack[-1].type != CLOSERS[kind]:
                    raise BracketError("mismatched", tok, stack[-1],
                                       opener_open=any(o.type == CLOSERS[kind] for o in stack))
                stack.pop()
            yield tok
            prev = kind
        if stack:
            raise BracketError("unclosed", stack[-1], stack[-1])
