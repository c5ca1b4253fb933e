"""Showing a build's progress: a live line on a terminal, plain lines in CI logs."""
from __future__ import annotations

import time


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Called as each publication finishes: done of total, rate, time left."""

    def __init__(self, stream, live: bool):
        self.stream, self.live = stream, live
        self.started = time.perf_counter()

    def __call__(self, outcome, report) -> None:
        done = len(report.built) + len(report.cached) + len(report.unchanged) + len(report.failed)
        elapsed = time.perf_counter() - self.started
        rendered = len(report.built) + len(report.failed)
        rate = rendered / elapsed * 60 if elapsed > 0 and rendered else 0.0
        left = (report.total - done) / (rate / 60) if rate else 0.0
        counts = f"[{done}/{report.total}]"
        pace = f"{rate:.1f}/min, {_duration(left)} left" if rate else ""
        if self.live:
            line = f"\r{counts} {outcome.job.publication.slug[:40]:<40} {pace}"
            self.stream.write(line.ljust(90))
            if done == report.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{counts} {outcome.status} {outcome.job.publication.slug}"
                              f"{f' ({outcome.seconds:.1f}s)' if outcome.seconds else ''}"
                              f"{f'; {pace}' if pace else ''}\n")
        self.stream.flush()


def summary(report) -> str:
    parts = [f"{len(report.built)} built", f"{len(report.cached)} from the cache",
             f"{len(report.unchanged)} unchanged", f"{len(report.failed)} failed"]
    noun = "publication" if report.total == 1 else "publications"
    return f"{report.total} {noun}: {', '.join(parts)}, in {_duration(report.seconds)}."
