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
import time
from pathlib import Path

import pytest
from conftest import KYRGYZSTAN, PROJECT, earlier_dist, run_cli
from processes import default_sigint, running_with, survivors_after, wait_for_descendants

from publish.core.cache import Cache
from publish.core.limits import YOUNG_OBJECTS, Limited, Spare
from publish.core.problems import ContentError

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

    From the project folder, so that `-m publish` runs the code under test; its temporary
    files in a folder of the test's own (_temporary)."""
    _temporary(dist).mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "publish", "--project", str(PROJECT), "build", "--now", NOW,
         "--shard", shard, "--jobs", "2", "--quiet", "--dist", str(dist),
         "--cache", str(_cache(dist))],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(_temporary(dist))},
        preexec_fn=default_sigint)  # noqa: PLW1509 - no other thread runs in these tests


def _temporary(dist: Path) -> Path:
    return dist.parent / "tmp"


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
    assert list(_temporary(dist).iterdir()) == []  # the render children's fonts included
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


# -- The spare: a render's child forked ahead of its work ------------------------------------

_PRELOADED: list[int] = []


def _preload() -> None:
    _PRELOADED.append(os.getpid())


def _where_and_what_was_preloaded() -> tuple[int, list[int]]:
    return os.getpid(), list(_PRELOADED)


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


@pytest.fixture
def spare():
    started = Spare.start(_preload)
    yield started
    Spare.discard()
    started.stop()


def test_a_call_runs_in_the_spare_once_it_has_preloaded(spare):
    with Limited(_where_and_what_was_preloaded, time_limit=30, memory_limit=1024,
                 blame=None) as call:
        process, preloaded = call.result()
    assert process == spare.child.pid and preloaded == [spare.child.pid]
    # taken once: the next call forks a child of its own
    with Limited(_where_and_what_was_preloaded, time_limit=30, memory_limit=1024,
                 blame=None) as call:
        process, preloaded = call.result()
    assert process != spare.child.pid and preloaded == []


@pytest.mark.parametrize("call, limits, cause", [
    ((time.sleep, 10), {"time_limit": 0.5, "memory_limit": 1024}, "took longer than 0.5 s"),
    ((_allocate, 2048), {"time_limit": 30, "memory_limit": 512}, "more than 512 MiB"),
])
def test_a_spare_holds_its_call_to_the_limits(spare, call, limits, cause):
    function, *args = call
    started = time.monotonic()
    with Limited(function, *args, blame=Path("profile.yaml"), **limits) as running:
        assert running.child is spare.child
        with pytest.raises(ContentError) as stopped:
            running.result()
    [problem] = stopped.value.problems
    assert (problem.code, problem.file) == ("R003", Path("profile.yaml"))
    assert cause in problem.message and time.monotonic() - started < 5
    assert not spare.child.is_alive()


def test_an_unused_spare_is_stopped_and_reaped(spare):
    Spare.discard()
    assert spare.child.exitcode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(spare.child.pid, 0)


def test_a_call_the_spare_cannot_be_sent_gets_a_child_of_its_own(spare):
    with Limited(lambda: os.getpid(), time_limit=30, memory_limit=1024, blame=None) as call:
        assert call.result() != spare.child.pid  # a lambda is not pickled: a fork runs it
    assert not spare.child.is_alive()


def test_a_limit_of_years_is_waited_out():
    """The system's poll takes at most 24 days: a longer limit (1e300 s, which the command
    line takes) once ended as an internal error, "timeout is too large"."""
    with Limited(os.getpid, time_limit=1e300, memory_limit=1024, blame=None) as call:
        assert call.result() not in (os.getpid(), None)


def test_a_spare_is_its_parents_alone(spare):
    """A process forked from the spare's parent (a worker) forks its own children."""
    reader, writer = os.pipe()
    worker = os.fork()
    if worker == 0:
        os.write(writer, b"forks" if Spare.take(1024, os.getpid, (), {}) is None else b"took")
        os._exit(0)
    os.waitpid(worker, 0)
    assert os.read(reader, 10) == b"forks" and spare.child.is_alive()
    os.close(reader)
    os.close(writer)


KEPT = r"""
import json, os, sys, time
from publish.core.limits import Kept, Limited, prepare_to_render
from publish.core.problems import ContentError
HELD = []

def hold(megabytes):
    HELD.append(bytearray(megabytes * 1024 * 1024))
    return os.getpid()

def call(function, *args, time_limit=30, memory_limit=2048):
    with Limited(function, *args, time_limit=time_limit, memory_limit=memory_limit,
                 blame=None) as running:
        try:
            return running.result()
        except ContentError as error:
            return f"{error.problems[0].code}: {error.problems[0].message}"
        except RuntimeError:
            return "error"

prepare_to_render(2, lambda: None)  # as a build's worker or a preview: it renders many
steps = [call(os.getpid), call(os.getpid),
         call(time.sleep, 10, time_limit=0.5), call(os.getpid),
         call(bytearray, 4096 * 1024 * 1024), call(os.getpid),
         call(int, "not a number"), call(os.getpid),
         call(hold, Kept.GROWTH_BYTES // 2**20 + 50), call(os.getpid),
         call(hold, 10), call(os.getpid),
         call(bytes, 700 * 1024 * 1024, memory_limit=1024), call(os.getpid)]
print(json.dumps([os.getpid(), steps]))
"""


def test_a_process_that_renders_many_keeps_one_child_until_a_call_reaches_a_limit():
    result = subprocess.run([sys.executable, "-c", KEPT], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    parent, (first, again, slow, after_slow, large, after_large, failed, after_failure,
             grown, after_growth, small, after_small, unsent, after_unsent) = json.loads(
        result.stdout)
    assert first == again != parent                          # one child, kept
    assert slow.startswith("R003: rendering took longer") and after_slow not in (first, parent)
    assert large.startswith("R003: rendering needed more") and after_large != after_slow
    assert failed == "error" and after_failure != after_large  # it left after a failure
    assert grown == after_failure != after_growth             # it left, grown too much
    assert small == after_growth == after_small               # grown little: kept
    # its answer, too large to send under the limit
    assert unsent.startswith("R003: rendering needed more") and after_unsent != after_small


SCRATCH = r"""
import json, os, tempfile, time
from publish.core.limits import Limited, prepare_to_render
from publish.core.problems import ContentError

def call(function, *args, time_limit=30):
    with Limited(function, *args, time_limit=time_limit, memory_limit=2048,
                 blame=None) as running:
        try:
            return running.result()
        except ContentError as error:
            return error.problems[0].code

alone = call(tempfile.mkdtemp)          # in a child of its own, which then ends
prepare_to_render(2, lambda: None)
kept = call(tempfile.mkdtemp)           # in the kept child, which lives on
kept_meanwhile = os.path.isdir(kept)
stopped = call(time.sleep, 10, time_limit=0.5)  # the kept child, killed at the limit
print(json.dumps([alone, os.path.exists(alone), kept, kept_meanwhile, stopped,
                  os.path.exists(kept)]))
"""


def test_a_childs_temporary_files_go_when_it_is_reaped(tmp_path):
    """WeasyPrint keeps a copy of each font it loads in a folder of its own, and a child ends
    without removing it (or is killed): its parent removes the child's scratch folder."""
    result = subprocess.run([sys.executable, "-c", SCRATCH], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    alone, alone_left, kept, kept_meanwhile, stopped, kept_left = json.loads(result.stdout)
    assert Path(alone).parent.name.startswith("publish-render-") and not alone_left
    assert kept_meanwhile and stopped == "R003" and not kept_left
    assert list(tmp_path.iterdir()) == []


COLLECTOR = r"""
import gc, json
from publish.core.limits import Limited, Spare, prepare_to_render
from publish.core.workers import Job, run_jobs

def collector():
    return [gc.get_threshold()[0], gc.get_freeze_count()]

def call():
    with Limited(collector, time_limit=30, memory_limit=2048, blame=None) as running:
        return running.result()

states = {"here": collector(), "alone": call()}
Spare.start(lambda: None)
states["spare"] = call()
prepare_to_render(2, lambda: None)
states["kept"] = call()
jobs = [Job(None, None, "a"), Job(None, None, "b")]
run_jobs(lambda job: {"state": json.dumps(collector()).encode()}, jobs, 2,
         lambda outcome: states.setdefault("worker", json.loads(outcome.outputs["state"])))
print(json.dumps(states))
"""


def test_the_processes_that_render_collect_garbage_in_bulk():
    """Workers and render children freeze what they inherit and collect young objects in
    larger batches (limits.collect_garbage_in_bulk); the process that forks them is left
    as it was, an API caller's included."""
    result = subprocess.run([sys.executable, "-c", COLLECTOR], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    states = json.loads(result.stdout)
    assert states.pop("here") == [700, 0]
    assert set(states) == {"alone", "spare", "kept", "worker"}
    for threshold, frozen in states.values():
        assert threshold == YOUNG_OBJECTS and frozen > 10_000


def test_a_one_off_build_leaves_weasyprint_to_the_process_that_renders(tmp_path):
    """The build's own process never imports WeasyPrint for one publication: the spare (or the
    child forked for it) does, while the build loads the content."""
    script = ("import sys; from publish import cli; "
              "code = cli.main(sys.argv[1:]); print(code, 'weasyprint' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script, "--project", str(PROJECT), "build",
                             KYRGYZSTAN, "--dist", str(tmp_path / "dist"), "--cache",
                             str(tmp_path / "cache"), "-q"],
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.split()[-2:] == ["0", "False"], result.stderr[-2000:]
    assert (tmp_path / "dist/gocindex-2025/kyrgyzstan-draft.pdf").read_bytes()[:5] == b"%PDF-"


def test_by_default_one_worker_per_core_the_process_may_use():
    """Under an affinity of one core (taskset, a container), one worker, not the machine's."""
    result = subprocess.run([sys.executable, "-m", "publish", "build", "--help"],
                            preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
                            capture_output=True, text=True, check=True, cwd=PROJECT)
    assert "may use, 1 here" in " ".join(result.stdout.split())


def test_a_run_likely_to_change_nothing_forks_no_spare(tmp_path):
    """The spare's import would only compete with a run that renders nothing: the second of
    two identical builds forks none (a guess from dist/'s manifest and the files' times)."""
    script = ("import sys; from publish import cli; from publish.core.limits import Spare\n"
              "started, start = [], Spare.start\n"
              "Spare.start = lambda preload: started.append(preload) or start(preload)\n"
              "for _ in range(2):\n"
              "    print(cli.main(sys.argv[1:]), len(started))\n")
    result = subprocess.run([sys.executable, "-c", script, "--project", str(PROJECT), "build",
                             KYRGYZSTAN, "--dist", str(tmp_path / "dist"), "--cache",
                             str(tmp_path / "cache"), "-q"],
                            capture_output=True, text=True, timeout=300)
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: no spare is ever forked")
    counts = re.findall(r"^(\d+) (\d+)$", result.stdout, re.MULTILINE)
    assert counts == [("0", "1"), ("0", "1")], result.stderr[-2000:]


def test_the_guess_of_a_render_follows_the_projects_files(tmp_path):
    from publish.build import _likely_to_render
    from publish.core.sources import Project
    (tmp_path / "content/edition").mkdir(parents=True)
    data = tmp_path / "content/edition/data.csv"
    data.write_text("a,b\n")
    (tmp_path / "dist").mkdir()
    project, dist = Project.at(tmp_path), tmp_path / "dist"
    assert _likely_to_render(project, dist)  # no manifest: nothing built yet
    manifest = dist / "manifest.json"
    manifest.write_text("{}")
    past = time.time() - 3600
    for path in (data, data.parent, data.parent.parent):
        os.utime(path, (past, past))
    assert not _likely_to_render(project, dist)
    os.utime(data)  # edited since
    assert _likely_to_render(project, dist)
    os.utime(manifest)
    assert not _likely_to_render(project, dist)
    os.utime(manifest, (past, past))
    data.unlink()  # a file removed: its folder's time says so
    assert _likely_to_render(project, dist)
