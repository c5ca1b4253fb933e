"""A run's processes as Linux's /proc shows them: its descendants, and which outlive it."""
from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    parent: int
    started: int        # in clock ticks after boot: tells a process from a later one with its pid
    depth: int          # 1 for a child of the run, 2 for a grandchild...
    forked: bool        # a fork of the run (a worker, a renderer), not a tool it runs


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent and start time of a process; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # After "pid (command)": state, ppid, then the start time as the 20th field from there.
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def _living() -> dict[int, tuple[int, int]]:
    """Every process that is not a zombie: pid -> (parent, start time)."""
    living = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                living[int(entry.name)] = (stat[1], stat[2])
    return living


def _command_line(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def descendants(pid: int) -> dict[int, Process]:
    """The living descendants of a process, at any depth."""
    living = _living()
    command = _command_line(pid)
    found: dict[int, Process] = {}
    generation, depth = {pid}, 0
    while generation:
        depth += 1
        generation = {child for child, (parent, _) in living.items() if parent in generation}
        for child in generation:
            parent, started = living[child]
            found[child] = Process(parent, started, depth, _command_line(child) == command)
    return found


def survivors(processes: dict[int, Process]) -> list[int]:
    """Those of the processes still running (a zombie has stopped: it only waits to be reaped)."""
    alive = []
    for pid, process in processes.items():
        stat = _stat(pid)
        if stat is not None and stat[0] != "Z" and stat[2] == process.started:
            alive.append(pid)
    return alive


def wait_until(condition, timeout: float, interval: float = 0.05):
    """condition()'s first true value within the timeout, else its last value."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = condition()
    return value


def wait_for_descendants(run, depth: int, timeout: float = 30) -> dict[int, Process]:
    """The run's descendants as soon as a fork of it is `depth` deep (a worker's renderer: 2;
    a renderer, without workers: 1), while the run is still going. Forks only: loading
    WeasyPrint, say, runs gcc to look for libraries."""
    def deep_enough():
        assert run.poll() is None, "the run ended before it could be interrupted"
        tree = descendants(run.pid)
        return tree if any(p.forked and p.depth >= depth for p in tree.values()) else None

    tree = wait_until(deep_enough, timeout)
    assert tree, f"no process {depth} deep under the run within {timeout} s"
    return tree


def survivors_after(processes: dict[int, Process], timeout: float = 2) -> list[int]:
    """Those of the processes still running after up to `timeout` seconds: time for the kernel
    to end them, not for them to finish their work (a PDF takes longer)."""
    wait_until(lambda: not survivors(processes), timeout)
    return survivors(processes)


def running_with(argument: str) -> list[int]:
    """Running processes with `argument` on their command line: with a folder of one test's
    own, the processes of that test's runs, however deep and whoever adopted them."""
    return [pid for pid in _living() if argument.encode() in _command_line(pid)]


def default_sigint() -> None:
    """For preexec_fn: Ctrl-C as a terminal gives it. A process started with SIGINT ignored
    (a background job of a script, as CI may run the tests), or blocked, passes that on, and
    Python then keeps it so: a test that stops a command with SIGINT would wait for nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def signal_state(pid: int) -> str:
    """The signals a process blocks and ignores, as /proc says them: for a failure's message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "(gone)"
    return " ".join(line for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
