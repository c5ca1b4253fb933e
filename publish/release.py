"""Releasing: outputs are staged, verified, then put in place with SHA256SUMS and manifest.json.

A run works in a staging folder beside dist/, starting from hard links to what dist/ already
holds. Only when every output is written and verified is the staging folder exchanged with
dist/ in one step (renameat2 RENAME_EXCHANGE where the system has it). A failure, or a kill,
at any point before leaves dist/ exactly as it was.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .problems import Problems

SUMS, MANIFEST = "SHA256SUMS", "manifest.json"
STAGING_PREFIX = ".staging-"
DRAFT_MARKER = "-draft."


@dataclass
class Entry:
    path: str                      # relative to dist/
    publication: str
    kind: str                      # "pdf" or "epub"
    draft: bool
    embargo: str | None


@dataclass
class Stage:
    """A staging folder being filled: outputs and their manifest entries."""
    root: Path
    dist: Path
    source_commit: str | None = None
    entries: dict[str, dict] = field(default_factory=dict)

    def write(self, entry: Entry, data: bytes) -> Path:
        target = self.root / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()  # a hard link to dist/'s copy: never write through it
        target.write_bytes(data)
        self.entries[entry.path] = {**entry.__dict__, "bytes": len(data),
                                    "sha256": hashlib.sha256(data).hexdigest()}
        return target

    def discard_drafts(self) -> None:
        """A release's dist/ holds no review copy that could be mistaken for a public file."""
        for path, entry in list(self.entries.items()):
            if entry.get("draft") or DRAFT_MARKER in Path(path).name:
                (self.root / path).unlink(missing_ok=True)
                del self.entries[path]

    def clear(self) -> None:
        """Start from nothing rather than from what dist/ held."""
        for path in self.entries:
            (self.root / path).unlink(missing_ok=True)
        self.entries = {}


def previous_hashes(dist: Path) -> dict[str, str]:
    """What dist/ holds, by its manifest: path -> sha256, for files that are still there
    with their recorded size."""
    hashes = {}
    for path, entry in _previous_entries(Path(dist)).items():
        try:
            if (Path(dist) / path).stat().st_size == entry.get("bytes"):
                hashes[path] = entry["sha256"]
        except (OSError, KeyError):
            continue
    return hashes


def _previous_entries(dist: Path) -> dict[str, dict]:
    try:
        manifest = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
        return {entry["path"]: entry for entry in manifest.get("files", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _entries_of(root: Path, previous: dict[str, dict]) -> dict[str, dict]:
    """Manifest entries for the files carried over: as the manifest had them where the size
    still matches (as for deciding what is unchanged: an edition's files are not read again on
    every build), else as files publish did not make, so that SHA256SUMS covers all of dist/."""
    entries = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        entry = previous.get(relative)
        if entry is None or entry.get("bytes") != path.stat().st_size:
            data = path.read_bytes()
            entry = {"path": relative, "publication": None, "kind": "other", "draft": None,
                     "embargo": None, "bytes": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()}
        entries[relative] = entry
    return entries


def _link_tree(source: Path, target: Path) -> None:
    """Hard links to every file of dist/ (copies where links cannot be made)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or relative.parts[0] in (SUMS, MANIFEST):
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target / relative)
        except OSError:
            shutil.copy2(path, target / relative)


def remove_stale_stages(dist: Path) -> None:
    """Staging folders left by runs that were killed."""
    for stale in dist.parent.glob(f".{dist.name}{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged(dist: Path, source_commit: str | None = None):
    """A Stage to fill; exchanged with dist/ when the block ends without an exception."""
    dist = Path(dist).absolute()
    dist.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(dist)
    root = dist.parent / f".{dist.name}{STAGING_PREFIX}{os.getpid()}"
    root.mkdir()
    try:
        stage = Stage(root, dist, source_commit)
        if dist.is_dir():
            _link_tree(dist, root)
            stage.entries = _entries_of(root, _previous_entries(dist))
        yield stage
        _write_sums_and_manifest(stage)
        _exchange(root, dist)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write_sums_and_manifest(stage: Stage) -> None:
    files = [stage.entries[path] for path in sorted(stage.entries)]
    sums = "".join(f"{entry['sha256']}  {entry['path']}\n" for entry in files)
    (stage.root / SUMS).write_text(sums, encoding="utf-8")
    manifest = {"tool": "publish", "version": __version__,
                "source_commit": stage.source_commit, "files": files}
    (stage.root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")


def source_commit(folder: Path) -> str | None:
    """The commit the content was built from: CI's variable, else git, else unknown."""
    for variable in ("PUBLISH_SOURCE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def merge(target: Path, shards: list[Path]) -> list[str]:
    """Assemble the dist/ folders of shards into one, with one manifest; the files written.

    Every file is checked against its shard's manifest; two shards may not disagree on a file.
    """
    problems, files, commits = Problems(), {}, set()
    for shard in shards:
        manifest_path = Path(shard) / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.add("R002", f"cannot read the shard's manifest: {error}", manifest_path)
            continue
        commits.add(manifest.get("source_commit"))
        for entry in manifest.get("files", []):
            data = (Path(shard) / entry["path"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                problems.add("R002", f"{entry['path']} does not match its manifest", shard)
            elif entry["path"] in files and files[entry["path"]][0]["sha256"] != entry["sha256"]:
                problems.add("R002", f"{entry['path']} differs between shards", shard)
            else:
                files[entry["path"]] = (entry, data)
    if len(commits) > 1:
        problems.add("R002", "the shards were built from different commits: "
                             + ", ".join(sorted(map(str, commits))), None)
    problems.raise_if_any()
    with staged(Path(target), commits.pop() if commits else None) as stage:
        stage.clear()
        for path, (entry, data) in sorted(files.items()):
            stage.write(Entry(path, entry["publication"], entry["kind"], entry["draft"],
                              entry["embargo"]), data)
    return sorted(files)


_RENAME_EXCHANGE = 2


def _exchange(staging: Path, dist: Path) -> None:
    """Put staging in dist's place in one step; the old dist ends up at staging's path."""
    if not dist.exists():
        os.rename(staging, dist)
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd = -100
        if renameat2(at_fdcwd, os.fsencode(staging), at_fdcwd, os.fsencode(dist),
                     _RENAME_EXCHANGE) == 0:
            return
    # No atomic exchange here: two renames, with the old dist kept until the new one stands.
    old = staging.with_name(staging.name + ".old")
    os.rename(dist, old)
    os.rename(staging, dist)
    os.rename(old, staging)
