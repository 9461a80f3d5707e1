"""archlang's back ends: checked graphs → torch modules, files, tables, diagrams.

    import compiler
    model = compiler.build("specs/resnet18.arch", classes=10)   # torch.nn.Module

torch is imported only by the parts that build or export (`compiler.lower`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsl import check_file
from dsl.diagnostics import DiagnosticError


def build(path: str | Path, model: str | None = None, max_bytes: int | None = None, **params: Any):
    """Check `path` and lower its model to a `torch.nn.Module`; raise `DiagnosticError` on a bad spec.

    A model whose parameters and activations (batch 1) need more than `max_bytes` is refused
    (E408) before a weight exists; the default budget is half of the machine's memory.
    """
    result = check_file(path, params=params, model=model)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    from .budget import enforce
    enforce(result.graph, max_bytes, batch=1, flag="build(..., max_bytes=N)")
    from .lower import lower
    return lower(result.graph)


__all__ = ["build", "DiagnosticError"]
