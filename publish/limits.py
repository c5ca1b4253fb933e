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


def run_limited(function, *args, time_limit: float, memory_limit: int, blame: Path | None,
                **kwargs):
    """`function(*args, **kwargs)` in a child process, or ContentError at a limit.

    Problems at a limit name `blame`: the publication being rendered.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, daemon=True,
                            args=(sender, memory_limit * 1024 * 1024, function, args, kwargs))
    child.start()
    sender.close()
    try:
        if not receiver.poll(time_limit):
            raise ContentError([Problem("R003", f"rendering took longer than {time_limit:g} s "
                                                "and was stopped", blame)])
        try:
            kind, value = receiver.recv()
        except EOFError:
            child.join(5)
            raise ContentError([Problem("R003", "the renderer died "
                                        f"({_death(child.exitcode)}), most likely out of memory "
                                        f"(limit {memory_limit} MiB)", blame)]) from None
    finally:
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
        child.join(5)
        receiver.close()
    if kind == "ok":
        return value
    if kind == "problems":
        raise ContentError(value)
    if kind == "memory":
        raise ContentError([Problem("R003", f"rendering needed more than {memory_limit} MiB "
                                            "of memory and was stopped", blame)])
    raise RuntimeError(f"the renderer failed:\n{value}")


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit status {exitcode}"
