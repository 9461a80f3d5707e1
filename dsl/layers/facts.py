"""What a layer tells its readers besides its shape rule: a recurrent step opened into gates.

Stage: data declared by catalogue entries (`Layer.cell`) and read by the
diagram (`archlang diagram --gates`, `--unroll`), which draws it and adds
nothing of its own about any layer. Plain frozen records: no rules, no
torch, no drawing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gate:
    name: str  # "forget gate"
    act: str  # "σ", "tanh"
    role: str  # what it does, in the document's words: "what to erase"
    symbol: str  # the letter the state equations use: "f"


@dataclass(frozen=True)
class RecurrentCell:
    """One step of a recurrent layer: its gates, how the state is updated, and what passes on.

    `values`, `ops` and `wires` are the step as a small picture: named values
    besides the gates and `h` (the new hidden state), operators between them,
    and which part feeds which (by gate symbol or key); `gating` are wires
    where a gate scales what another reads. A cell with no wires is one gate
    that gives `h` itself.
    """
    gates: tuple[Gate, ...]
    equations: tuple[tuple[str, str], ...]  # (what, formula): ("cell state", "c_t = f ⊗ c_t−1 ⊕ i ⊗ g")
    state: tuple[str, ...] = ("h",)  # what one step hands the next: ("h", "c") for an lstm
    values: tuple[tuple[str, str], ...] = ()  # (key, text): ("c", "c_t (cell state)")
    ops: tuple[tuple[str, str], ...] = ()  # (key, sign): ("m1", "⊗")
    wires: tuple[tuple[str, str], ...] = ()
    gating: tuple[tuple[str, str], ...] = ()
