"""Releasing: outputs are staged, verified, then put in place with SHA256SUMS and manifest.json.

A run works in a staging folder beside dist/ that holds exactly the outputs of the run:
hard links to dist/'s files that are still right, new files for the rest. Only when every
output is written and verified is the staging folder exchanged with dist/ in one step
(renameat2 RENAME_EXCHANGE where the system has it). A failure, or a kill, at any point before
leaves dist/ exactly as it was; afterwards, dist/ holds what its manifest lists and nothing
else.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from .catalog import CATALOG, CATALOG_MAKER, CatalogError, catalog_files, catalog_maker
from .lock import exclusive
from .problems import ContentError, Problem, Problems

SUMS, MANIFEST = "SHA256SUMS", "manifest.json"
STAGING_PREFIX = ".staging-"


@dataclass
class Entry:
    path: str                      # relative to dist/
    publication: str
    kind: str                      # pdf, epub, cover, thumbnail, press (publish.build.SUFFIXES)
    draft: bool
    embargo: str | None


@dataclass
class Stage:
    """A staging folder being filled: exactly the outputs of this run, and their manifest."""
    root: Path
    dist: Path
    source_commit: str | None = None
    dirty: bool | None = None
    entries: dict[str, dict] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)  # files taken as they were from dist/
    reports: dict[str, bytes] = field(default_factory=dict)  # name -> bytes, beside SHA256SUMS
    # What the catalog says of each publication (slug -> its title, authors, date...).
    publications: dict[str, dict] = field(default_factory=dict)

    def describe(self, metadata: dict) -> None:
        """What the manifest and the catalog say of a publication whose files are staged."""
        self.publications[metadata["slug"]] = metadata

    def report(self, name: str, data: bytes) -> None:
        """A report on the run's outputs (accessibility.json), written beside SHA256SUMS and
        named in the manifest."""
        self.reports[name] = data

    def write(self, entry: Entry, data: bytes) -> Path:
        target = self._target(entry.path)
        with open(target, "xb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        self.entries[entry.path] = {**entry.__dict__, "bytes": len(data),
                                    "sha256": hashlib.sha256(data).hexdigest()}
        return target

    def keep(self, entry: Entry, sha256: str) -> None:
        """Take dist/'s copy of an output, which the caller checked holds `sha256`. It is
        linked into the stage only if dist/ is to change (:meth:`take_kept`): a run that
        changes nothing writes nothing."""
        size = os.stat(os.path.join(self.dist, entry.path)).st_size
        self.entries[entry.path] = {**entry.__dict__, "bytes": size, "sha256": sha256}
        self.kept.append(entry.path)

    def take_kept(self) -> None:
        """dist/'s kept files into the stage: hard links where the file system allows, else
        copies."""
        for path in self.kept:
            source, target = self.dist / path, self._target(path)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)

    def _target(self, path: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def previous_hashes(dist: Path) -> dict[str, str]:
    """What dist/ holds, by its manifest: path -> sha256, for files that are still there
    with their recorded size (their bytes are checked again before they are kept)."""
    hashes = {}
    for path, entry in manifest_entries(Path(dist)).items():
        try:
            if os.stat(os.path.join(dist, path)).st_size == entry.get("bytes"):
                hashes[path] = entry["sha256"]
        except (OSError, KeyError):
            continue
    return hashes


def manifest_entries(dist: Path) -> dict[str, dict]:
    """What dist/'s manifest lists: path -> its entry (none when there is no readable one)."""
    try:
        return {entry["path"]: entry for entry in (manifest_of(dist) or {}).get("files", [])}
    except (KeyError, TypeError, AttributeError):
        return {}


def refuse_foreign(dist: Path) -> list[Problem]:
    """A problem if dist/ exists and holds anything without a manifest of publish's: a folder
    publish did not make, which a run must not replace."""
    dist = Path(dist)
    if not dist.exists():
        return []
    if dist.is_dir() and ((dist / MANIFEST).is_file() or not any(dist.iterdir())):
        return []
    return [Problem("D001", "it holds files but no manifest.json: publish would replace what "
                            "it did not make", dist)]


def remove_stale_stages(dist: Path) -> None:
    """Staging folders left by runs that were killed (the project lock says none is running)."""
    for stale in dist.parent.glob(f".{dist.name}{STAGING_PREFIX}*"):
        _remove(stale)


def _remove(path: Path) -> None:
    """A folder and what it holds, or a link (never what it points to)."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def staged(dist: Path, source_commit: str | None = None, dirty: bool | None = None):
    """An empty Stage to fill; when the block ends without an exception, its SHA256SUMS and
    manifest are written and it takes dist/'s place, unless it holds exactly what dist/ holds."""
    dist = Path(os.path.realpath(dist))  # a link to dist/ stays a link: its target is staged
    dist.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(dist)
    root = dist.parent / f".{dist.name}{STAGING_PREFIX}{os.getpid()}"
    root.mkdir()
    try:
        stage = Stage(root, dist, source_commit, dirty)
        yield stage
        previous = manifest_of(dist)
        manifest, files = _sums_and_manifest(stage, previous)
        if not _same_as_dist(stage, manifest, files, previous):
            files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
            stage.take_kept()
            for name, data in files.items():
                (root / name).write_bytes(data)
            _exchange(root, dist)
    finally:
        _remove(root)


def manifest_of(dist: Path) -> dict | None:
    """dist/'s manifest, read; None where there is no readable one."""
    try:
        manifest = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _same_as_dist(stage: Stage, manifest: dict, files: dict[str, bytes],
                  previous: dict | None) -> bool:
    """Whether dist/ already holds exactly the staged outputs, this manifest and these files
    (its sums, reports and catalog): then it is left untouched. The manifest is compared as
    what it says, which spares writing it out (a third of what is left of a run that changes
    nothing); the other files byte for byte."""
    if len(stage.kept) != len(stage.entries) or previous != manifest:
        return False
    try:
        return _files_in(stage.dist) == {*stage.entries, *files, MANIFEST} and all(
            (stage.dist / name).read_bytes() == data for name, data in files.items())
    except OSError:
        return False


def _files_in(folder: Path) -> set[str]:
    """Every file under `folder` (links to folders aside), as paths relative to it with '/'
    between their parts."""
    found = set()
    for parent, _, names in os.walk(folder):
        relative = Path(os.path.relpath(parent, folder)).as_posix()
        found.update(name if relative == "." else f"{relative}/{name}" for name in names)
    return found


def _sums_and_manifest(stage: Stage, previous: dict | None) -> tuple[dict, dict[str, bytes]]:
    """The manifest of the staged outputs, and the files that go beside them (name -> bytes):
    the reports, the catalog, and SHA256SUMS of every file. The catalog is made from the
    manifest's own account of the files and publications, so that shards merged give the
    one catalog a single run would."""
    files = [stage.entries[path] for path in sorted(stage.entries)]
    published = {entry["publication"] for entry in files}
    manifest = {"tool": "publish", "version": __version__,
                "source_commit": stage.source_commit, "dirty": stage.dirty, "files": files,
                "publications": [stage.publications[slug] for slug in sorted(stage.publications)
                                 if slug in published],
                CATALOG_MAKER: catalog_maker()}
    catalog = _catalog(stage.dist, manifest, previous)
    reports, listed = _listed(stage.reports), _listed(catalog)
    sums = "".join(f"{entry['sha256']}  {entry['path']}\n"
                   for entry in sorted([*files, *reports, *listed],
                                       key=lambda entry: entry["path"]))
    manifest["catalog"] = listed
    if reports:
        manifest["reports"] = reports
    return manifest, {**stage.reports, **catalog, SUMS: sums.encode()}


def _catalog(dist: Path, manifest: dict, previous: dict | None) -> dict[str, bytes]:
    """The catalog of this manifest: dist/'s own files where its manifest (`previous`) says
    the same of the same files and publications and the same catalog code made them (each
    read back and checked against its hash), else made anew. Making it is a third of a run
    that changes nothing; taking it as it is costs a read."""
    kept = _catalog_in(dist, manifest, previous)
    if kept is not None:
        return kept
    try:
        return catalog_files(manifest)
    except CatalogError as error:
        raise ContentError([Problem("D008", str(error), dist / MANIFEST)]) from None


def _catalog_in(dist: Path, manifest: dict, previous: dict | None) -> dict[str, bytes] | None:
    """dist/'s catalog files, if they are the catalog of `manifest` (see :func:`_catalog`)."""
    if previous is None or any(previous.get(key) != value for key, value in manifest.items()):
        return None
    try:
        listed = {entry["path"]: entry["sha256"] for entry in previous["catalog"]}
        found = {name: (dist / name).read_bytes() for name in CATALOG}
    except (OSError, KeyError, TypeError, AttributeError):
        return None
    if set(listed) != set(CATALOG) or any(hashlib.sha256(data).hexdigest() != listed[name]
                                          for name, data in found.items()):
        return None
    return found


def _listed(files: dict[str, bytes]) -> list[dict]:
    """Files beside the outputs, as the manifest lists them."""
    return [{"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())]


def source_state(folder: Path) -> tuple[str | None, bool | None]:
    """The commit the content is built from (CI's variable, else git's HEAD) and whether the
    working tree differs from it (uncommitted or untracked files); None where unknown."""
    commit = next((os.environ[variable] for variable in
                   ("PUBLISH_SOURCE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA")
                   if os.environ.get(variable)), None)
    head = git_output(folder, "rev-parse", "HEAD")
    if head is None:
        return commit, None
    status = git_output(folder, "status", "--porcelain", "--untracked-files=normal")
    dirty = None if status is None else status.strip() != ""
    return commit or head.strip(), dirty


def git_output(folder: Path, *arguments: str) -> str | None:
    """What a git command prints in `folder`; None where it fails or git is missing."""
    try:
        result = subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True,
                                text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def merge(target: Path, shards: list[Path]) -> list[str]:
    """Assemble the dist/ folders of shards into one, with one manifest; the files written.

    Every file is checked against its shard's manifest; two shards may not disagree on a file.
    """
    target = Path(os.path.realpath(target))
    problems, files, commits, dirty, described = Problems(), {}, set(), set(), {}
    for shard in shards:
        manifest_path = Path(shard) / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.add("D004", f"cannot read the shard's manifest: {error}", manifest_path)
            continue
        commits.add(manifest.get("source_commit"))
        dirty.add(manifest.get("dirty"))
        for metadata in manifest.get("publications", []):
            if described.setdefault(metadata.get("slug"), metadata) != metadata:
                problems.add("D004", f"the shards describe {metadata.get('slug')} differently",
                             shard)
        for entry in manifest.get("files", []):
            try:
                data = (Path(shard) / entry["path"]).read_bytes()
            except OSError as error:
                problems.add("D004", f"cannot read {entry['path']}: {error.strerror}", shard)
                continue
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                problems.add("D004", f"{entry['path']} does not match its manifest", shard)
            elif entry["path"] in files and files[entry["path"]][0]["sha256"] != entry["sha256"]:
                problems.add("D004", f"{entry['path']} differs between shards", shard)
            else:
                files[entry["path"]] = (entry, data)
    if len(commits) > 1:
        problems.add("D004", "the shards were built from different commits: "
                             + ", ".join(sorted(map(str, commits))), None)
    problems.extend(refuse_foreign(target))
    problems.raise_if_any()
    with exclusive([target.parent]), \
            staged(target, commits.pop() if commits else None, _merged_dirty(dirty)) as stage:
        for path, (entry, data) in sorted(files.items()):
            stage.write(Entry(path, entry["publication"], entry["kind"], entry["draft"],
                              entry["embargo"]), data)
        for metadata in described.values():
            stage.describe(metadata)
    return sorted(files)


def _merged_dirty(states: set[bool | None]) -> bool | None:
    """Dirty if any shard was; unknown if any shard could not tell; else clean."""
    if True in states:
        return True
    if None in states:
        return None
    return False


_RENAME_EXCHANGE = 2


def _exchange(staging: Path, dist: Path) -> None:
    """Put staging in dist's place in one step; the old dist ends up at staging's path."""
    if not dist.exists():
        os.rename(staging, dist)
        return
    libc = ctypes.CDLL(None, use_errno=True)  # the C library this process runs on: no search
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
