"""Builds stopped from outside: killed, interrupted, a worker lost. Real builds, in processes
of their own, read back from /proc and dist/.

Whatever stops a run, no process of it survives, dist/ is as it was (or holds what was
finished, where a worker died), no staging folder or half cache entry is left, and the next
run succeeds. Last, the cache on its own: what a killed run or a failed write leaves in it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, earlier_dist, run_cli
from processes import default_sigint, running_with, survivors_after, wait_for_descendants

from publish.core.cache import Cache

NOW = "2026-01-01T00:00:00Z"
TWO = "1/97"     # the shard of two factsheets: afghanistan and liechtenstein
THREE = "1/96"   # the shard of three: afghanistan, libya and zimbabwe
THREE_SLUGS = {"gocindex-2025-afghanistan", "gocindex-2025-libya", "gocindex-2025-zimbabwe"}


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def dist(tmp_path):
    """A dist/ that already holds an earlier output; no run for it outlives the test, even
    when the test fails."""
    dist = earlier_dist(tmp_path / "dist")
    yield dist
    for pid in running_with(str(dist)):
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, signal.SIGKILL)


def _build_in_subprocess(dist: Path, shard: str) -> subprocess.Popen:
    """A build of a shard in two workers, in a process of its own, with its own cache.

    From the project folder, so that `-m publish` runs the code under test."""
    return subprocess.Popen(
        [sys.executable, "-m", "publish", "--project", str(PROJECT), "build", "--now", NOW,
         "--shard", shard, "--jobs", "2", "--quiet", "--dist", str(dist),
         "--cache", str(_cache(dist))],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint)  # noqa: PLW1509 - no other thread runs in these tests


def _build_again(dist: Path, shard: str) -> tuple[int, str, str]:
    return run_cli("--project", str(PROJECT), "build", "--now", NOW, "--shard", shard,
                   "--jobs", "2", "--dist", str(dist), "--cache", str(_cache(dist)))


def _cache(dist: Path) -> Path:
    return dist.parent / "cache"


def _leftovers(dist: Path) -> list[str]:
    """Staging folders beside dist/ and half-written entries in the cache."""
    staging = dist.parent.glob(f".{dist.name}.staging-*")
    temporary = _cache(dist).glob("**/*.tmp")
    return sorted(str(path) for path in [*staging, *temporary])


def _published(dist: Path) -> set[str]:
    manifest = json.loads((dist / "manifest.json").read_text())
    return {entry["publication"] for entry in manifest["files"] if entry["publication"]}


def test_sigkill_of_the_parent_leaves_no_child(dist):
    before = snapshot(dist)
    build = _build_in_subprocess(dist, TWO)
    processes = wait_for_descendants(build, depth=2)  # the workers, and a renderer of one
    assert len([p for p in processes.values() if p.forked and p.depth == 1]) == 2
    build.kill()
    build.wait()
    assert survivors_after(processes) == []
    assert running_with(str(dist)) == []
    assert snapshot(dist) == before
    code, _, err = _build_again(dist, TWO)
    assert code == 0, err
    assert _leftovers(dist) == []
    # Now exactly the new state: the two factsheets, and nothing from before.
    assert "gocindex-2025/earlier.pdf" not in snapshot(dist)
    assert len(json.loads((dist / "manifest.json").read_text())["publications"]) == 2


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_stop_promptly(dist, signum):
    before = snapshot(dist)
    build = _build_in_subprocess(dist, TWO)
    processes = wait_for_descendants(build, depth=2)
    build.send_signal(signum)
    out, err = build.communicate(timeout=10)
    assert build.returncode == 128 + signum
    assert err == f"publish: interrupted by {signum.name}; {dist}/ is as it was\n"
    assert out == ""
    assert survivors_after(processes) == []
    assert running_with(str(dist)) == []
    assert snapshot(dist) == before
    assert _leftovers(dist) == []
    code, _, err = _build_again(dist, TWO)
    assert code == 0, err


def test_a_worker_killed_mid_build_fails_that_publication_alone(dist):
    build = _build_in_subprocess(dist, THREE)
    processes = wait_for_descendants(build, depth=2)
    renderer = next(pid for pid, p in processes.items() if p.forked and p.depth == 2)
    worker = processes[renderer].parent  # busy: it waits for its renderer
    os.kill(worker, signal.SIGKILL)
    out, err = build.communicate(timeout=60)
    assert build.returncode == 1, err
    (failed,) = re.findall(r"^(\S+) failed:$", err, re.MULTILINE)
    # Named at the publication's folder (a factsheet's is its edition's).
    assert (f"  content/gocindex-2025: R004 a worker process died: the worker building {failed} "
            "died (signal SIGKILL)"
            "\n      hint: run again; if it happens again, report it with the output of -v"
            ) in err
    assert re.search(r"^3 publications: 2 built, 0 from the cache, 0 unchanged, 1 failed, "
                     r"in \d+s\.$", out, re.MULTILINE), out
    assert _published(dist) == THREE_SLUGS - {failed}
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True,
                          text=True, check=False)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert survivors_after(processes) == []
    assert running_with(str(dist)) == []  # nor the worker that replaced the dead one
    code, out, err = _build_again(dist, THREE)
    assert code == 0, err
    assert "3 publications: 1 built, 0 from the cache, 2 unchanged, 0 failed" in out
    assert _published(dist) == THREE_SLUGS
    assert _leftovers(dist) == []



def _pid_of_an_ended_process() -> int:
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def test_the_cache_removes_what_killed_runs_left_and_what_it_failed_to_write(tmp_path):
    cache = Cache(tmp_path / "cache")
    killed = tmp_path / "cache" / "ab" / f".ab123456.{_pid_of_an_ended_process()}.tmp"
    running = tmp_path / "cache" / "cd" / f".cd123456.{os.getppid()}.tmp"
    for folder in (killed, running):
        folder.mkdir(parents=True)
        (folder / "pdf").write_bytes(b"%PDF- half written")
    outputs = {"pdf": b"%PDF-1.7", "epub": b"PK"}
    cache.put("ef" + "0" * 62, outputs)
    assert not killed.exists() and running.exists()
    assert cache.get("ef" + "0" * 62) == outputs
    with pytest.raises(KeyError):
        cache.put("ef" + "1" * 62, {"pdf": b"%PDF-1.7"})  # no EPUB: fails half way
    assert cache.hashes("ef" + "1" * 62) is None
    assert sorted(p.name for p in (tmp_path / "cache" / "ef").iterdir()) == ["ef" + "0" * 62]
