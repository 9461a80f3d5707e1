"""The checker's public entry points: a file (or text) in, checked graphs out.

Stage: the whole of `dsl/` behind one call — load with imports, expand each
model, collect diagnostics. Never raises on a bad spec; an unexpected
exception becomes an E900 "internal error" diagnostic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, DiagnosticError, Reporter
from .expand import Expander
from .graph import ModelGraph
from .program import Program, Unit
from .unused_blocks import check_unused_blocks


@dataclass
class CheckResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    models: list[ModelGraph] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def graph(self) -> ModelGraph | None:
        """The chosen model's graph (the only one, or the one named by `model=`)."""
        return self.models[0] if self.ok and len(self.models) == 1 else None

    def model(self, name: str) -> ModelGraph:
        return next(m for m in self.models if m.name == name)


def check_file(path: str | Path, params: dict[str, Any] | None = None, model: str | None = None,
               all_models: bool = False, debug: bool = False) -> CheckResult:
    """Check a spec file. `model` picks one model; `all_models` checks each (params must suit them all)."""
    result = CheckResult(str(path))
    return _guarded(result, lambda program: program.load_root(path), params, model, all_models, debug)


def check_text(text: str, name: str = "<spec>.arch", root: str | Path = ".", params: dict[str, Any] | None = None,
               model: str | None = None, debug: bool = False, all_models: bool = False) -> CheckResult:
    """Check a spec given as text; its imports resolve from `root`."""
    result = CheckResult(name)
    return _guarded(result, lambda program: program.load_text(text, name, Path(root)), params, model, all_models,
                    debug)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cycle collector paused for one check.

    A check makes many small objects and frees them by reference counting;
    the collector would walk every live one again and again as the graph
    grows, making time per layer rise with the number of layers. It runs as
    usual once the check is over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _guarded(result: CheckResult, load, params, model, all_models: bool, debug: bool) -> CheckResult:
    with _no_cyclic_gc():
        return _guarded_check(result, load, params, model, all_models, debug)


def _guarded_check(result: CheckResult, load, params, model, all_models: bool, debug: bool) -> CheckResult:
    reporter = Reporter()
    try:
        unit = load(Program(reporter))
        if unit is not None:
            _check_unit(unit, reporter, result, params or {}, model, all_models)
    except DiagnosticError as e:
        for d in e.diagnostics:
            reporter.add(d)
    except RecursionError:
        reporter.report("E006", None, limit="the checker's")
    except Exception as e:  # the tool's own bug: report it as one, never crash
        if debug:
            raise
        reporter.report("E900", None, message=f"{type(e).__name__}: {e}")
    result.diagnostics = reporter.diagnostics
    return result


def _check_unit(unit: Unit, reporter: Reporter, result: CheckResult, params: dict[str, Any],
                model: str | None, all_models: bool) -> None:
    models = unit.file.models
    if reporter.failed:
        return
    if model is not None:
        chosen = [m for m in models if m.name == model]
        if not chosen:
            names = [m.name for m in models]
            from .suggest import did_you_mean
            reporter.report("E110", None, hint=did_you_mean(model, names), name=model, path=unit.display)
            return
    elif not models:
        if not unit.file.blocks:
            reporter.report("E112", None, path=unit.display)
        check_unused_blocks(unit.file.blocks, set(), unit.globals, reporter)
        return
    elif len(models) > 1 and not all_models:
        reporter.report("E111", None, path=unit.display, names=", ".join(m.name for m in models))
        return
    else:
        chosen = models
    expanded: set[int] = set()
    for mdef in chosen:
        graph = Expander(reporter, expanded).model(unit, mdef, params)
        if graph is not None:
            result.models.append(graph)
    check_unused_blocks(unit.file.blocks, expanded, unit.globals, reporter)
