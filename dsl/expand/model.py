"""One model's expansion from end to end: parameters in, a checked graph out.

Stage: expansion, called by `dsl.check` for each chosen model. `Expander`
binds the model's parameters (`--set` overrides, then defaults), walks its
body with a fresh `ModelBuild`, refuses `--set` names that are neither a
parameter nor a symbolic input size, and settles the outputs. Any error
means no graph: the diagnostics say why. The walk itself is
`dsl.expand.statements`'.
"""

from __future__ import annotations

from typing import Any

from .. import ast
from ..diagnostics import DiagnosticError, Reporter
from ..evaluate import Evaluator
from ..graph import ModelGraph, Port
from ..naming import Level
from ..program import Unit
from ..scope import Scope
from ..suggest import did_you_mean
from ..values import Bundle, Value
from .state import Ctx, Current, ModelBuild, port
from .statements import Walker


class Expander:
    """Expands the models of one check; `expanded` collects the id() of every block definition called."""

    def __init__(self, reporter: Reporter, expanded: set[int] | None = None) -> None:
        self.reporter = reporter
        self.expanded = expanded if expanded is not None else set()

    def model(self, unit: Unit, mdef: ast.ModelDef, overrides: dict[str, Any]) -> ModelGraph | None:
        start = len(self.reporter.diagnostics)
        scope = unit.globals.child()
        params_used = self._parameters(mdef, overrides, scope)
        known = {p.name for p in mdef.params}
        n_inputs = sum(isinstance(s, ast.InputDecl) for s in mdef.body.stmts)
        if n_inputs == 0:
            self.reporter.report("E503", mdef.span, model=mdef.name)
            return None
        # The overrides that are no parameter may give symbolic input sizes a value.
        build = ModelBuild(self.reporter, mdef.name, {k: v for k, v in overrides.items() if k not in known},
                           n_inputs)
        walker = Walker(self.reporter, build, self.expanded)
        try:
            current = walker.body(mdef.body, Ctx(scope, Level(), None, unit, in_model=True), None)
            self._unused_symbols(mdef, build)
            outputs = self._outputs(mdef, build, current)
            if any(d.severity == "error" for d in self.reporter.diagnostics[start:]):
                return None
            return build.graph(unit.display, params_used, outputs)
        finally:
            # The walk's helpers point back at the walker, and elements at their levels: reference cycles,
            # which only the cycle collector frees. Broken here, what the walk made is freed at once;
            # otherwise the collector's first pass after the check (`dsl.check` pauses it) costs ~10% of one.
            walker.release()
            build.release()

    def _parameters(self, mdef: ast.ModelDef, overrides: dict[str, Any], scope: Scope) -> dict[str, Any]:
        """Each model parameter's value, defined in `scope`; a parameter without one is E114."""
        evaluate = Evaluator(self.reporter)
        used: dict[str, Any] = {}
        for p in mdef.params:
            if p.name in overrides:
                value = overrides[p.name]
            elif p.default is not None:
                try:
                    value = evaluate(p.default, scope)
                except DiagnosticError as e:
                    for d in e.diagnostics:
                        self.reporter.add(d)
                    continue
            else:
                self.reporter.report("E114", p.span, name=p.name)
                continue
            used[p.name] = value
            scope.define(p.name, value, "parameter", p.span)
        return used

    def _unused_symbols(self, mdef: ast.ModelDef, build: ModelBuild) -> None:
        """E113 for each `--set` name that is no parameter and no symbolic size of an input."""
        for name in build.symbols:
            if name in build.used_symbols:
                continue
            known = [p.name for p in mdef.params] + sorted(build.used_symbols)
            hint = did_you_mean(name, known) or (
                f"its parameters: {', '.join(p.name for p in mdef.params)}" if mdef.params else
                "it takes no parameters")
            self.reporter.report("E113", mdef.span, hint, model=mdef.name, name=name)

    def _outputs(self, mdef: ast.ModelDef, build: ModelBuild, current: Current) -> list[Port]:
        """The model's `output` statement, or else its final value."""
        if build.outputs is not None:
            return build.outputs
        if isinstance(current, Bundle):
            self.reporter.report("E312", current.span or mdef.body.span)
        elif isinstance(current, Value) and not current.poisoned:
            return [port("output", current)]
        return []
