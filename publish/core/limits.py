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
from collections.abc import Callable
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
    _serve(connection, memory_bytes, function, args, kwargs)


def _spare_child(parent, connection, parents_end, preload):
    die_with_parent(parent)
    parents_end.close()
    try:
        preload()
    except Exception:  # noqa: BLE001 - the call imports it again, and reports what fails
        pass
    try:
        memory_bytes, function, args, kwargs = connection.recv()
    except EOFError:  # the parent closed its end: no work for it
        return
    _serve(connection, memory_bytes, function, args, kwargs)


def _serve(connection, memory_bytes, function, args, kwargs):
    """Run the call under the memory limit and send its outcome to the parent."""
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


# The processes that have prepared to render, and whether each has warmed up (a process
# forked by one inherits its warmth).
_processes: dict[int, bool] = {}


def prepare_to_render(count: int, warm_up: Callable[[], None]) -> None:
    """Called by a process about to render `count` publications in the children it forks:
    `warm_up()` it where that pays. A render in a cold fork costs about as much more as the
    warm-up itself, so it pays when the process renders several, or renders again (an
    author's rebuild, a preview); a one-off render of one publication is faster without it
    (by a tenth, measured), and takes a :class:`Spare` if one was started."""
    process = os.getpid()
    if count == 1 and process not in _processes:  # a cold one-off render, in the spare if any
        _processes[process] = False
        return
    Spare.discard()  # before warming up, which it would slow down
    if not _processes.get(process):
        warm_up()
        _processes[process] = True


def prepared_before() -> bool:
    """Whether this process has prepared to render before (and may be warm)."""
    return os.getpid() in _processes


class Spare:
    """A child forked ahead of its work, importing what the work needs (`preload()`) while
    its parent goes on: the next :class:`Limited` call of the parent takes it, instead of
    forking a child that would import it then. A one-off build of one publication so takes
    WeasyPrint's import (half a second) off its path: the import runs while the parent loads
    the content. Unused, it is stopped (:meth:`stop`) and costs a fork."""
    _current: Spare | None = None

    def __init__(self, preload: Callable[[], None]):
        self.owner = os.getpid()
        context = multiprocessing.get_context("fork")
        self.connection, theirs = context.Pipe()
        self.child = context.Process(target=_spare_child, daemon=True,
                                     args=(self.owner, theirs, self.connection, preload))
        self.child.start()
        theirs.close()

    @classmethod
    def start(cls, preload: Callable[[], None]) -> Spare:
        cls.discard()
        cls._current = cls(preload)
        return cls._current

    @classmethod
    def take(cls, memory_bytes: int, function, args, kwargs):
        """This process's spare, given the call, as (child, connection); None where there is
        no spare (or only one inherited from another process) or the call cannot be sent."""
        spare, cls._current = cls._current, None
        if spare is None or spare.owner != os.getpid() or not spare.child.is_alive():
            return None
        try:
            spare.connection.send((memory_bytes, function, args, kwargs))
        except Exception:  # noqa: BLE001 - an argument that cannot be pickled: fork instead
            spare.stop()
            return None
        return spare.child, spare.connection

    @classmethod
    def discard(cls) -> None:
        """Stop this process's spare, if it has one that is still unused."""
        spare, cls._current = cls._current, None
        if spare is not None and spare.owner == os.getpid():
            spare.stop()

    def stop(self) -> None:
        if self.child.is_alive():  # it holds nothing of value, and may be mid-import
            os.kill(self.child.pid, signal.SIGKILL)
        self.child.join(5)
        self.connection.close()


class Limited:
    """`function(*args, **kwargs)` running in a child process under the limits.

    Started at once, in this process's :class:`Spare` if it has one, else in a child forked
    now; `result()` waits for it, so the caller can do other work meanwhile. Problems at a
    limit name `blame`: the publication being rendered. Use it in a `with` block, so that the
    child is stopped even when the caller fails before asking for the result.
    """

    def __init__(self, function, *args, time_limit: float, memory_limit: int,
                 blame: Path | None, **kwargs):
        self.time_limit, self.memory_limit, self.blame = time_limit, memory_limit, blame
        self.started = time.monotonic()
        memory_bytes = memory_limit * 1024 * 1024
        spare = Spare.take(memory_bytes, function, args, kwargs)
        if spare is not None:
            self.child, self.receiver = spare
            return
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.child = context.Process(target=_child, daemon=True, args=(
            os.getpid(), sender, memory_bytes, function, args, kwargs))
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
