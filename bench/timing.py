"""Shared by the benchmarks: the best of several timed runs in this process."""

from __future__ import annotations

import time
from collections.abc import Callable


def best(fn: Callable[[], object], n: int) -> float:
    """Seconds of the fastest of `n` calls: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
