"""Bounded rendering: a renderer runs in a child process under a time and a memory limit.

A stylesheet or an SVG can ask WeasyPrint for unbounded work (var() and counter bombs, <use>
fan-out, an enormous image). Instead of hanging the job or being killed by the system, the
child is stopped at the limit and the build fails with a clear problem (R003).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import tempfile
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


# The longest wait for a child in one go, longer limits waited out a day at a time: the
# system's poll takes at most 2**31 milliseconds (24 days), and Python's clock overflows
# long before a limit of 1e300 s.
_LONGEST_WAIT = 24 * 3600

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


def _child(parent, scratch, connection, memory_bytes, function, args, kwargs):
    _begin(parent, scratch)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _answer(connection, function, args, kwargs, stays=False)


def _spare_child(parent, scratch, connection, parents_end, preload):
    _begin(parent, scratch)
    parents_end.close()
    try:
        preload()
    except Exception:  # noqa: BLE001 - the call imports it again, and reports what fails
        pass
    gc.freeze()  # what it imported is kept for good, as what it inherited is
    try:
        memory_bytes, function, args, kwargs = connection.recv()
    except EOFError:  # the parent closed its end: no work for it
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _answer(connection, function, args, kwargs, stays=False)


def _kept_child(parent, scratch, connection, parents_end, memory_bytes):
    """A :class:`Kept` child's life: each call the parent sends, under the memory limit, until
    one reaches a limit or fails, or the child has grown too much, or the parent closes."""
    _begin(parent, scratch)
    parents_end.close()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    started = _address_space()
    while True:
        try:
            function, args, kwargs = connection.recv()
        except EOFError:
            return
        if not _answer(connection, function, args, kwargs,
                       stays=lambda: _address_space() - started <= Kept.GROWTH_BYTES):
            return
        gc.collect()  # the call's garbage, while the parent reads the answer (see below)


def _begin(parent: int, scratch: str) -> None:
    """First thing in a child: tie it to its parent, and make its temporary files in its
    scratch folder, which the parent removes when it reaps the child (:func:`_end`). A
    child's files are otherwise left behind: it ends without running finalizers, or is
    killed at a limit, and WeasyPrint keeps a copy of every font it loads in a folder of
    its own (1.5 MB a publication here, never removed)."""
    die_with_parent(parent)
    collect_garbage_in_bulk()
    tempfile.tempdir = scratch


# Container objects allocated, net, before Python's collector looks for cycles among the young
# ones: 700 by default.
YOUNG_OBJECTS = 10_000


def collect_garbage_in_bulk() -> None:
    """Called first thing in a forked process that does publish's heavy work (a worker, a
    render child): make Python's cycle collector cost less there.

    Rendering and templating make hundreds of thousands of short-lived objects. At Python's
    default threshold the collector ran about 110 times in a factsheet's warm render, and
    nearly once a render it walked the whole heap, the objects inherited from the parent
    included: 0.07 to 0.11 s of a 0.9 s render, work that chases pointers and runs far slower
    than its instruction count says. Here the objects inherited are frozen (never walked
    again, which also spares the copying of their memory pages that walking them would
    cause) and the young generation is collected after 10,000 new objects rather than 700.
    A process that takes call after call (a worker, a kept child) collects all its garbage
    once it has sent each answer, so that one publication's cycles (a rendered document is
    one) are not carried into the next: 0.03 s a factsheet in all. A render child's peak,
    building an eighth of the edition: 79 MB rather than 88 MB (136 MB without that last
    collection)."""
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def _answer(connection, function, args, kwargs, stays) -> bool:
    """Run the call and send its outcome to the parent, with whether this child takes another
    (`stays`, asked only of a call that ended well); that, returned."""
    outcome = _outcome(function, args, kwargs)
    staying = outcome[0] in ("ok", "problems") and bool(stays and stays())
    try:
        connection.send((*outcome, staying))
    except Exception as error:  # noqa: BLE001 - too large to send under the limit, or the parent left
        if _out_of_memory(error):
            with contextlib.suppress(Exception):
                connection.send(("memory", None, False))
        return False
    return staying


def _outcome(function, args, kwargs) -> tuple[str, object]:
    try:
        return "ok", function(*args, **kwargs)
    except ContentError as error:
        return "problems", error.problems
    except MemoryError:
        return "memory", None
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        # A library may catch MemoryError and raise its own error instead (WeasyPrint's
        # fetcher does): the limit is still what stopped it.
        return ("memory", None) if _out_of_memory(error) else ("error", traceback.format_exc())


def _address_space() -> int:
    """This process's address space in bytes, what RLIMIT_AS bounds; 0 where the system
    does not say (then a kept child is never replaced for its growth)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


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


def _renders_many() -> bool:
    """Whether this process renders several publications: it, or the process it was forked
    from (a build's worker), has warmed up to."""
    return any(_processes.values())


class _Ahead:
    """A child a process keeps for its next calls, one per process and class (`_current`);
    a process forked from its owner has none."""
    _current: _Ahead | None = None

    @classmethod
    def discard(cls) -> None:
        """Stop this process's child of this class, if it has one (a spare still unused,
        a kept child between calls): it holds nothing of value, and may be mid-import."""
        child, cls._current = cls._current, None
        if child is not None and child.owner == os.getpid():
            child.stop()

    def stop(self) -> None:
        _end(self.child, self.connection)


class Spare(_Ahead):
    """A child forked ahead of its work, importing what the work needs (`preload()`) while
    its parent goes on: the next :class:`Limited` call of the parent takes it, instead of
    forking a child that would import it then. A one-off build of one publication so takes
    WeasyPrint's import (half a second) off its path: the import runs while the parent loads
    the content. Unused, it is stopped (:meth:`stop`) and costs a fork."""
    _current: Spare | None = None

    def __init__(self, preload: Callable[[], None]):
        self.owner = os.getpid()
        self.child, self.connection = _fork_serving(_spare_child, preload)

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



class Kept(_Ahead):
    """A child kept by a process that renders many publications (a build's worker, a preview):
    it runs their calls one after the other under the memory limit, where a child forked per
    publication would copy its parent's memory page by page again, and start with WeasyPrint's
    fonts cold (core/pdf.py keeps them in the process that renders).

    A publication that reaches a limit still fails alone, and the next one gets a new child:
    the child is killed at the time limit, and it leaves after a call that ran out of memory
    or failed. It also leaves once its address space has grown by more than GROWTH_BYTES, so
    that every publication has nearly the room a fresh child would give it."""
    GROWTH_BYTES = 256 * 1024 * 1024
    _current: Kept | None = None

    def __init__(self, memory_bytes: int):
        self.owner, self.memory_bytes = os.getpid(), memory_bytes
        self.child, self.connection = _fork_serving(_kept_child, memory_bytes)

    @classmethod
    def take(cls, memory_bytes: int, function, args, kwargs) -> Kept | None:
        """This process's kept child (started if it has none, or none under this limit), given
        the call; None where the call cannot be sent."""
        kept = cls._current
        if kept is None or kept.owner != os.getpid() or kept.memory_bytes != memory_bytes:
            cls.discard()
            kept = cls._current = cls(memory_bytes)
        try:
            kept.connection.send((function, args, kwargs))
        except Exception:  # noqa: BLE001 - an argument that cannot be pickled: fork instead
            cls.discard()
            return None
        return kept



class Limited:
    """`function(*args, **kwargs)` running in a child process under the limits.

    Started at once: in this process's :class:`Spare` if it has one, else in its
    :class:`Kept` child where it renders many publications, else in a child forked now;
    `result()` waits for it, so the caller can do other work meanwhile. Problems at a limit
    name `blame`: the publication being rendered. Use it in a `with` block, so that the
    child is stopped even when the caller fails before asking for the result.
    """

    def __init__(self, function, *args, time_limit: float, memory_limit: int,
                 blame: Path | None, **kwargs):
        self.time_limit, self.memory_limit, self.blame = time_limit, memory_limit, blame
        self.started = time.monotonic()
        self.kept = None    # the Kept child running the call, if it runs in one
        self.stays = False  # whether that child answered and takes the next call
        memory_bytes = memory_limit * 1024 * 1024
        spare = Spare.take(memory_bytes, function, args, kwargs)
        if spare is not None:
            self.child, self.receiver = spare
            return
        if _renders_many():
            self.kept = Kept.take(memory_bytes, function, args, kwargs)
            if self.kept is not None:
                self.child, self.receiver = self.kept.child, self.kept.connection
                return
        self.receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
        self.child = _start(_child, sender, memory_bytes, function, args, kwargs)
        sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exception) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill the child if it still runs, and reap it (a kept child that answered and
        stays is left for the next call); again does nothing."""
        if self.kept is not None:
            if not self.stays:  # it takes no other call, or it still runs and must not
                Kept.discard()
            return
        _end(self.child, self.receiver)

    def result(self):
        try:
            kind, value, self.stays = self._receive()
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
        while not self.receiver.poll(min(self._time_left(), _LONGEST_WAIT)):
            if not self._time_left():
                raise self._stopped(f"rendering took longer than {self.time_limit:g} s and "
                                    "was stopped")
        try:
            return self.receiver.recv()
        except EOFError:
            self.child.join(5)
            raise self._stopped(f"the renderer died ({exit_cause(self.child.exitcode)}), most "
                                f"likely out of memory (limit {self.memory_limit} MiB)") from None

    def _time_left(self) -> float:
        return max(0.0, self.time_limit - (time.monotonic() - self.started))

    def _stopped(self, message: str) -> ContentError:
        return ContentError([Problem("R003", message, self.blame)])


# A kept child ends with its process, before multiprocessing's own ending, which would kill it
# without removing its scratch folder (a worker ends its child itself).
atexit.register(Kept.discard)


def _start(target, *args):
    """A child forked now to run `target(parent, scratch, *args)`, with a scratch folder of
    its own for its temporary files (:func:`_begin`)."""
    scratch = tempfile.mkdtemp(prefix="publish-render-")
    child = multiprocessing.get_context("fork").Process(
        target=target, daemon=True, args=(os.getpid(), scratch, *args))
    child.scratch = scratch
    try:
        child.start()
    except BaseException:
        shutil.rmtree(child.scratch, ignore_errors=True)
        raise
    return child


def _fork_serving(target, argument):
    """A child forked now to run `target(parent, scratch, its end, our end, argument)`, and
    our end of the two-way pipe between them (the child closes our end: EOF then means we
    closed ours)."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = _start(target, theirs, ours, argument)
    theirs.close()
    return child, ours


def _end(child, connection) -> None:
    """Kill a child if it still runs, reap it, remove its scratch folder, and close the
    parent's end of its pipe; again does nothing."""
    if child.is_alive():
        os.kill(child.pid, signal.SIGKILL)
    child.join(5)
    shutil.rmtree(child.scratch, ignore_errors=True)
    connection.close()


def exit_cause(exitcode: int | None) -> str:
    """How a child process ended, from its multiprocessing exit code."""
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"
