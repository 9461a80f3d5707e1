"""Pictures and files: the `Drawing` object, and graphviz's `dot` run for svg, png and pdf.

Stage: the outside of the diagram package, called by `archlang diagram` and
by Python users (a `Drawing` shows itself as SVG in Jupyter). Text and DOT
need nothing installed; svg, png and pdf need the `dot` program, run as a
subprocess with the source on stdin and a time limit. When it is missing the
error is one line that says how to install it. Writing files atomically is
the CLI's job; `Drawing.save` is the plain Python convenience.

Why not the `graphviz` Python package: it runs the same `dot` program as a
subprocess (it bundles no graphviz), its graph-building API would replace
nothing here (`dot.py` writes the source, with its own quoting), and its
`pipe` takes no time limit (only its private backend passes `timeout` on),
so a drawing that makes `dot` hang would hang `archlang diagram` with it.
Calling `dot` here costs a dozen lines and one fewer dependency.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cached_property
from pathlib import Path

from archlang.dsl.graph import ModelGraph

from .dot import render_dot
from .flow import build
from .model import Diagram, DiagramOptions
from .text import render_text

FORMATS = ("svg", "png", "pdf", "dot", "txt")
PICTURES = ("svg", "png", "pdf")
DOT_TIMEOUT_S = 60


class DiagramError(Exception):
    """A diagram could not be rendered; the message is one line for the user."""


class DotMissing(DiagramError):
    def __init__(self, fmt: str):
        super().__init__(f"rendering .{fmt} needs graphviz's `dot` program; install it with "
                         f"`apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` (macOS), "
                         f"or write .txt or .dot instead")


def run_dot(source: str, fmt: str, timeout: float = DOT_TIMEOUT_S) -> bytes:
    """`dot -T<fmt>` on `source`; raises `DiagramError` (never a traceback the user has to read)."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotMissing(fmt)
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DiagramError(f"graphviz's `dot` did not finish within {timeout:g} s; "
                           f"try a smaller --depth, or write .dot and render it yourself") from None
    except OSError as e:
        raise DiagramError(f"could not run graphviz's `dot` ({exe}): {e.strerror or e}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        errors = [line for line in detail if line.lower().startswith("error")] or detail[-1:]
        raise DiagramError(f"graphviz's `dot` failed on .{fmt}: {errors[0] if errors else f'exit {proc.returncode}'}")
    return proc.stdout


class Drawing:
    """A model's diagram, ready as text, DOT source or a picture.

    `str(d)` is the text form; in Jupyter it displays as SVG (and falls back
    to the text form in Markdown when graphviz is not installed).
    """

    def __init__(self, diagram: Diagram):
        self.diagram = diagram

    @cached_property
    def text(self) -> str:
        return render_text(self.diagram)

    @cached_property
    def dot(self) -> str:
        return render_dot(self.diagram)

    def render(self, fmt: str) -> bytes:
        """The diagram as bytes of one of `FORMATS`."""
        if fmt not in FORMATS:
            raise DiagramError(f"unsupported diagram format .{fmt}; use one of " + ", ".join("." + f for f in FORMATS))
        if fmt == "txt":
            return self.text.encode("utf-8")
        if fmt == "dot":
            return self.dot.encode("utf-8")
        return run_dot(self.dot, fmt)

    def save(self, path: str | Path) -> Path:
        """Write to `path`; the suffix picks the format."""
        path = Path(path)
        path.write_bytes(self.render(path.suffix.lstrip(".").lower()))
        return path

    @property
    def boxes(self) -> int:
        return len(self.diagram.boxes())

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Drawing {self.diagram.title}: {self.boxes} boxes, depth {self.diagram.depth}>"

    def _repr_svg_(self) -> str | None:
        try:
            return self.render("svg").decode("utf-8")
        except DiagramError:
            return None

    def _repr_markdown_(self) -> str | None:
        # Frontends rank Markdown above SVG; give it only when there is no picture to show.
        if shutil.which("dot") is not None:
            return None
        return self.markdown()

    def markdown(self) -> str:
        return "```text\n" + self.text + "```\n"


def draw(graph: ModelGraph, options: DiagramOptions | None = None, **choices) -> Drawing:
    """The drawing of a checked graph: `draw(g, depth=2)` or `draw(g, DiagramOptions(style="detailed"))`."""
    if options is None:
        options = DiagramOptions(**choices)
    elif choices:
        options = options.model_copy(update=choices)
    return Drawing(build(graph, options))
