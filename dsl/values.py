"""What names stand for while a spec is expanded: tensors, bundles, blocks.

Stage: shared by the evaluator and the expander. A `Value` is a tensor in
the graph under construction (its producing node, shape without batch,
dtype); `POISON` stands for a value whose statement failed, so later
statements go on being checked without a cascade of follow-on errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dims import Dim, fmt_shape


@dataclass(frozen=True)
class TensorType:
    """What a catalogue entry sees of a value: shape (batch excluded) and dtype."""
    shape: tuple[Dim, ...]
    dtype: str = "float"
    # The layout fact (LANGUAGE.md §5, `linear`): dimension 0 holds the channels, as conv and pool layers
    # leave an image. Kept by layers that keep the layout, cleared by the rest; no part of a shape's equality.
    channels_first: bool = field(default=False, compare=False)

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return (f"{self.dtype}" if self.dtype != "float" else "") + fmt_shape(self.shape)


@dataclass(eq=False)
class Value:
    node: int
    type: TensorType | None  # None: unknown, after an error upstream
    origin: str = ""  # "the maxpool on line 8", for messages
    members: dict[str, Any] = field(default_factory=dict)

    @property
    def poisoned(self) -> bool:
        return self.type is None


POISON = Value(node=-1, type=None, origin="an earlier error")


@dataclass(eq=False)
class Bundle:
    """The results of `parallel` branches, waiting for a merge."""
    values: list[Value]
    origin: str = ""
    span: Any = None  # the `parallel` that made it, for the caret of E312


@dataclass(eq=False)
class Namespace:
    """The labels of a level that has no single value (a repeat pass)."""
    members: dict[str, Any]
