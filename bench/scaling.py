"""Checking cost against the number of layers: is it linear up to 10,000?

Three generated specs at 100, 1,000 and 10,000 layers: a chain written out
layer by layer (`linear(64) -> relu` pairs), the same layers made by one
`repeat(n)` block, and a `repeat(n)` of a call of a four-layer block (whose
expansion the checker makes once and copies, `dsl.expand.reuse`). Prints
the best check time of each and the time per layer; linear cost means the
per-layer column stays flat. The text is new for every size, so each check
parses it (the parse cache only helps the repeats of one text).

    .venv/bin/python bench/scaling.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best  # noqa: E402

SIZES = (100, 1_000, 10_000)


def chain(layers: int) -> str:
    pairs = "\n".join("    linear(64) -> relu" for _ in range(layers // 2))
    return f"model Chain {{\n    input x: [64]\n{pairs}\n}}\n"


def repeated(layers: int) -> str:
    # One pass is four layers, as in the brief's `repeat(2500)` at 10,000 layers.
    return (f"model Repeated {{\n    input x: [64]\n    repeat({layers // 4}) {{\n"
            "        linear(64) -> relu -> linear(64) -> relu\n    }\n}\n")


def block_calls(layers: int) -> str:
    return ("block Four() {\n    linear(64) -> relu -> linear(64) -> relu\n}\n"
            f"model Calls {{\n    input x: [64]\n    repeat({layers // 4}) {{ Four() }}\n}}\n")


def check_cold(text: str) -> None:
    from archlang.dsl.parse import _parse_cached

    from archlang import dsl
    _parse_cached.cache_clear()  # each run parses, as a new spec would be
    res = dsl.check_text(text)
    assert res.ok, res.diagnostics[:1]


def main() -> None:
    check_cold(chain(100))  # warm: lark's tables
    specs = {"chain": chain, "repeat": repeated, "block calls": block_calls}
    print("layers " + "".join(f"{name + ': total':>20} {'per layer':>10}" for name in specs))
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for n in SIZES:
        runs = 5 if n < 10_000 else 3
        row = f"{n:6,d} "
        for name, make in specs.items():
            t = best(lambda n=n, make=make: check_cold(make(n)), runs)
            first.setdefault(name, t / n)
            last[name] = t / n
            row += f"{t * 1e3:17.1f} ms {t / n * 1e6:7.1f} µs"
        print(row)
    print("per-layer time at 10,000 ÷ at 100: "
          + ", ".join(f"{name} {last[name] / first[name]:.2f}×" for name in specs))


if __name__ == "__main__":
    main()
