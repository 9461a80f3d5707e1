"""Diagnostics: one record per problem, rendered as rustc-style text or JSON.

Stage: every stage reports through a `Reporter`; the CLI renders. A
diagnostic is made from an error code of `dsl.errors` and the fields of its
template; parse errors stop a file, later stages collect and go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from .errors import format_message
from .source import Sources, Span


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: str = "error"
    line_text: str | None = None

    def render(self) -> str:
        """The text form of LANGUAGE.md §7: message, location, source line, caret, hint."""
        out = [f"{self.severity}[{self.code}]: {self.message}"]
        if self.span is not None:
            s = self.span
            num = str(s.line)
            pad = " " * len(num)
            out.append(f"{pad}--> {s.file}:{s.line}:{s.col}")
            if self.line_text is not None:
                raw = _shown(self.line_text).rstrip()
                end = s.end_col if s.end_line == s.line else len(raw) + 1
                # Columns count characters; tabs are shown as spaces, so measure the caret on the shown text.
                before = len(raw[: s.col - 1].expandtabs(4))
                width = max(1, len(raw[: max(end, s.col) - 1].expandtabs(4)) - before)
                shown, before, width = _window(raw.expandtabs(4), before, width)
                out.append(f"{pad} |")
                out.append(f"{num} | {shown}")
                out.append(f"{pad} | {' ' * before}{'^' * width}")
            if self.hint:
                out.append(f"{pad} = hint: {self.hint}")
        elif self.hint:
            out.append(f"  = hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> dict:
        """mypy's field names, one object per diagnostic."""
        s = self.span
        return {
            "file": s.file if s else None,
            "line": s.line if s else None,
            "column": s.col if s else None,
            "end_line": s.end_line if s else None,
            "end_column": s.end_col if s else None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


QUOTED = 100  # characters of a source line a diagnostic quotes at most
LEAD = 30  # of them, how many come before the caret when the line is cut


def _window(line: str, col: int, width: int) -> tuple[str, int, int]:
    """At most `QUOTED` characters of `line` around the caret at `col` (0-based) of `width`, with `…` where
    the line is cut; returns the text, and the caret's column and width in it. A minified or generated line
    of a megabyte is not printed whole."""
    if len(line) <= QUOTED:
        return line, col, width
    start = max(0, min(col - LEAD, len(line) - QUOTED))
    stop = start + QUOTED
    mark = "…" if start else ""
    text = mark + line[start:stop] + ("…" if stop < len(line) else "")
    return text, len(mark) + col - start, max(1, min(width, stop - col))


def _shown(line: str) -> str:
    """`line` as printed: a character that a terminal would take as a line break (a form feed,
    U+2028, ...) becomes a space, one character for one, so that the caret keeps its column."""
    return "".join(" " if ch.isspace() and ch not in " \t" else ch for ch in line)


class DiagnosticError(Exception):
    """Raised to abandon the current statement; carries finished diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class Reporter:
    """Collects diagnostics of one run and quotes their source lines."""

    def __init__(self, sources: Sources | None = None) -> None:
        self.sources = sources or Sources()
        self.diagnostics: list[Diagnostic] = []

    def make(self, code: str, span: Span | None, hint: str | None = None, form: str | None = None,
             **fields) -> Diagnostic:
        """The diagnostic `code` (its message `form`, for a code with several) at `span`."""
        message, default_hint = format_message(code, fields, form)
        line_text = self.sources.line(span.file, span.line) if span else None
        return Diagnostic(code=code, message=message, span=span, hint=hint or default_hint, line_text=line_text)

    def error(self, code: str, span: Span | None, hint: str | None = None, form: str | None = None,
              **fields) -> DiagnosticError:
        """A diagnostic wrapped in an exception, for `raise reporter.error(...)`."""
        return DiagnosticError([self.make(code, span, hint, form, **fields)])

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def report(self, code: str, span: Span | None, hint: str | None = None, form: str | None = None,
               **fields) -> None:
        self.add(self.make(code, span, hint, form, **fields))

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(json.dumps(d.to_json()) for d in diagnostics)
