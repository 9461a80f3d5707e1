"""archlang's back ends: checked graphs → torch modules, files, tables, diagrams.

    from archlang import compiler
    model = compiler.build("specs/resnet18.arch", classes=10, seed=0)   # torch.nn.Module

torch is imported only by the parts that build or export (`compiler.lower`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archlang.dsl import check_file
from archlang.dsl.diagnostics import DiagnosticError

from .notebook import register as register_notebook_display


def build(path: str | Path, model: str | None = None, *, seed: int | None = None,
          weights: str | Path | None = None, max_bytes: int | None = None, **params: Any):
    """Check `path` and lower its model to a `torch.nn.Module`; raise `DiagnosticError` on a bad spec.

    `seed` seeds torch's generator first, so the same spec and seed give the same weights
    (those `archlang compile --seed` writes); without it the weights follow torch's global state.
    `weights` names a `.pt`/`.safetensors` state_dict to load strictly (E601 lists what does not fit).
    A model whose parameters and activations (batch 1) need more than `max_bytes` is refused
    (E408) before a weight exists; the default budget is half of the machine's memory.
    """
    result = check_file(path, params=params, model=model)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    from .budget import enforce
    enforce(result.graph, max_bytes, batch=1, flag="build(..., max_bytes=N)")
    from .lower import lower
    if seed is not None:
        import torch
        torch.manual_seed(seed)
    module = lower(result.graph)
    module.spec_graph = result.graph  # what a notebook shows for the module (compiler.notebook)
    if weights is not None:
        from .weights import load_weights
        load_weights(module, weights, result.graph.name)
    return module


# In Jupyter, checked graphs and built models display as a table and a diagram.
register_notebook_display()

__all__ = ["build", "DiagnosticError"]
