"""Bounded rendering: a renderer runs in a child process under a time and a memory limit.

A stylesheet or an SVG can ask WeasyPrint for unbounded work (var() and counter bombs, <use>
fan-out, an enormous image). Instead of hanging the job or being killed by the system, the
child is stopped at the limit and the build fails with a clear problem (R003).
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
import traceback
from pathlib import Path

from .problems import ContentError, Problem

DEFAULT_LIMITS = {
    "time_limit": 180,       # seconds for one publication's PDF
    "memory_limit": 3072,    # MiB of address space for the process that renders it
}


def _child(connection, memory_bytes, function, args, kwargs):
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        connection.send(("ok", function(*args, **kwargs)))
    except ContentError as error:
        connection.send(("problems", error.problems))
    except MemoryError:
        connection.send(("memory", None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


class Limited:
    """`function(*args, **kwargs)` running in a child process under the limits.

    Started at once; `result()` waits for it, so the caller can do other work meanwhile.
    Problems at a limit name `blame`: the publication being rendered.
    """

    def __init__(self, function, *args, time_limit: float, memory_limit: int,
                 blame: Path | None, **kwargs):
        self.time_limit, self.memory_limit, self.blame = time_limit, memory_limit, blame
        self.started = time.monotonic()
        context = multiprocessing.get_context("fork")
        self.receiver, sender = context.Pipe(duplex=False)
        self.child = context.Process(target=_child, daemon=True, args=(
            sender, memory_limit * 1024 * 1024, function, args, kwargs))
        self.child.start()
        sender.close()

    def result(self):
        try:
            kind, value = self._receive()
        finally:
            if self.child.is_alive():
                os.kill(self.child.pid, signal.SIGKILL)
            self.child.join(5)
            self.receiver.close()
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
            raise self._stopped(f"the renderer died ({_death(self.child.exitcode)}), most "
                                f"likely out of memory (limit {self.memory_limit} MiB)") from None

    def _stopped(self, message: str) -> ContentError:
        return ContentError([Problem("R003", message, self.blame)])


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"
