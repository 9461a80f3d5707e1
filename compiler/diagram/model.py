"""The diagram model: what a diagram says, before any layout.

Stage: built from a checked `ModelGraph` by `compiler.diagram.flow`, consumed by
the renderers (`text`, `dot`). It knows nothing of columns, fonts or graphviz
syntax; it only records, in reading order, the values (boxes), what happens
between them (arrows, forks that join, folded repeats, recurrent cells drawn
through time or opened into gates) and the notes that stand beside them.

A *flow* is a list of items read top to bottom. It starts with a `Box` (a
lane's first value) or, inside a fork branch or a repeat, with a connector
that leaves the value above it. Connectors (`Arrow`, `Fork`, `Unroll`,
`Cell`) are each followed by the `Box` they produce; a `Repeat` wraps a flow
drawn once and taken N times, and its own last box is its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from archlang.dsl.layers.facts import RecurrentCell
from pydantic import BaseModel, ConfigDict, Field

Style = Literal["document", "detailed"]
Rankdir = Literal["TB", "LR"]


class DiagramOptions(BaseModel):
    """Every choice a caller can make, in one place (the CLI maps its flags onto this)."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    style: Style = "document"
    depth: int | None = Field(default=None, ge=0)  # None: the deepest depth that stays readable
    unroll: int = Field(default=0, ge=0, le=64)  # draw recurrent layers through this many steps
    gates: bool = False  # open LSTM/GRU cells into their gates
    shapes: bool = False  # detailed style: shapes ride on the arrows
    rankdir: Rankdir = "TB"  # pictures: top to bottom, or left to right
    dpi: int | None = Field(default=None, ge=24, le=1200)  # pictures: graphviz's resolution (png)


@dataclass
class Box:
    """A value the reader sees: an input, a layer's result, or a folded block."""
    id: str  # stable: from node ids or frame ids, never from id()
    text: str  # "image 3×128×128", "32×64×64", "layer1: Bottleneck ×3"
    kind: Literal["input", "value", "fold", "layer"] = "value"
    shape: str = ""  # the value's shape words, for folds and detailed boxes
    params: int | None = None  # detailed boxes and folds: parameter count
    note: str | None = None
    nodes: tuple[int, ...] = ()  # graph nodes this box stands for
    output: str | None = None  # the model's output port this box is, by name
    tint: str | None = None  # the catalogue's colour class of what made it (`Layer.colour_class`)
    seen: str | None = None  # a lane's `↪` box: the id of the box it continues from


@dataclass
class Arrow:
    """What happens between two boxes: layer labels joined by →, or nothing."""
    label: str | None
    nodes: tuple[int, ...] = ()
    refs: tuple[tuple[str, str], ...] = ()  # (argument, box id of the value it reads)


@dataclass
class Fork:
    """Branches that leave the box above and join again with `op` (⊕, ⊗, ‖, or a folded box)."""
    branches: list[list[Item]]  # an empty branch is the identity (a residual's skip)
    op: str
    nodes: tuple[int, ...] = ()
    sourced: bool = True  # False when the branches start from separate inputs


@dataclass
class Repeat:
    """A run of identical passes: the body is drawn once and taken `count` times."""
    name: str
    count: int
    body: list[Item]


@dataclass
class Cell:
    """One recurrent step opened up: the catalogue's gates, state updates and wiring (`Layer.cell`)."""
    label: str  # the layer's label ("LSTM 128")
    hidden: int
    step: RecurrentCell
    nodes: tuple[int, ...] = ()


@dataclass
class Unroll:
    """A recurrent layer drawn through time: `x1 → [LSTM cell] → h1`, each step feeding the next."""
    cell: str  # "LSTM cell"
    label: str
    steps: list[str]  # the step indices drawn: ["1", "2", "3"] or ["1", "2", "seq"]
    gap: bool  # steps are left out between the last two drawn
    length: str  # how many steps the sequence has ("seq", "30")
    state: str  # what passes to the next step: "h" or "h, c"
    opened: Cell | None = None  # --gates as well: the cell, opened
    nodes: tuple[int, ...] = ()


Item = Box | Arrow | Fork | Repeat | Cell | Unroll


@dataclass
class Diagram:
    """A whole model: its lanes (one per independent chain, in source order) and the options used."""
    title: str
    lanes: list[list[Item]]
    options: DiagramOptions
    depth: int | None = None  # the depth actually used
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (from box, to box, argument)

    def boxes(self) -> list[Box]:
        """Every box, in reading order (folded blocks count as one)."""
        found: list[Box] = []

        def walk(items: list[Item]) -> None:
            for it in items:
                if isinstance(it, Box):
                    found.append(it)
                elif isinstance(it, Fork):
                    for b in it.branches:
                        walk(b)
                elif isinstance(it, Repeat):
                    walk(it.body)

        for lane in self.lanes:
            walk(lane)
        return found


def shape_words(shape) -> str:
    """`3×128×128`; a symbolic size with spaces gets parentheses: `(seq + 1)×768`."""
    parts = []
    for d in shape:
        s = str(d)
        parts.append(f"({s})" if " " in s and len(shape) > 1 else s)
    return "×".join(parts) if parts else "scalar"
