"""Source positions: the `Span` every AST node and diagnostic carries.

Stage: shared by the parser (which makes spans) and diagnostics (which
render them). Lines and columns are 1-based; `end_col` is exclusive.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def source_lines(text: str) -> list[str]:
    """The lines of `text` as the lexer counts them, without their line ends.

    Only `\n` (or `\r\n`) ends a line, as in grammar.lark. `str.splitlines`
    also breaks at a form feed, U+2028 and other characters a comment may
    hold, and would then quote another line than the span's.
    """
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the end of the last line starts no line of its own
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class Sources:
    """The text of every file read in one run, so diagnostics can quote it."""

    def __init__(self) -> None:
        self._texts: dict[str, str | list[str]] = {}  # a file's text, split into lines once a diagnostic quotes it

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text

    def line(self, file: str, line: int) -> str | None:
        lines = self._texts.get(file)
        if isinstance(lines, str):
            lines = self._texts[file] = source_lines(lines)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]
