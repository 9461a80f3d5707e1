"""LANGUAGE.md §5's layer table, generated from the catalogue so the two cannot drift.

Stage: a documentation tool beside the checker; nothing in the pipeline
calls it. Each row is one `REGISTRY` entry: its call written from its
argument model (required fields positional, defaults as the language writes
them, a weight argument as `=label`; tensor arguments the model does not
declare follow), its `io` and its `summary`. It invents nothing about a
layer: a fact missing from an entry is an error here.

    python -m archlang.dsl.layers.doc                    # print the table
    python -m archlang.dsl.layers.doc docs/LANGUAGE.md   # rewrite the table in place, between its markers
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from . import REGISTRY
from .base import Layer

BEGIN = ("<!-- layer table: generated from dsl/layers by `python -m archlang.dsl.layers.doc docs/LANGUAGE.md`;"
         " do not edit -->")
END = "<!-- end of the generated layer table -->"
# The order a reader meets layers in (images, then dense, shape, normalisation, sequences, merges),
# by catalogue module; a module not named here follows, in registry order.
SECTIONS = ("conv", "pool", "dense", "reshape", "norm", "activation", "sequence", "recurrent", "attention", "merge")


class DocError(Exception):
    """A catalogue entry lacks a fact the table shows."""


def value_text(v: Any) -> str:
    """A default as a spec writes it: `true`, `none`, `1e-5`, `"tanh"`."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{v:g}").replace("e+", "e")
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def call(layer: Layer) -> str:
    """`conv(out, kernel, stride=1, ...)`: how the layer is written, every argument named."""
    parts = []
    for name, field in layer.Args.model_fields.items():
        if name == layer.variadic:
            parts.append(f"{name}...")
        elif field.default is PydanticUndefined and field.default_factory is None:
            parts.append(name)
        else:
            parts.append(f"{name}={value_text(field.get_default(call_default_factory=True))}")
    # Tensor arguments are named only: they come last, as a label (`tie=label`) or a value left out (`memory=none`).
    parts += [f"{t.name}={'label' if t.weight else 'none'}" for t in layer.tensor_args]
    if layer.takes_init_std:  # the catalogue's one argument for every layer with weights to draw
        parts.append("init_std=none")
    return f"{layer.name}({', '.join(parts)})" if parts else layer.name


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rows() -> list[str]:
    def place(layer: Layer) -> int:
        module = type(layer).__module__.rsplit(".", 1)[-1]
        return SECTIONS.index(module) if module in SECTIONS else len(SECTIONS)

    out = []
    for layer in sorted(REGISTRY.values(), key=place):  # stable: registry order within a module
        if not layer.summary.strip() or not layer.io.strip():
            raise DocError(f"layer `{layer.name}` has no summary or io in dsl/layers; LANGUAGE.md §5 shows both")
        out.append(f"| `{_cell(call(layer))}` | {_cell(layer.io)} | {_cell(layer.summary)} |")
    return out


def table() -> str:
    return "\n".join([BEGIN, "| layer | input → output | notes |", "|---|---|---|", *rows(), END]) + "\n"


def splice(text: str) -> str:
    """`text` with the block between the markers replaced by the current table."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise DocError("no generated layer table (its two marker comments) in the document")
    return text[:start] + table() + text[end + len(END):].removeprefix("\n")


def committed(text: str) -> str:
    """The generated block as it stands in `text`, markers included."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise DocError("no generated layer table (its two marker comments) in the document")
    return text[start:end + len(END)] + "\n"


def main(argv: list[str]) -> None:
    if not argv:
        sys.stdout.write(table())
        return
    path = Path(argv[0])
    path.write_text(splice(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
