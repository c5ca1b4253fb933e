"""Disk faults, made real: a full disk while staging, dist/ or the cache read-only or immutable.

Each time dist/ stays exactly as before (or becomes exactly the new state), no temporary file
remains, the cache is not poisoned, and the next run succeeds. The faults are real file
systems (a tiny tmpfs, a read-only mount, `chattr +i`), which needs root, as on the project's
machines and CI.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import KYRGYZSTAN, PROJECT, earlier_dist, run_cli

NOW = "2026-01-01T00:00:00Z"


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


pytestmark = pytest.mark.skipif(not _can_mount(), reason="needs root to mount a tmpfs")


@contextmanager
def tmpfs(folder: Path, size: str, *options: str):
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]),
                    "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*")
            if ".staging-" in p.name or p.name.endswith((".tmp", ".discarded"))]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> tuple[Path, Path]:
    """The profile's review copy built once: its cache, from which each fault test renders
    nothing, and its dist/."""
    cache, dist = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("first") / "dist"
    code, _, err = build(dist, cache)
    assert code == 0, err
    return cache, dist


@pytest.fixture(scope="module")
def warm_cache(first_build) -> Path:
    return first_build[0]


def build(dist: Path, cache: Path) -> tuple[int, str, str]:
    return run_cli("--project", str(PROJECT), "build", KYRGYZSTAN, "--now", NOW, "--dist",
                   str(dist), "--cache", str(cache))


def test_a_full_disk_while_staging(tmp_path, first_build):
    warm_cache, first = first_build
    pdf, epub = (next(first.rglob(f"*.{kind}")).stat().st_size for kind in ("pdf", "epub"))
    # Room for the earlier output (a page of the disk) and the PDF, not for the EPUB as well.
    room = 4096 + pdf + epub // 2
    with tmpfs(tmp_path / "disk", f"{room // 1024}k") as disk:
        dist = earlier_dist(disk / "dist")
        before = tree(dist)
        code, _, err = build(dist, warm_cache)
        assert code == 1
        assert " D003 " in err and "No space left on device" in err and "Traceback" not in err
        assert tree(dist) == before
        assert leftovers(disk, warm_cache) == []
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        code, out, err = build(dist, warm_cache)
        assert code == 0, err
        assert "1 from the cache" in out
        assert "gocindex-2025/earlier.pdf" not in tree(dist)
        assert leftovers(disk, warm_cache) == []


def test_an_immutable_dist(tmp_path, warm_cache):
    dist = earlier_dist(tmp_path / "dist")
    before = tree(dist)
    subprocess.run(["chattr", "+i", str(dist)], check=True)
    try:
        code, _, err = build(dist, warm_cache)
    finally:
        subprocess.run(["chattr", "-i", str(dist)], check=True)
    assert code == 1 and " D003 " in err and "Traceback" not in err
    assert tree(dist) == before
    assert leftovers(tmp_path, warm_cache) == []
    code, _, err = build(dist, warm_cache)
    assert code == 0, err


def test_a_read_only_place_for_dist(tmp_path, warm_cache):
    with tmpfs(tmp_path / "readonly", "1m", "ro") as folder:
        code, _, err = build(folder / "dist", warm_cache)
        assert code == 1 and " D003 " in err and "Read-only file system" in err
        assert "Traceback" not in err
        assert list(folder.iterdir()) == []


@pytest.mark.parametrize("fault", ["read-only", "immutable"])
def test_a_cache_that_cannot_be_written(tmp_path, fault):
    dist = tmp_path / "dist"
    cache = tmp_path / "cache"
    cache.mkdir()
    if fault == "immutable":
        subprocess.run(["chattr", "+i", str(cache)], check=True)
        context = None
    else:
        context = tmpfs(cache, "1m", "ro")
        context.__enter__()
    try:
        code, out, err = build(dist, cache)
    finally:
        if context is not None:
            context.__exit__(None, None, None)
        else:
            subprocess.run(["chattr", "-i", str(cache)], check=True)
    assert code == 0, err
    assert "cannot keep gocindex-2025-kyrgyzstan in the cache" in err
    assert "1 built" in out
    assert sorted(tree(dist)) == [
        "SHA256SUMS", "catalog.xml", "gocindex-2025/kyrgyzstan-draft-cover.png",
        "gocindex-2025/kyrgyzstan-draft-thumbnail.png", "gocindex-2025/kyrgyzstan-draft.epub",
        "gocindex-2025/kyrgyzstan-draft.pdf", "index.html", "manifest.json", "opds.json"]
    assert list(cache.iterdir()) == []
