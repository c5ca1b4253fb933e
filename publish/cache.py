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
import tempfile
from functools import cache
from pathlib import Path

from . import __version__

PACKAGE = Path(__file__).parent
KINDS = ("pdf", "epub")


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
    """Outputs by key, in a folder of the project (.publish-cache/ by default)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

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
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{key[:8]}."))
        for kind in KINDS:
            (temporary / kind).write_bytes(outputs[kind])
        (temporary / "sha256.json").write_text(json.dumps(
            {kind: hashlib.sha256(outputs[kind]).hexdigest() for kind in KINDS}))
        try:
            os.rename(temporary, entry)  # whole entries only: a reader never sees half of one
        except OSError:
            shutil.rmtree(temporary, ignore_errors=True)
