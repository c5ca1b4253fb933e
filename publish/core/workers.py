"""Running publications: serially or in worker processes, one failure never stopping the rest.

Workers are forked from the process that loaded and validated the content, so they share it
without reloading or pickling it; they send back the finished, verified bytes. Each PDF is
still rendered in a child of its worker, under the time and memory limits.

The pool is publish's own rather than concurrent.futures': a worker that dies (killed, out of
memory) fails the one publication it was building and is replaced, where a
ProcessPoolExecutor would break and fail every publication still to come; and every worker is
tied to the run (:func:`publish.core.limits.die_with_parent`) and killed when it ends, however it
ends, so that no process outlives an interrupted or killed build.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from .limits import Kept, collect_garbage_in_bulk, die_with_parent, exit_cause
from .problems import ContentError, Problem

log = logging.getLogger("publish")

# Fork, never spawn: a worker must inherit the loaded content, and must be forked by the main
# thread for die_with_parent to hold.
_FORK = multiprocessing.get_context("fork")


@dataclass
class Job:
    """One publication to render: its outputs are the same for the same key."""
    publication: object
    mark: str | None
    key: str


@dataclass
class Outcome:
    job: Job
    status: str                                  # "built", "failed", "cached", "unchanged"
    outputs: dict[str, bytes] | None = None      # kind -> bytes
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    index: int = -1                              # the job's place in the list run


Render = Callable[[Job], dict[str, bytes]]


def usable_cores() -> int:
    """The cores this process may run on: its affinity where the system has one (a container
    or `taskset` may allow fewer than the machine has), else the machine's; at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def run_jobs(render: Render, jobs: list[Job], workers: int,
             done: Callable[[Outcome], None]) -> None:
    """render(job) for every job, calling done(outcome) as each finishes.

    In `workers` forked processes when there are several of both, else in this process.
    """
    if workers <= 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            done(_run(render, job, index))
        return
    pool = _Pool(render, jobs)
    with _run_folder():
        try:
            pool.run(min(workers, len(jobs)), done)
        finally:  # an exception, Ctrl-C or SIGTERM included: no worker outlives the run
            pool.stop()


@contextlib.contextmanager
def _run_folder() -> Iterator[None]:
    """The workers' temporary files, and their children's, in one folder that goes with the
    run: a worker killed as a run is stopped cannot remove its own (nor its render child's,
    core/limits.py)."""
    folder, before = tempfile.mkdtemp(prefix="publish-run-"), tempfile.tempdir
    tempfile.tempdir = folder  # read by the workers forked meanwhile, and their children
    try:
        yield
    finally:
        tempfile.tempdir = before
        shutil.rmtree(folder, ignore_errors=True)


def _run(render: Render, job: Job, index: int) -> Outcome:
    started = time.perf_counter()
    try:
        outputs = render(job)
    except ContentError as error:
        return Outcome(job, "failed", problems=error.problems,
                       seconds=time.perf_counter() - started, index=index)
    except Exception as error:  # noqa: BLE001 - a bug must not stop the other publications
        log.debug("%s", traceback.format_exc())
        return Outcome(job, "failed", problems=[Problem(
            "R002", f"internal error while building {job.publication.slug}: "
                    f"{type(error).__name__}: {str(error)[:300]}", _source(job),
            hint="this is a bug in publish; run with -v for the traceback and report it")],
            seconds=time.perf_counter() - started, index=index)
    return Outcome(job, "built", outputs, seconds=time.perf_counter() - started, index=index)


def _source(job: Job):
    """Where a publication's failure is reported: its folder, whatever its kind."""
    return getattr(job.publication, "source", None)


# -- in a worker ----------------------------------------------------------------------------

def _serve(parent: int, connection: Connection, render: Render, jobs: list[Job]) -> None:
    """A worker's life: run the jobs whose index the parent sends, until it closes the pipe.

    Only the index goes to the worker and only the result comes back: the jobs themselves are
    the worker's inherited copies, and the parent pairs results with its own."""
    die_with_parent(parent)
    collect_garbage_in_bulk()
    while True:
        try:
            index = connection.recv()
        except EOFError:
            return
        if index is None:  # no more work: end, with the renderer this worker kept, if any
            Kept.discard()
            return
        outcome = _run(render, jobs[index], index)
        connection.send((outcome.status, outcome.outputs, outcome.problems, outcome.seconds))
        gc.collect()  # this publication's garbage, off the parent's path (collect_garbage_in_bulk)


# -- in the parent --------------------------------------------------------------------------

@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection                       # the parent's end of the worker's pipe
    index: int | None = None                     # the job it is building, if any


class _Pool:
    """Forked workers running `jobs`, each handed the next job as it finishes one."""

    def __init__(self, render: Render, jobs: list[Job]):
        self.render, self.jobs = render, jobs
        self.workers: list[_Worker] = []

    def run(self, size: int, done: Callable[[Outcome], None]) -> None:
        waiting = deque(range(len(self.jobs)))
        for _ in range(size):
            self._hand_out(self._start(), waiting)
        while busy := {worker.connection: worker for worker in self.workers
                       if worker.index is not None}:
            for connection in wait(list(busy)):
                worker = busy[connection]
                outcome = self._collect(worker)
                if not worker.process.is_alive():
                    worker = self._replace(worker)
                self._hand_out(worker, waiting)  # before done(): the worker need not wait
                done(outcome)
        self._let_go()

    def _let_go(self) -> None:
        """Tell the workers, all idle, that there is no more work, and reap them as they end:
        each reaps its own children first, so that the run's CPU time counts theirs. (Closing
        their pipes would not do: a worker holds the ends of those forked before it.)"""
        for worker in self.workers:
            with contextlib.suppress(OSError):  # a worker that died is reaped by stop()
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(5)

    def stop(self) -> None:
        """Kill and reap every worker still there; busy or idle, they have nothing left to
        say."""
        for worker in self.workers:
            self._end(worker)
        self.workers = []

    def _start(self) -> _Worker:
        ours, theirs = _FORK.Pipe()
        process = _FORK.Process(target=_serve, name="publish-worker",
                                args=(os.getpid(), theirs, self.render, self.jobs))
        process.start()
        theirs.close()  # the worker's end stays with the worker alone: its death means EOF
        worker = _Worker(process, ours)
        self.workers.append(worker)
        return worker

    def _hand_out(self, worker: _Worker, waiting: deque) -> None:
        worker.index = waiting.popleft() if waiting else None
        if worker.index is not None:
            try:
                worker.connection.send(worker.index)
            except OSError:
                pass  # the worker is dead: wait() sees the end of its pipe, and _collect says so

    def _collect(self, worker: _Worker) -> Outcome:
        """The outcome of the worker's job: its result, or a failure if the worker died."""
        index, worker.index = worker.index, None
        job = self.jobs[index]
        try:
            status, outputs, problems, seconds = worker.connection.recv()
        except (EOFError, OSError):
            return self._died(worker, job, index)
        return Outcome(job, status, outputs, problems, seconds, index)

    def _died(self, worker: _Worker, job: Job, index: int) -> Outcome:
        worker.process.join(5)  # its pipe ended with it: it has died, or is about to
        cause = exit_cause(worker.process.exitcode)
        log.debug("worker %s died (%s) building %s", worker.process.pid, cause,
                  job.publication.slug)
        return Outcome(job, "failed", index=index, problems=[Problem(
            "R004", f"the worker building {job.publication.slug} died ({cause})",
            _source(job))])

    def _replace(self, worker: _Worker) -> _Worker:
        self._end(worker)
        self.workers.remove(worker)
        return self._start()

    @staticmethod
    def _end(worker: _Worker) -> None:
        worker.connection.close()
        worker.process.kill()  # SIGKILL: its renderer child follows (die_with_parent)
        worker.process.join()
