"""How long drawing takes, next to how long checking the same spec takes.

For each spec this measures, in one process and best of N: `check` (parse +
expand + shapes, the baseline), building the diagram model at the default
depth (which tries each depth to find the deepest readable one), rendering
it as text, as DOT source, and as SVG through graphviz's `dot` program (a
subprocess: its start-up is part of what a user waits for). Ratios are
against `check` of the same spec.

    .venv/bin/python bench/diagram_speed.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best  # noqa: E402

SPECS = ("cats_vs_dogs", "resnet50", "gpt2_small")


def measure(name: str, n: int = 10) -> list[tuple[str, float]]:
    from archlang.compiler.diagram.dot import render_dot
    from archlang.compiler.diagram.flow import build
    from archlang.compiler.diagram.render import run_dot
    from archlang.compiler.diagram.text import render_text

    from archlang import dsl

    path = ROOT / "specs" / f"{name}.arch"
    graph = dsl.check_file(path).graph  # warm: lark's parser table is built once per process
    model = build(graph)
    rows = [
        ("check (baseline)", best(lambda: dsl.check_file(path), n)),
        ("diagram model, default depth", best(lambda: build(graph), n)),
        ("text", best(lambda: render_text(model), n)),
        ("dot source", best(lambda: render_dot(model), n)),
    ]
    if shutil.which("dot"):
        source = render_dot(model)
        rows.append(("svg through `dot`", best(lambda: run_dot(source, "svg"), max(3, n // 3))))
    return rows


def main() -> None:
    print("archlang diagram: best of runs in one process; ratio = time / check of the same spec")
    print(f"{'spec':14}  {'step':30}  {'ms':>9}  {'ratio':>7}")
    for name in SPECS:
        if not (ROOT / "specs" / f"{name}.arch").exists():
            continue
        rows = measure(name)
        base = rows[0][1]
        for step, t in rows:
            print(f"{name:14}  {step:30}  {t * 1e3:9.2f}  {t / base:6.2f}×")
    if not shutil.which("dot"):
        print("(graphviz's `dot` is not installed: svg not measured)")


if __name__ == "__main__":
    main()
