"""Integrity: one owner per publication, local failures in drafts, a dist/ that says exactly
what it holds, one run at a time, a cache that never serves a damaged entry."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EDITION, KYRGYZSTAN, PROJECT, make_small_edition, run_cli

from publish.core.lock import exclusive
from publish.core.problems import MAX_MESSAGE

PROFILES = EDITION / "profiles"
NOW = "2026-01-01T00:00:00Z"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def problem_lines(err: str, code: str) -> list[str]:
    return [line for line in err.splitlines() if f" {code} " in line]


@pytest.fixture(scope="module")
def small_master(tmp_path_factory) -> Path:
    return make_small_edition(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the module: each publication renders once, whatever test builds it."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def small(small_master, tmp_path) -> Path:
    """A copy of the five-country project to vary."""
    root = tmp_path / "project"
    shutil.copytree(small_master, root)
    (root / PROFILES / "kazakhstan").mkdir()  # empty: names Kazakhstan's factsheet
    return root


def build(root: Path, dist: Path, *args: str, cache: Path) -> tuple[int, str, str]:
    return run_cli("--project", str(root), "build", "--now", NOW, "--jobs", "2", "--dist",
                   str(dist), "--cache", str(cache), *args)


def kazakhstan_claiming(root: Path, code: str, folder: str = "kazakhstan") -> Path:
    """A new profile folder whose profile.yaml gives `code`."""
    profile = root / PROFILES / folder
    profile.mkdir(exist_ok=True)
    source = (root / PROFILES / "kyrgyzstan/profile.yaml").read_text()
    (profile / "profile.yaml").write_text(source.replace("country: KG", f"country: {code}"))
    return profile / "profile.yaml"


# -- 1. one publication, one owner -----------------------------------------------------------

def test_a_folder_named_after_one_country_holding_anothers_code(small):
    kazakhstan_claiming(small, "KG")
    code, out, err = run_cli("--project", str(small), "check")
    assert code == 1 and out == ""
    (contradiction,) = problem_lines(err, "V022")
    assert contradiction.startswith(f"{PROFILES}/kazakhstan/profile.yaml:3: V022 ")
    assert "'kazakhstan'" in contradiction and "Kyrgyzstan (KG)" in contradiction
    twins = problem_lines(err, "V021")
    assert sorted(line.split(":")[0] for line in twins) == [
        f"{PROFILES}/kazakhstan/profile.yaml", f"{PROFILES}/kyrgyzstan/profile.yaml"]
    assert "kyrgyzstan/profile.yaml" in twins[0] and "kazakhstan/profile.yaml" in twins[1]


def test_the_contested_country_is_built_from_neither(small, tmp_path, shared_cache):
    kazakhstan_claiming(small, "KG")
    dist = tmp_path / "dist"
    code, out, err = build(small, dist, str(small / PROFILES / "kyrgyzstan"),
                           cache=shared_cache)
    assert code == 1
    assert "gocindex-2025-kyrgyzstan failed:" in err and " V021 " in err
    assert not dist.exists()  # nothing could be built: dist/ untouched (here: never made)


def test_two_profiles_with_one_country_code(small):
    kazakhstan_claiming(small, "KG", folder="kyrgyzstan-copy")
    code, _, err = run_cli("--project", str(small), "check")
    assert code == 1
    files = sorted(line.split(":")[0] for line in problem_lines(err, "V021"))
    assert files == [f"{PROFILES}/kyrgyzstan-copy/profile.yaml",
                     f"{PROFILES}/kyrgyzstan/profile.yaml"]


def test_a_folder_whose_name_contradicts_its_code(small):
    profile = small / PROFILES / "kyrgyzstan/profile.yaml"
    profile.write_text(profile.read_text().replace("country: KG", "country: KZ"))
    code, _, err = run_cli("--project", str(small), "check")
    assert code == 1
    (line,) = problem_lines(err, "V022")
    assert line.startswith(f"{PROFILES}/kyrgyzstan/profile.yaml:3: V022 ")
    assert "Kazakhstan (KZ)" in line and "'kazakhstan'" in line


def test_two_country_names_that_collide_in_file_names(small):
    for name in ("ocindex_2025.csv", "ocindex_2023.csv"):
        path = small / EDITION / "data" / name
        path.write_text(path.read_text().replace("KZ,Kazakhstan,", "KZ,KYRGYZSTAN!,"))
    code, _, err = run_cli("--project", str(small), "check")
    assert code == 1
    lines = problem_lines(err, "V023")
    assert len(lines) == 2
    dataset = f"{EDITION}/data/ocindex_2025.csv"
    assert all(line.startswith(dataset + ":") for line in lines)
    assert any("Kyrgyzstan (KG)" in line and "KYRGYZSTAN! (KZ" in line for line in lines)


# -- 3. errors never echo foreign or unbounded content -------------------------------------

def test_a_message_quotes_a_short_visible_excerpt(small):
    path = small / EDITION / "data/ocindex_2025.csv"
    header, rest = path.read_text().split("\n", 1)
    hostile = "\x1b]0;pwned\x07\x1b[2J\u202e" + "A" * 5000
    path.write_text(header + "," + hostile + "\n" + rest)
    code, _, err = run_cli("--project", str(small), "check")
    assert code == 1
    (line,) = problem_lines(err, "L010")
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202e" in line
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
    assert "A" * 100 not in err and len(line) < MAX_MESSAGE + 100


# -- 4. failures stay local in drafts, total in releases -----------------------------------

def break_narrative(root: Path) -> None:
    narrative = root / PROFILES / "kyrgyzstan/narrative.md"
    narrative.write_text(narrative.read_text().replace("## Trade\n", "## Commerce\n", 1))


def test_a_broken_narrative_fails_its_publication_alone(small, tmp_path, shared_cache):
    break_narrative(small)
    dist = tmp_path / "dist"
    code, out, err = build(small, dist, cache=shared_cache)
    assert code == 1
    assert "gocindex-2025-kyrgyzstan failed:" in err and " V004 " in err
    assert "5 publications:" in out and "1 failed" in out
    manifest = json.loads((dist / "manifest.json").read_text())
    built = {entry["publication"] for entry in manifest["files"]}
    assert len(built) == 4 and "gocindex-2025-kyrgyzstan" not in built


def test_a_shard_of_other_countries_is_not_stopped_by_a_broken_narrative(small, tmp_path,
                                                                         shared_cache):
    break_narrative(small)
    dist = tmp_path / "dist"
    # Sorted: cote-d-ivoire, kazakhstan, kyrgyzstan, saint-vincent..., sao-tome...: 1/3 holds
    # the first and the fourth.
    code, out, err = build(small, dist, "--shard", "1/3", cache=shared_cache)
    assert code == 0, err
    assert "2 publications:" in out and "0 failed" in out


def test_a_release_is_all_or_nothing(small, tmp_path):
    break_narrative(small)
    dist = tmp_path / "dist"
    code, _, err = run_cli("--project", str(small), "release", "--now", NOW, "--dist", str(dist))
    assert code == 1 and " V004 " in err
    assert not dist.exists()


# -- 5. dist/ says exactly what it holds ----------------------------------------------------

def assert_dist_is_exact(dist: Path) -> dict:
    manifest = json.loads((dist / "manifest.json").read_text())
    listed = {entry["path"] for entry in [*manifest["files"], *manifest["catalog"],
                                          *manifest.get("reports", [])]}
    present = set(snapshot(dist)) - {"manifest.json", "SHA256SUMS"}
    assert listed == present
    result = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=dist,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    sums = {line.split("  ", 1)[1] for line in (dist / "SHA256SUMS").read_text().splitlines()}
    assert sums == present
    return manifest


def test_dist_follows_the_content(small, tmp_path, shared_cache):
    dist = tmp_path / "dist"
    assert build(small, dist, cache=shared_cache)[0] == 0
    assert len(assert_dist_is_exact(dist)["files"]) == 5 * 4  # PDF, EPUB, cover, thumbnail
    # A narrative deleted: Kyrgyzstan's file is now its factsheet, not the old profile.
    profile_pdf = (dist / "gocindex-2025/kyrgyzstan-draft.pdf").read_bytes()
    shutil.rmtree(small / PROFILES / "kyrgyzstan")
    code, out, err = build(small, dist, cache=shared_cache)
    assert code == 0, err
    assert_dist_is_exact(dist)
    assert (dist / "gocindex-2025/kyrgyzstan-draft.pdf").read_bytes() != profile_pdf
    # One publication asked for: dist/ holds it alone, nothing left over from before.
    code, _, err = build(small, dist, str(small / EDITION / "data/../profiles/kazakhstan"),
                         cache=shared_cache)
    manifest = assert_dist_is_exact(dist)
    assert {entry["publication"] for entry in manifest["files"]} == {"gocindex-2025-kazakhstan"}


def test_an_output_altered_in_dist_is_written_again(small, tmp_path, shared_cache):
    dist = tmp_path / "dist"
    kazakhstan = str(small / PROFILES / "kazakhstan")
    assert build(small, dist, kazakhstan, cache=shared_cache)[0] == 0
    pdf = dist / "gocindex-2025/kazakhstan-draft.pdf"
    original = pdf.read_bytes()
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0xFF  # same size: the manifest alone cannot tell
    pdf.write_bytes(bytes(altered))
    code, out, err = build(small, dist, kazakhstan, cache=shared_cache)
    assert code == 0, err
    assert "1 from the cache" in out
    assert pdf.read_bytes() == original
    assert_dist_is_exact(dist)


def test_a_run_that_changes_nothing_writes_nothing(small, tmp_path, shared_cache,
                                                  monkeypatch):
    """dist/ is neither exchanged nor written when it already holds the run's outputs and
    says so; when only what its manifest says changes (here, the commit), the outputs are
    taken as they were (the same files, linked) and the manifest is written anew."""
    monkeypatch.setenv("PUBLISH_SOURCE_COMMIT", "a" * 40)
    dist = tmp_path / "dist"
    kazakhstan = str(small / PROFILES / "kazakhstan")
    assert build(small, dist, kazakhstan, cache=shared_cache)[0] == 0
    pdf = dist / "gocindex-2025/kazakhstan-draft.pdf"

    def state() -> tuple:
        return (dist.stat().st_ino, (dist / "manifest.json").stat().st_mtime_ns,
                (dist / "manifest.json").stat().st_ino, pdf.stat().st_ino)
    before = state()
    time.sleep(0.01)  # a file written again would have a later time
    code, out, err = build(small, dist, kazakhstan, cache=shared_cache)
    assert code == 0 and "1 unchanged" in out, err
    assert state() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "project"]  # no stage left
    monkeypatch.setenv("PUBLISH_SOURCE_COMMIT", "b" * 40)
    code, out, err = build(small, dist, kazakhstan, cache=shared_cache)
    assert code == 0 and "1 unchanged" in out, err
    after = state()
    assert after[0] != before[0] and after[2] != before[2]  # exchanged, the manifest new
    assert after[3] == before[3]                            # the PDF the very same file
    assert json.loads((dist / "manifest.json").read_text())["source_commit"] == "b" * 40
    assert_dist_is_exact(dist)


def test_a_dist_that_is_a_link_stays_a_link(small, tmp_path, shared_cache):
    target = tmp_path / "elsewhere"
    link = tmp_path / "dist"
    link.symlink_to(target, target_is_directory=True)
    for selection in (PROFILES / "kazakhstan", PROFILES / "kyrgyzstan"):
        code, _, err = build(small, link, str(small / selection), cache=shared_cache)
        assert code == 0, err
        assert link.is_symlink() and link.resolve() == target.resolve()
        manifest = assert_dist_is_exact(target)
        assert {entry["publication"] for entry in manifest["files"]} == {
            f"gocindex-2025-{selection.name}"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "elsewhere", "project"]


def test_a_folder_publish_did_not_make_is_never_replaced(small, tmp_path, shared_cache):
    dist = tmp_path / "mine"
    dist.mkdir()
    (dist / "thesis.tex").write_text("years of work")
    code, _, err = build(small, dist, cache=shared_cache)
    assert code == 1
    (line,) = problem_lines(err, "D001")
    assert (dist / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "project"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, "GIT_AUTHOR_NAME": "t",
                                          "GIT_AUTHOR_EMAIL": "t@example.org",
                                          "GIT_COMMITTER_NAME": "t",
                                          "GIT_COMMITTER_EMAIL": "t@example.org"}).stdout


def test_the_manifest_records_the_commit_and_a_dirty_tree(small, tmp_path, shared_cache,
                                                           monkeypatch):
    for variable in ("PUBLISH_SOURCE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"):
        monkeypatch.delenv(variable, raising=False)
    git(small, "init", "-q")
    git(small, "add", "-A")
    git(small, "commit", "-qm", "content")
    head = git(small, "rev-parse", "HEAD").strip()
    dist = tmp_path / "dist"
    release = ("--project", str(small), "release", "--now", NOW, "--dist", str(dist),
               "--cache", str(shared_cache), str(small / PROFILES / "kyrgyzstan"))
    code, _, err = run_cli(*release)
    assert code == 0, err
    manifest = json.loads((dist / "manifest.json").read_text())
    assert (manifest["source_commit"], manifest["dirty"]) == (head, False)
    before = snapshot(dist)
    (small / EDITION / "notes.txt").write_text("untracked")
    code, _, err = run_cli(*release)
    assert code == 1
    (line,) = problem_lines(err, "D002")
    assert "--allow-dirty" in err
    assert snapshot(dist) == before
    code, _, err = run_cli(*release, "--allow-dirty")
    assert code == 0, err
    manifest = json.loads((dist / "manifest.json").read_text())
    assert (manifest["source_commit"], manifest["dirty"]) == (head, True)
    assert_dist_is_exact(dist)


# -- 6. one run at a time; a cache that checks what it serves -------------------------------

def test_a_second_run_waits_for_the_first(small, tmp_path, shared_cache):
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "publish", "--project", str(small), "build", "--now", NOW,
               "--dist", str(dist), "--cache", str(shared_cache), str(small / PROFILES / "kazakhstan")]
    with exclusive([small]):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.monotonic() + 30
        message = ""
        while "waiting" not in message and time.monotonic() < deadline:
            time.sleep(0.2)
            if process.poll() is not None:
                break
            message = _stderr_so_far(process)
        assert process.poll() is None, "the second run did not wait"
        assert "another run is working in" in message
        assert not dist.exists()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert_dist_is_exact(dist)


def test_a_run_leaves_no_lock_behind_in_a_child_it_forked(tmp_path):
    """A run's lock ends with the run, even while a child forked during it lives on (the
    render child a process keeps for its next build: core/limits.py Kept)."""
    import fcntl
    reader, writer = os.pipe()
    with exclusive([tmp_path]):
        child = os.fork()
        if child == 0:  # holds a copy of the lock's descriptor until the parent is done
            os.close(writer)
            os.read(reader, 1)
            os._exit(0)
    try:
        descriptor = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if held
        finally:
            os.close(descriptor)
    finally:
        os.write(writer, b"x")
        os.waitpid(child, 0)
        os.close(reader)
        os.close(writer)


def _stderr_so_far(process: subprocess.Popen) -> str:
    import fcntl
    descriptor = process.stderr.fileno()
    flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
    fcntl.fcntl(descriptor, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        return process.stderr.read() or ""
    except (BlockingIOError, TypeError):
        return ""
    finally:
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags)


@pytest.mark.parametrize("damage", ["truncated", "altered", "hashes unreadable"])
def test_a_damaged_cache_entry_is_rebuilt_not_served(small, tmp_path, damage):
    cache = tmp_path / "cache"
    first = tmp_path / "first"
    kazakhstan = str(small / PROFILES / "kazakhstan")
    assert build(small, first, kazakhstan, cache=cache)[0] == 0
    (entry,) = [p for p in cache.glob("*/*") if p.is_dir()]
    pdf = entry / "pdf"
    if damage == "truncated":
        pdf.write_bytes(pdf.read_bytes()[:1000])
    elif damage == "altered":
        data = bytearray(pdf.read_bytes())
        data[len(data) // 2] ^= 0xFF
        pdf.write_bytes(bytes(data))
    else:
        (entry / "sha256.json").write_text("[not, a, mapping")
    second = tmp_path / "second"
    code, out, err = build(small, second, kazakhstan, cache=cache)
    assert code == 0, err
    assert "1 built" in out
    assert snapshot(second) == snapshot(first)


def test_relative_paths_are_taken_in_the_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = Path(KYRGYZSTAN).relative_to(PROJECT)
    code, out, err = run_cli("--project", str(PROJECT), "check", str(relative))
    assert (code, err) == (0, ""), err
    code, _, err = run_cli("--project", str(PROJECT), "check", str(tmp_path))
    assert code == 1 and " L012 " in err
