"""`archlang fmt`: one canonical layout for `.arch` text, comments kept.

Stage: beside parsing; needs neither expansion nor torch. The formatter
works on the token stream, not the AST, because the AST keeps only the
comments that are notes: every comment, blank line and line break the
author chose survives, and only what lies between tokens is rewritten —

- indentation: four spaces per open `{`; a line continuing a chain (`->` at
  the end of the previous line or the start of this one) gets four more, a
  line inside an open `(`/`[` eight more;
- spacing: one space around `->`, binary operators, `=` of `let` and of a
  header's parameter defaults, after `,` `:` `;`; none inside brackets,
  before `,` `:` `)` `]`, around `.`, around `=` of a named argument, after
  a unary minus;
- at most one blank line in a row, none at the start or end of the file;
- trailing comments in a run of consecutive lines at one indentation start
  in one column, two spaces after the longest line's code.

The result must parse to the same AST as the input (`format_text` checks),
and formatting is idempotent: it depends only on tokens and line breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token

from . import ast
from .diagnostics import Reporter
from .parse import GRAMMAR, parse

INDENT = "    "
OPENERS = {"(": ")", "[": "]", "{": "}"}
BINARY = {"->", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "//", "%", "**", "and", "or", "if", "else"}
# After these a `-` or `+` is a sign, not an operator.
SIGN_AFTER = {"(", "[", ",", "=", ":", "->", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "//", "%", "**",
              "and", "or", "not", "if", "else", ";"}
NO_SPACE_BEFORE = {")", "]", ",", ".", ":", ";"}
NO_SPACE_AFTER = {"(", "[", "."}


class FormatError(Exception):
    """The formatter would change the meaning of the spec (a bug in it): nothing is written."""


@lru_cache(maxsize=1)
def _lexer() -> Lark:
    # The same grammar without the layout post-lexer: every newline and comment stays a token.
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic")


@dataclass
class _Line:
    code: str
    comment: str | None
    indent: int

    @property
    def blank(self) -> bool:
        return not self.code and self.comment is None


def format_text(text: str, file: str = "<spec>.arch") -> str:
    """The canonical form of `text`; raises `DiagnosticError` if it does not parse."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    before = _shape(parse(text, file, Reporter()))
    out = _render(_lines(text))
    if _shape(parse(out, file, Reporter())) != before:
        raise FormatError(f"formatting {file} would change its meaning")
    return out


def _shape(tree: ast.File) -> object:
    """The AST without source positions: what formatting must keep."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("span", "label_span")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return strip(tree.model_dump())


def _tokens_by_line(text: str) -> list[list[Token]]:
    lines: list[list[Token]] = [[] for _ in range(text.count("\n") + 1)]
    for tok in _lexer().lex(text, dont_ignore=True):
        if tok.type == "_SEP" and tok.value != ";":
            continue  # the line structure is the lines themselves
        if tok.value.strip() == "" and tok.type != "STRING":
            continue  # spaces and tabs between tokens: rewritten
        lines[tok.line - 1].append(tok)
    return lines


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    stack: list[tuple[str, str]] = []  # (opener, "header" | "call" | "other")
    prev_code: list[Token] = []  # the last line that had code
    for toks in _tokens_by_line(text):
        comment = toks[-1].value.rstrip() if toks and toks[-1].type == "COMMENT" else None
        code = toks[:-1] if comment is not None else toks
        if not code:
            depth = sum(1 for o, _ in stack if o == "{")
            out.append(_Line("", comment, depth))
            continue
        depth = sum(1 for o, _ in stack if o == "{")
        if code[0].value == "}":
            depth -= 1
        if stack and stack[-1][0] != "{":
            extra = 2  # inside an open `(`/`[`: twice, so a header's arguments stand apart from its body
        elif code[0].value == "->" or (prev_code and prev_code[-1].value == "->"):
            extra = 1  # a chain continued across lines
        else:
            extra = 0
        out.append(_Line(_join(code, stack, prev_code), comment, depth + extra))
        prev_code = code
    return out


def _join(code: list[Token], stack: list[tuple[str, str]], prev_line: list[Token]) -> str:
    """One line's tokens with canonical spaces; updates the bracket `stack` as it goes."""
    parts: list[str] = []
    prev: Token | None = None
    before_prev: Token | None = None
    sign = False  # the previous token was a sign (`-1`)
    for tok in code:
        v = tok.value
        parts.append((" " if _space(prev, tok, stack, sign) else "") + v)
        last = prev if prev is not None else (prev_line[-1] if prev_line else None)
        sign = v in ("-", "+") and (last is None or last.value in SIGN_AFTER)
        if v == "(":
            header = prev is not None and before_prev is not None and before_prev.value in ("model", "block")
            stack.append(("(", "header" if header else "call"))
        elif v in ("[", "{"):
            stack.append((v, "other"))
        elif v in (")", "]", "}") and stack:
            stack.pop()
        before_prev, prev = prev, tok
    return "".join(parts)


def _space(prev: Token | None, tok: Token, stack: list[tuple[str, str]], sign: bool) -> bool:
    """Whether one space goes between `prev` and `tok` on a line."""
    v = tok.value
    if prev is None or sign or prev.value in NO_SPACE_AFTER or v in NO_SPACE_BEFORE:
        return False
    if v == "=" or prev.value == "=":
        return not stack or stack[-1][1] != "call"  # `padding=1`, but `let k = 3` and `(classes = 2)`
    if v == "(":
        return not (prev.type == "NAME" or prev.value == "repeat")  # a call, not a parenthesised expression
    if v == "[":
        return not (prev.type == "NAME" or prev.value in ("]", ")"))  # `int[seq]`, `x.shape[0]`
    return True


def _render(lines: list[_Line]) -> str:
    # Blank lines: at most one in a row, none at either end.
    kept: list[_Line] = []
    for ln in lines:
        if ln.blank and (not kept or kept[-1].blank):
            continue
        kept.append(ln)
    while kept and kept[-1].blank:
        kept.pop()
    columns = _comment_columns(kept)
    out = []
    for i, ln in enumerate(kept):
        if ln.blank:
            out.append("")
        elif not ln.code:
            out.append(INDENT * ln.indent + ln.comment)
        else:
            text = INDENT * ln.indent + ln.code
            if ln.comment is not None:
                text = text.ljust(columns[i]) + ln.comment
            out.append(text)
    return "\n".join(out) + "\n"


def _comment_columns(lines: list[_Line]) -> dict[int, int]:
    """Trailing comments of consecutive code lines at one indentation share a column."""
    columns: dict[int, int] = {}
    run: list[int] = []

    def close() -> None:
        noted = [i for i in run if lines[i].comment is not None]
        if noted:
            col = max(len(INDENT * lines[i].indent + lines[i].code) for i in noted) + 2
            columns.update({i: col for i in noted})
        run.clear()

    for i, ln in enumerate(lines):
        if ln.blank or not ln.code or (run and lines[run[-1]].indent != ln.indent):
            close()
        if ln.code:
            run.append(i)
    close()
    return columns


__all__ = ["FormatError", "format_text"]
