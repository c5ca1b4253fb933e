"""The build cache: every output stored under a hash of all it depends on.

A publication's key covers what its kind says it depends on (for a country profile: its
folder, and its edition's files, since ranks depend on every country), the project's design
(stylesheets, fonts, the templates it overrides), the tool (its version, code, templates and
styles), the kind's own folder (for a kind installed from elsewhere) and the options that
change the bytes (review mark, strict, SOURCE_DATE_EPOCH). Same key, same bytes: a hit is copied, never
re-rendered, and a cold build gives the bytes a cached one would.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .. import __version__
from .sources import MAX_ASSET_BYTES, Project

PACKAGE = Path(__file__).parent.parent  # all of publish: its code and templates
# Every entry holds these outputs, and may hold others (a cover, a press PDF, what a catalog
# says of the publication), each a file named after its kind.
REQUIRED = ("pdf", "epub")
TEMPORARY = ".tmp"  # the suffix of an entry being written: .<key[:8]>.<pid>.tmp


def digest_files(project: Project, paths, base: Path, hashed: dict | None = None) -> str:
    """Files' names (relative to `base`, so that a project hashes the same wherever it lies)
    and contents, each read through the project's confinement. `hashed` keeps each file's
    hash for the run, where many publications share files."""
    hashed = {} if hashed is None else hashed
    digest = hashlib.sha256()
    for path in sorted(dict.fromkeys(Path(p) for p in paths)):
        if path not in hashed:
            hashed[path] = hashlib.sha256(project.read_bytes(path, MAX_ASSET_BYTES)).digest()
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        digest.update(hashed[path])
    return digest.hexdigest()


# The libraries whose versions the outputs' bytes depend on: the same code of publish with
# another WeasyPrint, Pillow or FreeType (which Pillow's wheels carry) draws other bytes.
RENDERERS = ("weasyprint", "pydyf", "pillow", "fonttools", "ebooklib", "pikepdf")


@cache
def tool_digest() -> str:
    """publish itself (its version, code, templates and styles) and the versions of the
    libraries that draw its outputs."""
    versions = ",".join(f"{name}={_version(name)}" for name in RENDERERS)
    return hashlib.sha256(f"{__version__}:{versions}:{folder_digest(PACKAGE)}".encode()
                          ).hexdigest()


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


@cache
def folder_digest(folder: Path) -> str:
    """Every file of an installed package's folder (a kind's code, templates and styles)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def design_digest(project: Project) -> str:
    """The project's stylesheets, fonts and the templates it overrides."""
    files = [path for folder in ("styles", "fonts", "templates")
             for path in project.files_under(project.root / folder)]
    return digest_files(project, files, project.root)


def cache_key(shared: str, own: dict, options: dict) -> str:
    """The cache key of one publication's outputs: `shared` (tool, design, what a kind shares
    between publications), `own` (what a kind says is the publication's own: its name, the
    digest of its files) and the options that change its bytes."""
    parts = {"shared": shared, "own": own, "options": options,
             "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH")}
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
            hashes = json.loads((self._entry(key) / "sha256.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(hashes, dict) or not all(kind in hashes for kind in REQUIRED):
            return None
        return hashes

    def get(self, key: str) -> dict[str, bytes] | None:
        """The stored outputs if the entry is whole and every output still has the hash it was
        stored with; else None, and a damaged entry is removed so that it is built again."""
        hashes = self.hashes(key)
        if hashes is None:
            return None
        outputs = {kind: self.read(key, kind, hashes) for kind in hashes}
        if any(data is None for data in outputs.values()):
            self._discard(self._entry(key))
            return None
        return outputs

    def read(self, key: str, kind: str, hashes: dict[str, str] | None = None) -> bytes | None:
        """One stored output, if it still has the hash it was stored with (None otherwise):
        a small one can be read without the others."""
        hashes = self.hashes(key) if hashes is None else hashes
        if hashes is None or not _safe_kind(kind) or kind not in hashes:
            return None
        try:
            data = (self._entry(key) / kind).read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == hashes[kind] else None

    def _discard(self, entry: Path) -> None:
        """Out of the way first (one rename), then removed: no reader sees half an entry."""
        doomed = entry.with_name(f".{entry.name[:8]}.{os.getpid()}.discarded")
        try:
            os.rename(entry, doomed)
        except OSError:
            return  # a read-only cache: the entry stays, and is never served
        shutil.rmtree(doomed, ignore_errors=True)

    def put(self, key: str, outputs: dict[str, bytes]) -> None:
        entry = self._entry(key)
        if entry.is_dir():
            if self.get(key) is not None:
                return
            self._discard(entry)  # a damaged entry: replaced by the new, whole one
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
    kinds = sorted({*REQUIRED, *outputs})
    for kind in kinds:
        if not _safe_kind(kind):
            raise ValueError(f"not a name for a cached output: {kind!r}")
        (folder / kind).write_bytes(outputs[kind])
    (folder / "sha256.json").write_text(json.dumps(
        {kind: hashlib.sha256(outputs[kind]).hexdigest() for kind in kinds}))


def _safe_kind(kind: str) -> bool:
    """An output's kind names its file in an entry: a plain lower-case word, nothing else."""
    return kind.isascii() and kind.isalpha() and kind.islower()


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
