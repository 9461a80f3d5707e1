"""What the language server knows about one open document, in plain Python.

Stage: behind `compiler.lsp`, which only translates to and from the Language
Server Protocol. From the editor's text (never the file on disk) this module
checks the spec exactly as `archlang check` does, loads the program with its
imports for the blocks in scope, and answers the questions an editor asks at a
position: the figures of the statement there, the signature of a layer or
block, what may be typed next, where a block is defined. Positions here are
0-based lines and 0-based character columns, as in the protocol; spans of the
checker are 1-based. It needs no torch and never raises on a bad spec.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archlang.dsl import ast
from archlang.dsl.diagnostics import Reporter
from archlang.dsl.dims import fmt_shape
from archlang.dsl.graph import ModelGraph, Node
from archlang.dsl.layers import REGISTRY
from archlang.dsl.program import BlockRef, Program, Unit
from archlang.dsl.source import Span

from archlang import dsl

from .report import exact, human

# The words a statement or an expression may start with, besides names (LANGUAGE.md §1).
KEYWORDS = ("input", "output", "let", "residual", "shortcut", "parallel", "repeat", "if", "else", "in",
            "true", "false", "none", "and", "or", "not", "block", "model", "import")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Place:
    """A range in a file: 0-based lines and columns, the end exclusive."""
    path: Path
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # "layer" | "block" | "argument" | "label" | "keyword"
    detail: str = ""
    doc: str = ""
    insert: str | None = None


@dataclass
class Document:
    """One version of an open document, checked and loaded."""
    text: str
    path: Path  # where the editor says it lives; imports resolve from its folder
    result: dsl.CheckResult
    unit: Unit | None  # None when the text does not parse
    blocks: dict[str, BlockRef] = field(default_factory=dict)

    @classmethod
    def analyse(cls, text: str, path: Path) -> Document:
        name, root = path.name, path.parent
        result = dsl.check_text(text, name=name, root=root, all_models=True)
        program = Program(Reporter())
        try:
            unit = program.load_text(text, name, root)
        except Exception:  # the checker above has already reported it (as E900 at worst); hover just knows less
            unit = None
        blocks = {}
        if unit is not None:
            for name_, binding in unit.globals.names.items():
                if isinstance(binding.value, BlockRef):
                    blocks[name_] = binding.value
        return cls(text, path, result, unit, blocks)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    # ---- diagnostics

    def diagnostics(self) -> list[tuple[Place | None, dsl.Diagnostic]]:
        """Each diagnostic with its range in this document; None where it lies in no part of it."""
        out = []
        for d in self.result.diagnostics:
            s = d.span
            out.append((self._place(s) if s is not None and s.file == self.path.name else None, d))
        return out

    def _place(self, s: Span, path: Path | None = None) -> Place:
        return Place(path or self.path, s.line - 1, s.col - 1, s.end_line - 1, s.end_col - 1)

    # ---- hover

    def hover(self, line: int, col: int) -> str | None:
        """Markdown for the position: a layer's or block's signature, and the checked figures there."""
        parts = []
        word = self.word_at(line, col)
        if word is not None and not self._is_label(line, word):
            doc = self.signature(word[0])
            if doc:
                parts.append(doc)
        figures = self.figures(line, col)
        if figures:
            parts.append(figures)
        return "\n\n---\n\n".join(parts) or None

    def signature(self, name: str) -> str | None:
        if name in self.blocks:
            ref = self.blocks[name]
            lines = _unit_lines(ref.unit, self)
            params = ", ".join(p.name + (f" = {_source(lines, p.default.span)}" if p.default else "")
                               for p in ref.defn.params)
            doc = _comment_above(lines, ref.defn.span.line - 1)
            parts = [f"```arch\nblock {name}({params})\n```", doc, f"*{ref.unit.display}:{ref.defn.span.line}*"]
            return "\n\n".join(p for p in parts if p)
        layer = REGISTRY.get(name)
        if layer is None:
            return None
        return f"```arch\n{layer_signature(name)}\n```\n\n{layer.summary}".rstrip()

    def figures(self, line: int, col: int) -> str | None:
        """The output shape, parameters and MACs of the innermost statement part at the position."""
        for graph in self.result.models if self.result.ok else []:
            nodes = _nodes_at(graph, self.path.name, line + 1, col + 1)
            if nodes:
                last = nodes[-1]
                params = sum(n.params for n in nodes)
                macs = sum((n.macs for n in nodes), 0)
                what = f"`{last.layer}`" if len(nodes) == 1 else f"{len(nodes)} layers"
                # Unlabelled elements are named by their position ("layer1.0.2"): no name to show.
                tail = last.name.rsplit(".", 1)[-1]
                named = f" `{last.name}`" if len(nodes) == 1 and tail and not tail.isdigit() else ""
                return (f"{what}{named} → **{fmt_shape(last.shape)}**  \n"
                        f"params {exact(params)} · MACs {human(macs)}  \n"
                        f"*model {graph.name}: {exact(graph.params)} params, {human(graph.macs)} MACs*")
        return None

    # ---- definition

    def definition(self, line: int, col: int) -> Place | None:
        word = self.word_at(line, col)
        if word is None or word[0] not in self.blocks:
            return None
        ref = self.blocks[word[0]]
        path = self.path if ref.unit is self.unit else ref.unit.path
        lines = _unit_lines(ref.unit, self)
        start = ref.defn.span.line - 1
        text = lines[start] if start < len(lines) else ""
        found = re.search(rf"\bblock\s+({re.escape(ref.defn.name)})\b", text)
        col0 = found.start(1) if found else ref.defn.span.col - 1
        return Place(path, start, col0, start, col0 + len(ref.defn.name))

    # ---- completion

    def completions(self, line: int, col: int, fallback: Document | None = None) -> list[Completion]:
        """What may be typed at the position: a call's arguments inside its parentheses, else
        layers, blocks, labels and keywords. `fallback` (the last version that parsed) lends its
        blocks and labels while the text is half-typed."""
        source = self if self.unit is not None or fallback is None else fallback
        prefix = "\n".join(self.lines[:line] + [self.lines[line][:col] if line < len(self.lines) else ""])
        callee = _open_call(prefix)
        labels = [Completion(n, "label", "label in scope") for n in source.labels_at(line)]
        if callee is not None:
            args = source.arguments(callee)
            if args is not None:
                return args + labels
        items = [Completion(n, "layer", layer_signature(n), REGISTRY[n].summary) for n in sorted(REGISTRY)]
        for n, ref in sorted(source.blocks.items()):
            items.append(Completion(n, "block", f"block {n}({', '.join(p.name for p in ref.defn.params)})",
                                    ref.unit.display))
        return items + labels + [Completion(k, "keyword") for k in KEYWORDS]

    def arguments(self, callee: str) -> list[Completion] | None:
        if callee in REGISTRY:
            return [Completion(f"{n}=", "argument", detail, callee, f"{n}=")
                    for n, detail in _argument_details(REGISTRY[callee])]
        if callee in self.blocks:
            ref = self.blocks[callee]
            lines = _unit_lines(ref.unit, self)
            return [Completion(f"{p.name}=", "argument", f"= {_source(lines, p.default.span)}" if p.default else "",
                               callee, f"{p.name}=")
                    for p in ref.defn.params]
        return None

    def labels_at(self, line: int) -> list[str]:
        """Labels (with their dotted paths) and inputs of the model or block around `line` (0-based)."""
        if self.unit is None:
            return []
        for item in self.unit.file.items:
            # A definition's own span is its name; its body's runs to the closing brace.
            if isinstance(item, ast.ModelDef | ast.BlockDef) and item.span.line - 1 <= line < item.body.span.end_line:
                return list(dict.fromkeys(_labels(item.body, "")))
        return []

    # ---- words

    def word_at(self, line: int, col: int) -> tuple[str, int] | None:
        """The name under (or just before) the cursor, and its start column."""
        if not 0 <= line < len(self.lines):
            return None
        for m in WORD.finditer(self.lines[line]):
            if m.start() <= col <= m.end():
                return m.group(), m.start()
        return None

    def _is_label(self, line: int, word: tuple[str, int]) -> bool:
        rest = self.lines[line][word[1] + len(word[0]):]
        return rest.lstrip().startswith(":")


def layer_signature(name: str) -> str:
    details = _argument_details(REGISTRY[name])
    if not details:
        return name
    return f"{name}(" + ", ".join(f"{n}: {detail}" for n, detail in details) + ")"


def _argument_details(layer) -> list[tuple[str, str]]:
    """Each argument a call may name with its type and default: the `Args` fields, then the tensor arguments."""
    details = [(n, _type_text(f.annotation) + _default_text(f)) for n, f in layer.Args.model_fields.items()]
    # Tensor and weight arguments arrive by label, outside the argument model.
    return details + [(t.name, ("label of a layer" if t.weight else "label") + " = none") for t in layer.tensor_args]


def _type_text(annotation: Any) -> str:
    """An argument's type as the language says it: `int | list[int] | "same" | "valid"`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_text(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(_type_text(a) for a in args)}]"
    if annotation is type(None):
        return "none"
    return annotation.__name__ if isinstance(annotation, type) else re.sub(r"\btyping\.", "", str(annotation))


def _default_text(f) -> str:
    if f.is_required():
        return ""
    value = f.default
    if value is None or isinstance(value, bool):
        return " = " + str(value).lower()
    return f' = "{value}"' if isinstance(value, str) else f" = {value}"


def _labels(body: ast.Body, prefix: str):
    for stmt in body.stmts:
        if isinstance(stmt, ast.InputDecl):
            yield stmt.name
        elif isinstance(stmt, ast.Chain) and stmt.label:
            yield prefix + stmt.label
            for el in stmt.elements:
                if isinstance(el, ast.Group):
                    yield from _labels(el.body, prefix + stmt.label + ".")


def _open_call(prefix: str) -> str | None:
    """The layer or block whose parentheses the text ends inside, if any."""
    prefix = re.sub(r'#[^\n]*|"[^"\n]*"?', lambda m: " " * len(m.group()), prefix)
    stack: list[int] = []
    for i, ch in enumerate(prefix):
        if ch in "([{":
            stack.append(i)
        elif ch in ")]}" and stack:
            stack.pop()
    if not stack or prefix[stack[-1]] != "(":
        return None
    before = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", prefix[:stack[-1]])
    return before.group(1) if before else None


def _nodes_at(graph: ModelGraph, file: str, line: int, col: int) -> list[Node]:
    """The nodes made by the innermost element (a layer call, a block call, a repeat) at a 1-based
    position; on a line's label or margin, those of every statement on the line."""
    def covers(s: Span) -> bool:
        return s.file == file and (s.line, s.col) <= (line, col) <= (s.end_line, s.end_col)

    def size(s: Span) -> tuple[int, int]:
        return (s.end_line - s.line, s.end_col - s.col if s.end_line == s.line else s.end_col)

    spans = [n.span for n in graph.nodes if n.kind != "input" and covers(n.span)]
    spans += [f.span for f in graph.frames if covers(f.span)]
    if spans:
        best = min(spans, key=size)
        return _nodes_in(graph, lambda s: s == best)
    return _nodes_in(graph, lambda s: s.file == file and s.line == line)


def _nodes_in(graph: ModelGraph, chosen) -> list[Node]:
    frames = {f.id for f in graph.frames if chosen(f.span)}
    out = []
    for n in graph.nodes:
        if n.kind == "input":
            continue
        if chosen(n.span) or _in_frames(graph, n.frame, frames):
            out.append(n)
    return out


def _in_frames(graph: ModelGraph, fid: int | None, frames: set[int]) -> bool:
    while fid is not None:
        if fid in frames:
            return True
        fid = graph.frames[fid].parent
    return False


def _unit_lines(unit: Unit, doc: Document) -> list[str]:
    if unit is doc.unit:
        return doc.lines
    try:
        return unit.path.read_text(encoding="utf-8-sig").split("\n")
    except OSError:
        return []


def _source(lines: list[str], span: Span) -> str:
    """The text a span covers on its first line (a parameter's default)."""
    if not 0 < span.line <= len(lines):
        return "…"
    line = lines[span.line - 1]
    return line[span.col - 1: span.end_col - 1] if span.end_line == span.line else line[span.col - 1:]


def _comment_above(lines: list[str], index: int) -> str:
    """The comment lines right above line `index` (0-based), without their `#`."""
    out = []
    i = index - 1
    while i >= 0 and lines[i].lstrip().startswith("#"):
        out.append(lines[i].lstrip()[1:].strip())
        i -= 1
    return " ".join(reversed(out))
