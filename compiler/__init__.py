"""archlang's back ends: checked graphs → torch modules, files, tables, diagrams.

    import compiler
    model = compiler.build("specs/resnet18.arch", classes=10, seed=0)   # torch.nn.Module

torch is imported only by the parts that build or export (`compiler.lower`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsl import check_file
from dsl.diagnostics import DiagnosticError


def build(path: str | Path, model: str | None = None, *, seed: int | None = None, **params: Any):
    """Check `path` and lower its model to a `torch.nn.Module`; raise `DiagnosticError` on a bad spec.

    `seed` seeds torch's generator first, so the same spec and seed give the same weights
    (those `archlang compile --seed` writes); without it the weights follow torch's global state.
    """
    result = check_file(path, params=params, model=model)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    from .lower import lower
    if seed is not None:
        import torch
        torch.manual_seed(seed)
    return lower(result.graph)


__all__ = ["build", "DiagnosticError"]
