"""What the benchmarks share: timing an action warm."""
from __future__ import annotations

import statistics
import time


def median_seconds(action, runs: int) -> float:
    """The median of `runs` timings of `action()`, after one run to warm it."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
