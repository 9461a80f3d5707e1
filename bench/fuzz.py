"""Long fuzzing runs of the checker: internal errors, hangs, memory, carets on the wrong line.

    .venv/bin/python bench/fuzz.py --cases 10000            # mutations of the shipped specs
    .venv/bin/python bench/fuzz.py --mode grammar --cases 2000
    .venv/bin/python bench/fuzz.py --cases 500 --save out/fuzz   # keep each failing spec

Each case is checked in a worker process with a memory limit (`--memory-mb`)
and a time limit per case (`--timeout`): a case past it is a hang, and the
worker is replaced. The engine and the oracle are `bench/fuzzing.py`, the
same that `tests/test_fuzz.py` runs a few hundred cases of on every CI run.
Prints one line per kind of finding and a summary; exits 1 when anything
was found.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import fuzzing  # noqa: E402

WORKER = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
limit = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import fuzzing
for line in sys.stdin:
    text = json.loads(line)
    try:
        found = [[f.kind, f.detail] for f in fuzzing.check_case(text)]
    except MemoryError:
        found = [["memory", "MemoryError"]]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"found": found, "peak_mb": peak}), flush=True)
"""


class Worker:
    """A checker in its own process, answering one case per line."""

    def __init__(self, memory_mb: int):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT / "bench"), str(memory_mb)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def check(self, text: str, timeout: float) -> dict | None:
        """The worker's answer, or None when it took longer than `timeout` or died."""
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        return json.loads(line) if line else None

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def cases(mode: str, n: int, seed: int):
    if mode == "mutate":
        yield from fuzzing.mutated_cases(n, seed)
        return
    from hypothesis import HealthCheck, given, settings
    drawn: list[str] = []

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(fuzzing.grammar_strategy())
    def draw(text):
        drawn.append(text)

    draw()
    yield from drawn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--mode", choices=["mutate", "grammar"], default="mutate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per case before it counts as a hang")
    ap.add_argument("--memory-mb", type=int, default=2048, help="address-space limit of the worker")
    ap.add_argument("--save", type=Path, help="write each failing spec into this folder")
    args = ap.parse_args()

    worker = Worker(args.memory_mb)
    counts: collections.Counter = collections.Counter()
    examples: dict[tuple[str, str], str] = {}
    peak = slowest = 0.0
    t0 = time.perf_counter()
    done = 0
    for i, text in enumerate(cases(args.mode, args.cases, args.seed)):
        start = time.perf_counter()
        answer = worker.check(text, args.timeout)
        slowest = max(slowest, time.perf_counter() - start)
        if answer is None:
            worker.close()
            worker = Worker(args.memory_mb)
            found = [["hang", f"no answer within {args.timeout:g} s (or the worker died)"]]
        else:
            found = answer["found"]
            peak = max(peak, answer["peak_mb"])
        for kind, detail in found:
            key = (kind, detail.split("\n")[0][:100])
            counts[key] += 1
            examples.setdefault(key, text)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{kind}-{i:05d}.arch").write_text(text, encoding="utf-8")
        done = i + 1
    worker.close()
    wall = time.perf_counter() - t0
    kinds = collections.Counter()
    for (kind, _), c in counts.items():
        kinds[kind] += c
    for (kind, detail), c in counts.most_common(30):
        print(f"{c:6d}  {kind:9s} {detail}")
    print(f"{done} {args.mode} cases in {wall:.0f} s ({1000 * wall / max(done, 1):.1f} ms each, slowest "
          f"{slowest:.2f} s), worker peak {peak:.0f} MB: "
          + ", ".join(f"{kinds[k]} {k}" for k in ("internal", "exception", "hang", "memory", "caret")))
    return 1 if counts else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
