"""Running publications: serially or in worker processes, one failure never stopping the rest.

Workers are forked from the process that loaded and validated the content, so they share it
without reloading or pickling it; they send back the finished, verified bytes. Each PDF is
still rendered in a child of its worker, under the time and memory limits.
"""
from __future__ import annotations

import logging
import multiprocessing
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from .problems import ContentError, Problem

log = logging.getLogger("publish")


@dataclass
class Job:
    """One publication to render: its outputs are the same for the same key."""
    publication: object
    mark: str | None
    key: str


@dataclass
class Outcome:
    job: Job                                     # in a worker's outcome, a copy of the job
    status: str                                  # "built", "failed", "cached", "unchanged"
    outputs: dict[str, bytes] | None = None      # kind -> bytes
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    index: int = -1                              # the job's place in the list run


# What every worker needs, set before the workers are forked: (render, jobs).
_WORK: tuple[Callable, list[Job]] | None = None


def _run(index: int) -> Outcome:
    render, jobs = _WORK
    job = jobs[index]
    started = time.perf_counter()
    try:
        outputs = render(job)
    except ContentError as error:
        return Outcome(job, "failed", problems=error.problems,
                       seconds=time.perf_counter() - started, index=index)
    except Exception as error:  # noqa: BLE001 - a bug must not stop the other publications
        log.debug("%s", traceback.format_exc())
        source = job.publication.profile.dir if job.publication.profile else None
        return Outcome(job, "failed", problems=[Problem(
            "R002", f"internal error while building {job.publication.slug}: "
                    f"{type(error).__name__}: {str(error)[:300]}", source,
            hint="this is a bug in publish; run with -v for the traceback and report it")],
            seconds=time.perf_counter() - started, index=index)
    return Outcome(job, "built", outputs, seconds=time.perf_counter() - started, index=index)


def run_jobs(render: Callable[[Job], dict[str, bytes]], jobs: list[Job], workers: int,
             done: Callable[[Outcome], None]) -> None:
    """render(job) for every job, calling done(outcome) as each finishes."""
    global _WORK
    _WORK = (render, jobs)
    try:
        if workers <= 1 or len(jobs) <= 1:
            for index in range(len(jobs)):
                done(_run(index))
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = {pool.submit(_run, index): index for index in range(len(jobs))}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as error:  # noqa: BLE001 - a worker died
                        outcome = Outcome(jobs[index], "failed", index=index, problems=[Problem(
                            "R003", f"the worker building {jobs[index].publication.slug} "
                                    f"died: {type(error).__name__}", None)])
                    done(outcome)
    finally:
        _WORK = None
