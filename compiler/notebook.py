"""Jupyter display of checked graphs and built models: a summary table and a diagram.

Stage: after checking or building, in a notebook. `dsl/` knows nothing of
HTML or diagrams (and must not import `compiler/`), so instead of
`_repr_html_` methods on `dsl`'s classes this module registers IPython HTML
formatters for `dsl.CheckResult`, `dsl.ModelGraph` and the module that
`compiler.build` returns (it carries its graph as `spec_graph`). `import
compiler` registers them when it runs inside IPython; `%load_ext
archlang.compiler.notebook` does the same by hand. It imports neither IPython nor torch
itself, and outside IPython it does nothing.
"""

from __future__ import annotations

import html
import sys
from typing import Any

from archlang.dsl.check import CheckResult
from archlang.dsl.graph import ModelGraph

from .report import check_line, exact, summary_rows

HEAD = ("name", "layer", "output shape", "params", "MACs")
STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"


def _cells(row, tag: str = "td") -> str:
    return "".join(f'<{tag} style="text-align:{"right" if i > 2 else "left"};padding:1px 8px">'
                   f"{html.escape(str(c))}</{tag}>" for i, c in enumerate(row))


def table_html(g: ModelGraph, depth: int | None = None) -> str:
    """`archlang summary`'s table as HTML."""
    total = ("total", "", ", ".join(str(p) for p in g.outputs), exact(g.params), exact(g.macs))
    body = "".join(f"<tr>{_cells(r)}</tr>" for r in summary_rows(g, depth))
    return (f'<table class="archlang-summary" style="{STYLE}"><thead><tr>{_cells(HEAD, "th")}</tr></thead>'
            f"<tbody>{body}</tbody><tfoot><tr style=\"font-weight:bold\">{_cells(total)}</tr></tfoot></table>")


def diagram_html(g: ModelGraph) -> str:
    """The diagram as inline SVG, or its text form when graphviz is not installed."""
    from .diagram import DiagramError, draw

    drawing = draw(g)
    try:
        svg = drawing.render("svg").decode("utf-8")
    except DiagramError:
        return f"<pre>{html.escape(drawing.text)}</pre>"
    return f'<div class="archlang-diagram">{svg[svg.find("<svg"):]}</div>'


def graph_html(g: ModelGraph) -> str:
    return (f'<div class="archlang"><p><b>{html.escape(g.name)}</b> <code>{html.escape(check_line(g))}</code></p>'
            f"{table_html(g)}{diagram_html(g)}</div>")


def result_html(r: CheckResult) -> str:
    """The diagnostics as `archlang check` prints them, then each model that checked."""
    parts = []
    if r.diagnostics:
        shown = "\n\n".join(d.render() for d in r.diagnostics)
        parts.append(f'<pre class="archlang-diagnostics" style="color:#b03a2e">{html.escape(shown)}</pre>')
    else:
        parts.append(f"<p>{html.escape(r.path)}: no problems</p>")
    if r.ok:
        parts.extend(graph_html(g) for g in r.models)
    return "".join(parts)


def module_html(module: Any) -> str | None:
    """A module built by `compiler.build`: its parameters as torch counts them, then its spec's table and diagram."""
    graph = getattr(module, "spec_graph", None)
    if not isinstance(graph, ModelGraph):
        own = getattr(module, "_repr_html_", None)  # any other torch module keeps its own display
        return own() if callable(own) else None
    params = sum(p.numel() for p in module.parameters())
    return (f"<p>{html.escape(type(module).__name__)} <b>{html.escape(graph.name)}</b>: "
            f"{params:,} parameters in torch</p>{graph_html(graph)}")


def register(shell: Any = None) -> bool:
    """Register the HTML displays with IPython's shell (the running one by default); False outside IPython."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(ModelGraph, graph_html)
    formatter.for_type(CheckResult, result_html)
    # By name, so torch is not imported to register; every nn.Module subclass reaches module_html.
    formatter.for_type_by_name("torch.nn.modules.module", "Module", module_html)
    return True


def load_ipython_extension(shell: Any) -> None:
    register(shell)
