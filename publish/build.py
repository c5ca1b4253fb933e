"""The build, top to bottom: load, validate, derive, render HTML, write the PDF, put in place.

`publish build` and `publish check` are thin wrappers around :func:`build` and :func:`check`.
Nothing is written to dist/ until an output is complete; then it is moved into place.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .epub import build_epub, utc
from .figures import Standings
from .html import page_for, profile_html
from .load import (Edition, Profile, Publication, find_editions, find_profiles, load_edition,
                   load_profile)
from .pdf import render_pdf
from .problems import ContentError, Problem, Problems
from .validate import check_edition, check_profile

log = logging.getLogger("publish")

STYLESHEETS = ("styles/fonts.css", "styles/print.css")
EPUB_STYLESHEETS = ("styles/fonts.css", "styles/epub.css")


@dataclass
class Loaded:
    """An edition with the profiles selected for a run, loaded and validated."""
    edition: Edition
    profiles: list[Profile] = field(default_factory=list)

    def publications(self) -> list[Publication]:
        countries = self.edition.dataset.countries
        return [Publication(self.edition, countries[p.iso2], p) for p in self.profiles]


# -- 1. selecting and loading ---------------------------------------------------------------

def _selection(root: Path, paths: list[Path]) -> dict[Path, list[Path] | None]:
    """Edition folder -> its profile folders to build (None: all of them)."""
    content = root / "content"
    if not paths:
        editions = find_editions(content)
        if not editions:
            raise ContentError([Problem("L001", "no content/<edition>/edition.yaml found",
                                        content, hint="run publish in the project's folder")])
        return {edition: None for edition in editions}
    selection: dict[Path, list[Path] | None] = {}
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_file():
            path = path.parent
        if (path / "edition.yaml").is_file():
            selection[path] = None
        elif (path / "profile.yaml").is_file() and (path.parent.parent / "edition.yaml").is_file():
            chosen = selection.setdefault(path.parent.parent, [])
            if chosen is not None:
                chosen.append(path)
        else:
            raise ContentError([Problem("L001", "not an edition or a profile folder", path,
                                        hint="name a folder holding edition.yaml or profile.yaml")])
    return selection


def load_and_validate(root: Path, paths: list[Path] = ()) -> tuple[list[Loaded], Problems]:
    """Load and check every selected edition and profile, collecting every problem."""
    loaded, problems = [], Problems()
    for edition_dir, profile_dirs in _selection(root, list(paths)).items():
        try:
            edition = load_edition(edition_dir)
        except ContentError as error:
            problems.extend(error.problems)
            continue
        problems.extend(check_edition(edition))
        entry = Loaded(edition)
        for profile_dir in profile_dirs if profile_dirs is not None else find_profiles(edition_dir):
            profile, found = load_profile(profile_dir, edition)
            if profile is not None:
                found.extend(check_profile(profile, edition))
            problems.extend(found)
            if profile is not None and not found:
                entry.profiles.append(profile)
        loaded.append(entry)
    return loaded, problems


def check(root: Path, paths: list[Path] = ()) -> Problems:
    """Every problem of the selected content, without rendering anything."""
    return load_and_validate(Path(root), paths)[1]


# -- 2. building ----------------------------------------------------------------------------

def output_name(publication: Publication, suffix: str) -> str:
    return f"{publication.edition.slug}/{publication.slug.removeprefix(publication.edition.slug + '-')}{suffix}"


def identifier(publication: Publication) -> bytes:
    """A stable identifier: the same publication gets the same one on every build."""
    return hashlib.sha256(publication.slug.encode()).hexdigest()[:32].encode()


def build(root: Path, paths: list[Path] = (), dist: Path | None = None, *,
          strict: bool = False) -> list[Path]:
    """Build the selected publications into dist/; returns the files written."""
    root = Path(root).resolve()
    dist = Path(dist) if dist else root / "dist"
    loaded, problems = load_and_validate(root, paths)
    problems.raise_if_any()
    written = []
    for entry in loaded:
        standings = Standings(entry.edition)
        for publication in entry.publications():
            log.info("building %s", publication.slug)
            page = page_for(publication, standings.figures(publication.country.iso2))
            html = profile_html(page, stylesheets=STYLESHEETS, created=source_date())
            pdf = render_pdf(html, root, identifier(publication), strict=strict,
                             source=publication.profile.dir if publication.profile else None)
            epub = build_epub(page, root, utc(source_date(), publication.edition.year),
                              EPUB_STYLESHEETS)
            written.append(_put_in_place(dist / output_name(publication, ".pdf"), pdf))
            written.append(_put_in_place(dist / output_name(publication, ".epub"), epub))
    return written


def source_date() -> str | None:
    """The build's date from SOURCE_DATE_EPOCH, never the clock; None when unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    from datetime import datetime, timezone
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _put_in_place(target: Path, data: bytes) -> Path:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
