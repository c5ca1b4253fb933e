"""The build, top to bottom: load, validate, derive, render HTML, write PDF and EPUB, verify,
put in place.

`publish build` makes review copies: their names say "draft" and every page carries a mark,
the embargo's while it has not lifted. `publish release` makes the public files, unmarked,
and refuses to run before the embargo. Both stage everything and touch dist/ only once all
outputs are written and verified (:mod:`publish.release`).
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import clock
from .epub import build_epub
from .figures import Standings
from .html import page_for, profile_html
from .limits import DEFAULT_LIMITS, run_limited
from .load import (Edition, Profile, Publication, find_editions, find_profiles, load_edition,
                   load_profile)
from .pdf import render_pdf
from .problems import ContentError, EmbargoNotLifted, Problem, Problems
from .release import Entry, Stage, staged
from .stylesheets import check_stylesheets
from .validate import check_edition, check_profile
from .verify import verify_epub, verify_pdf

log = logging.getLogger("publish")

STYLESHEETS = ("styles/fonts.css", "styles/print.css")
EPUB_STYLESHEETS = ("styles/fonts.css", "styles/epub.css")
DRAFT_SUFFIX = "-draft"


@dataclass
class Loaded:
    """An edition with the profiles selected for a run, loaded and validated."""
    edition: Edition
    profiles: list[Profile] = field(default_factory=list)

    def publications(self) -> list[Publication]:
        countries = self.edition.dataset.countries
        return [Publication(self.edition, countries[p.iso2], p) for p in self.profiles]


# -- 1. selecting, loading and validating ---------------------------------------------------

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
    """Load and check every selected edition and profile, and the stylesheets, collecting
    every problem."""
    loaded, problems = [], Problems()
    problems.extend(check_stylesheets(root, STYLESHEETS + EPUB_STYLESHEETS))
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


# -- 2. embargo, names and dates ------------------------------------------------------------

def draft_mark(publication: Publication, instant: datetime) -> str:
    """The mark every page of a review copy carries."""
    embargo = publication.embargo
    if embargo is not None and instant < embargo.instant:
        return f"EMBARGOED - NOT FOR DISTRIBUTION UNTIL {embargo.text}"
    return "REVIEW COPY - NOT THE RELEASED FILE"


def refuse_before_embargo(publications: list[Publication], instant: datetime) -> None:
    waiting = [(p.slug, p.embargo.text, str(p.embargo.instant - instant).split(".")[0])
               for p in publications if p.embargo and instant < p.embargo.instant]
    if waiting:
        raise EmbargoNotLifted(waiting)


def output_name(publication: Publication, suffix: str, draft: bool = True) -> str:
    name = publication.slug.removeprefix(publication.edition.slug + "-")
    return f"{publication.edition.slug}/{name}{DRAFT_SUFFIX if draft else ''}{suffix}"


def identifier(publication: Publication) -> bytes:
    """A stable identifier: the same publication gets the same one on every build."""
    return hashlib.sha256(publication.slug.encode()).hexdigest()[:32].encode()


def release_date(publication: Publication) -> datetime:
    """The date the files carry: SOURCE_DATE_EPOCH, else the embargo, else the edition's year.

    Never the clock, so that the same content gives the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    if publication.embargo is not None:
        return publication.embargo.instant.astimezone(timezone.utc)
    return datetime(publication.edition.year, 1, 1, tzinfo=timezone.utc)


# -- 3. building ----------------------------------------------------------------------------

def build(root: Path, paths: list[Path] = (), dist: Path | None = None, *,
          strict: bool = False, now: str | None = None, release: bool = False,
          time_limit: float = DEFAULT_LIMITS["time_limit"],
          memory_limit: int = DEFAULT_LIMITS["memory_limit"]) -> list[Path]:
    """Build the selected publications into dist/; returns the files written.

    With `release`, the public files: refused before the embargo, and strict. Each PDF is
    rendered under `time_limit` seconds and `memory_limit` MiB.
    """
    limits = {"time_limit": time_limit, "memory_limit": memory_limit}
    root = Path(root).resolve()
    dist = Path(dist).absolute() if dist else root / "dist"
    loaded, problems = load_and_validate(root, paths)
    problems.raise_if_any()
    instant = clock.now(now)
    if release:
        refuse_before_embargo([p for entry in loaded for p in entry.publications()], instant)
    written: list[Path] = []
    with staged(dist) as stage:
        if release:
            stage.discard_drafts()
        for entry in loaded:
            standings = Standings(entry.edition)
            for publication in entry.publications():
                log.info("building %s", publication.slug)
                mark = None if release else draft_mark(publication, instant)
                written += _build_one(publication, standings, stage, root, mark,
                                      strict=strict or release, limits=limits)
    return [dist / path.relative_to(stage.root) for path in written]


def _build_one(publication: Publication, standings: Standings, stage: Stage, root: Path,
               mark: str | None, *, strict: bool, limits: dict) -> list[Path]:
    page = page_for(publication, standings.figures(publication.country.iso2), mark)
    dated = release_date(publication)
    html = profile_html(page, stylesheets=STYLESHEETS,
                        created=dated.strftime("%Y-%m-%dT%H:%M:%SZ"))
    source = publication.profile.dir if publication.profile else publication.edition.dir
    pdf = run_limited(render_pdf, html, root, identifier(publication), strict=strict,
                      mark=mark, source=source, blame=source, **limits)
    epub = build_epub(page, root, dated, EPUB_STYLESHEETS)
    embargo = publication.embargo.text if publication.embargo else None
    draft = mark is not None
    pdf_path = stage.write(Entry(output_name(publication, ".pdf", draft), publication.slug,
                                 "pdf", draft, embargo), pdf)
    epub_path = stage.write(Entry(output_name(publication, ".epub", draft), publication.slug,
                                  "epub", draft, embargo), epub)
    problems = verify_pdf(pdf_path, mark) + verify_epub(epub_path)
    if problems:
        raise ContentError(problems)
    return [pdf_path, epub_path]
