"""Checking cost against the number of layers: is it linear up to 10,000?

Two generated specs at 100, 1,000 and 10,000 layers: a chain written out
layer by layer (`linear(64) -> relu` pairs), and the same layers made by
one `repeat(n)` block. Prints the best check time of each and the time per
layer; linear cost means the per-layer column stays flat. The text is new
for every size, so each check parses it (the parse cache only helps the
repeats of one text).

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


def check_cold(text: str) -> None:
    from archlang.dsl.parse import _parse_cached

    from archlang import dsl
    _parse_cached.cache_clear()  # each run parses, as a new spec would be
    res = dsl.check_text(text)
    assert res.ok, res.diagnostics[:1]


def main() -> None:
    check_cold(chain(100))  # warm: lark's tables
    print("layers   chain: total   per layer   repeat: total   per layer")
    base = {}
    for n in SIZES:
        runs = 5 if n < 10_000 else 3
        t_chain = best(lambda n=n: check_cold(chain(n)), runs)
        t_rep = best(lambda n=n: check_cold(repeated(n)), runs)
        base.setdefault("chain", t_chain / n)
        base.setdefault("repeat", t_rep / n)
        print(f"{n:6,d} {t_chain * 1e3:11.1f} ms {t_chain / n * 1e6:8.1f} µs {t_rep * 1e3:12.1f} ms "
              f"{t_rep / n * 1e6:8.1f} µs")
    print(f"per-layer time at 10,000 ÷ at 100: chain {t_chain / SIZES[-1] / base['chain']:.2f}×, "
          f"repeat {t_rep / SIZES[-1] / base['repeat']:.2f}×")


if __name__ == "__main__":
    main()
