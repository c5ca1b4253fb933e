"""The build cache: every output stored under a hash of all it depends on.

A publication's key covers its own files (profile folder), its edition (edition.yaml,
outline.yaml, both datasets: ranks depend on every country), the design (templates,
stylesheets, fonts), the tool (its version and source) and the options that change the bytes
(review mark, strict, SOURCE_DATE_EPOCH). Same key, same bytes: a hit is copied, never
re-rendered, and a cold build gives the bytes a cached one would.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import cache
from pathlib import Path

from . import __version__

PACKAGE = Path(__file__).parent
KINDS = ("pdf", "epub")
TEMPORARY = ".tmp"  # the suffix of an entry being written: .<key[:8]>.<pid>.tmp


def _digest_files(paths, base: Path) -> str:
    """Files' names (relative to `base`, so that a project hashes the same wherever it lies)
    and contents."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _files_under(folder: Path, base: Path):
    return [p.relative_to(base) for p in Path(folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts]


@cache
def tool_digest() -> str:
    """publish itself: its version, code and templates."""
    files = [PACKAGE / p for p in _files_under(PACKAGE, PACKAGE)]
    return hashlib.sha256(__version__.encode() + _digest_files(files, PACKAGE).encode()).hexdigest()


def design_digest(root: Path) -> str:
    """The project's stylesheets and fonts."""
    root = Path(root)
    files = [root / p for folder in ("styles", "fonts") for p in _files_under(root / folder, root)]
    return _digest_files(files, root)


_EDITION_DIGESTS: dict[int, str] = {}


def edition_digest(edition) -> str:
    """The edition's files, hashed once per run."""
    if id(edition) not in _EDITION_DIGESTS:
        _EDITION_DIGESTS[id(edition)] = _digest_files(
            [edition.file, edition.outline.file, edition.dataset.file, edition.previous.file],
            edition.dir)
    return _EDITION_DIGESTS[id(edition)]


def publication_key(publication, shared: str, options: dict) -> str:
    """The cache key of one publication's outputs."""
    profile_files = []
    if publication.profile is not None:
        profile_files = [p for p in publication.profile.dir.rglob("*") if p.is_file()]
    parts = {
        "shared": shared,
        "edition": edition_digest(publication.edition),
        "publication": publication.slug,
        "profile": _digest_files(profile_files, publication.profile.dir)
                   if publication.profile else None,
        "options": options,
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class Cache:
    """Outputs by key, in a folder of the project (.publish-cache/ by default).

    An entry is written in a temporary folder named after the process writing it, then renamed
    into place: readers see whole entries or none. A run killed mid-write leaves its temporary
    folder behind, and the next run to write removes it.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._swept = False

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def hashes(self, key: str) -> dict[str, str] | None:
        """The SHA-256 of each stored output, without reading the outputs; None on a miss."""
        try:
            return json.loads((self._entry(key) / "sha256.json").read_text())
        except (OSError, ValueError):
            return None

    def get(self, key: str) -> dict[str, bytes]:
        entry = self._entry(key)
        return {kind: (entry / kind).read_bytes() for kind in KINDS}

    def put(self, key: str, outputs: dict[str, bytes]) -> None:
        entry = self._entry(key)
        if entry.is_dir():
            return
        self._sweep_once()
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.parent / f".{key[:8]}.{os.getpid()}{TEMPORARY}"
        shutil.rmtree(temporary, ignore_errors=True)  # left by a dead process that had our pid
        try:
            temporary.mkdir()
            _write_entry(temporary, outputs)
            os.rename(temporary, entry)  # whole entries only: a reader never sees half of one
        except BaseException as error:  # Ctrl-C and SIGTERM too: no half entry stays behind
            shutil.rmtree(temporary, ignore_errors=True)
            if isinstance(error, OSError) and entry.is_dir():
                return  # another run stored the same entry first: the same bytes
            raise

    def _sweep_once(self) -> None:
        """Remove the temporary folders of writers that died (killed runs); once per Cache."""
        if self._swept:
            return
        self._swept = True
        for temporary in self.folder.glob(f"*/.*{TEMPORARY}"):
            writer = _writer(temporary)
            if writer is not None and not _is_running(writer):
                shutil.rmtree(temporary, ignore_errors=True)


def _write_entry(folder: Path, outputs: dict[str, bytes]) -> None:
    for kind in KINDS:
        (folder / kind).write_bytes(outputs[kind])
    (folder / "sha256.json").write_text(json.dumps(
        {kind: hashlib.sha256(outputs[kind]).hexdigest() for kind in KINDS}))


def _writer(temporary: Path) -> int | None:
    """The pid in a temporary folder's name, None if it has none."""
    pid = temporary.name.removesuffix(TEMPORARY).rpartition(".")[2]
    return int(pid) if pid.isdigit() else None


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: asks whether the process exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, run by another user
    return True
