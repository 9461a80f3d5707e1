"""Memory budgets: refuse a model too large to build before a single weight exists.

Stage: after checking, before lowering; needs no torch. `run`, `compile` and
`compiler.build` ask `enforce` first. The figure is what the checked graph
proves: parameter bytes (parameters × 4, float32) plus activation bytes at
the given batch, measured as `archlang compare` measures them (every layer's
output kept for backward, and attention's score matrices). It is an upper
bound for inference, where torch frees activations as it goes; the point is
to say no in milliseconds rather than to fail in a swap storm minutes later.

It does not limit what the checker itself may use (that is `dsl`'s size
limits: numbers, lists, layers, file size).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from archlang.dsl.diagnostics import Diagnostic, DiagnosticError, Reporter
from archlang.dsl.dims import Dim, Sym, is_concrete
from archlang.dsl.graph import ModelGraph

from .compare import activation_bytes

PARAM_BYTES = 4  # float32, the dtype every built model starts in
DEFAULT_FRACTION = 0.5  # of physical memory: the rest is the interpreter's, torch's and the machine's
FALLBACK_BYTES = 8 * 2**30  # when the machine does not say how much memory it has
FLAG = "--max-memory SIZE"

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")


def parse_size(text: str) -> int:
    """`64GB`, `512MiB`, `1.5g`, `1000000` → bytes; ValueError for anything else."""
    m = _SIZE.fullmatch(text)
    unit = m and _UNITS.get(m.group(2).lower())
    if m is None or unit is None:
        raise ValueError(f"expected a size such as 64GB, 512MiB or 1000000, got {text!r}")
    return int(float(m.group(1)) * unit)


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def default_budget() -> int:
    """Half of this machine's physical memory (8 GiB where it cannot be read)."""
    total = physical_memory()
    return int(total * DEFAULT_FRACTION) if total else FALLBACK_BYTES


def show_bytes(n: int) -> str:
    if n >= 1e15:
        return f"{n / 1e12:,.0f} TB"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class Estimate:
    params: int  # bytes of parameters
    activations: int  # bytes of activations at `batch`; 0 when a size is still symbolic
    batch: int

    @property
    def total(self) -> int:
        return self.params + self.activations


def estimate(graph: ModelGraph, batch: int = 1) -> Estimate:
    """The bytes `graph` needs built, and run forward on `batch` samples."""
    params = graph.params * PARAM_BYTES if is_concrete(graph.params) else 0
    per_sample: Dim = activation_bytes(graph)
    if isinstance(per_sample, Sym) or not is_concrete(per_sample):
        per_sample = 0  # an open size: the compiled source serves any length, so only weights are certain
    return Estimate(params=int(params), activations=int(per_sample) * batch, batch=batch)


def over_budget(graph: ModelGraph, budget: int, batch: int = 1, flag: str = FLAG) -> Diagnostic | None:
    """The diagnostic refusing `graph`, or None when it fits in `budget` bytes."""
    need = estimate(graph, batch)
    if need.total <= budget:
        return None
    heaviest = max(graph.nodes, key=lambda n: n.params if is_concrete(n.params) else 0, default=None)
    span = heaviest.span if heaviest is not None and heaviest.params and need.params >= need.activations else None
    reporter = Reporter()
    if span is not None:
        try:  # quote the line of the heaviest layer, as the checker would have
            reporter.sources.add(span.file, Path(span.file).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            pass
    default = "half of this machine's memory" if physical_memory() else show_bytes(FALLBACK_BYTES)
    return reporter.make("E408", span, model=graph.name, need=show_bytes(need.total),
                         params=show_bytes(need.params), activations=show_bytes(need.activations),
                         batch=need.batch, budget=show_bytes(budget), flag=flag, default=default)


def enforce(graph: ModelGraph, budget: int | None, batch: int = 1, flag: str = FLAG) -> None:
    """Raise `DiagnosticError` (E408) when `graph` needs more than `budget` bytes (None: the default)."""
    found = over_budget(graph, default_budget() if budget is None else budget, batch, flag)
    if found is not None:
        raise DiagnosticError([found])
