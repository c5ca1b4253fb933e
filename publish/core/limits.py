"""Bounded rendering: a renderer runs in a child process under a time and a memory limit.

A stylesheet or an SVG can ask WeasyPrint for unbounded work (var() and counter bombs, <use>
fan-out, an enormous image). Instead of hanging the job or being killed by the system, the
child is stopped at the limit and the build fails with a clear problem (R003).
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Self

from .problems import ContentError, Problem

DEFAULT_LIMITS = {
    "time_limit": 180,       # seconds for one publication's PDF
    "memory_limit": 3072,    # MiB of address space for the process that renders it
}


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Called first thing in every child publish forks: tie the child's life to its parent's.

    A parent killed with SIGKILL cannot clean up, and a child that outlives it would render on
    for nobody, or block forever writing to a pipe no one reads. Linux kills the child as soon
    as the parent goes (PR_SET_PDEATHSIG). Two things to know: the signal fires when the
    *thread* that forked the child ends, so publish forks from the main thread only; and the
    parent may already have died between fork and prctl, which getppid() then shows.
    Elsewhere than on Linux the child is not tied, and the parent's own clean-up is all there is.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    # The parent alone answers Ctrl-C and SIGTERM, for the whole run: it stops its children.
    # A child must neither act on them itself nor run the parent's handlers, inherited by fork.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _child(parent, connection, memory_bytes, function, args, kwargs):
    die_with_parent(parent)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        connection.send(("ok", function(*args, **kwargs)))
    except ContentError as error:
        connection.send(("problems", error.problems))
    except MemoryError:
        connection.send(("memory", None))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        # A library may catch MemoryError and raise its own error instead (WeasyPrint's
        # fetcher does): the limit is still what stopped it.
        connection.send(("memory", None) if _out_of_memory(error)
                        else ("error", traceback.format_exc()))
    finally:
        connection.close()


def _out_of_memory(error: BaseException) -> bool:
    """Whether a MemoryError is anywhere in the exception's chain of causes."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, MemoryError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


class Limited:
    """`function(*args, **kwargs)` running in a child process under the limits.

    Started at once; `result()` waits for it, so the caller can do other work meanwhile.
    Problems at a limit name `blame`: the publication being rendered. Use it in a `with`
    block, so that the child is stopped even when the caller fails before asking for the result.
    """

    def __init__(self, function, *args, time_limit: float, memory_limit: int,
                 blame: Path | None, **kwargs):
        self.time_limit, self.memory_limit, self.blame = time_limit, memory_limit, blame
        self.started = time.monotonic()
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.child = context.Process(target=_child, daemon=True, args=(
            os.getpid(), sender, memory_limit * 1024 * 1024, function, args, kwargs))
        self.child.start()
        sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exception) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill the child if it still runs, and reap it; again does nothing."""
        if self.child.is_alive():
            os.kill(self.child.pid, signal.SIGKILL)
        self.child.join(5)
        self.receiver.close()

    def result(self):
        try:
            kind, value = self._receive()
        finally:  # also on KeyboardInterrupt or SIGTERM: no child outlives the wait for it
            self.stop()
        if kind == "ok":
            return value
        if kind == "problems":
            raise ContentError(value)
        if kind == "memory":
            raise self._stopped(f"rendering needed more than {self.memory_limit} MiB of "
                                "memory and was stopped")
        raise RuntimeError(f"the renderer failed:\n{value}")

    def _receive(self):
        left = max(0.0, self.time_limit - (time.monotonic() - self.started))
        if not self.receiver.poll(left):
            raise self._stopped(f"rendering took longer than {self.time_limit:g} s and was "
                                "stopped")
        try:
            return self.receiver.recv()
        except EOFError:
            self.child.join(5)
            raise self._stopped(f"the renderer died ({exit_cause(self.child.exitcode)}), most "
                                f"likely out of memory (limit {self.memory_limit} MiB)") from None

    def _stopped(self, message: str) -> ContentError:
        return ContentError([Problem("R003", message, self.blame)])


def exit_cause(exitcode: int | None) -> str:
    """How a child process ended, from its multiprocessing exit code."""
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"
