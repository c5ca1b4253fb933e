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
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import clock
from .cache import Cache, design_digest, publication_key, tool_digest
from .figures import Standings
from .html import page_for, profile_html
from .limits import DEFAULT_LIMITS, Limited
from .load import (Edition, Profile, Publication, find_editions, find_profiles, load_edition,
                   load_profile)
from .problems import ContentError, EmbargoNotLifted, Problem, Problems
from .release import DRAFT_MARKER, Entry, previous_hashes, source_commit, staged
from .stylesheets import check_stylesheets
from .validate import check_edition, check_profile
from .workers import Job, Outcome, run_jobs

log = logging.getLogger("publish")

STYLESHEETS = ("styles/fonts.css", "styles/print.css")
EPUB_STYLESHEETS = ("styles/fonts.css", "styles/epub.css")
DRAFT_SUFFIX = "-draft"
CACHE_FOLDER = ".publish-cache"


@dataclass
class Loaded:
    """An edition with what a run builds of it, loaded and validated: every country of its
    dataset (a full profile where it has a narrative, else a factsheet), or the profiles
    named on the command line."""
    edition: Edition
    profiles: list[Profile] = field(default_factory=list)
    whole: bool = True

    def publications(self) -> list[Publication]:
        countries = self.edition.dataset.countries
        by_country = {profile.iso2: profile for profile in self.profiles}
        chosen = countries if self.whole else by_country
        publications = [Publication(self.edition, countries[iso2], by_country.get(iso2))
                        for iso2 in chosen]
        return sorted(publications, key=lambda publication: publication.slug)


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
        elif ((path / "profile.yaml").is_file() or (path / "narrative.md").is_file()) and (
                path.parent.parent / "edition.yaml").is_file():
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
        entry = Loaded(edition, whole=profile_dirs is None)
        for profile_dir in profile_dirs if profile_dirs is not None else find_profiles(edition_dir):
            profile, found = load_profile(profile_dir, edition)
            if profile is not None:
                found.extend(check_profile(profile, edition))
            problems.extend(found)
            twin = next((p for p in entry.profiles if profile and p.iso2 == profile.iso2), None)
            if twin is not None:
                found.add("V021", f"{profile.iso2} already has the profile {twin.dir.name}",
                          profile.file)
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

@dataclass
class Report:
    """What a build did: for the command line's summary and exit status."""
    total: int = 0
    built: list[str] = field(default_factory=list)       # rendered now
    cached: list[str] = field(default_factory=list)      # taken from the cache
    unchanged: list[str] = field(default_factory=list)   # already in dist/ as they are
    failed: dict[str, list[Problem]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Problem]:
        return [problem for problems in self.failed.values() for problem in problems]


def shard_of(publications: list[Publication], shard: tuple[int, int] | None):
    """The K-th of N deterministic slices of the publications (K from 1)."""
    if shard is None:
        return publications
    k, n = shard
    return [p for index, p in enumerate(sorted(publications, key=lambda p: p.slug))
            if index % n == k - 1]


def build(root: Path, paths: list[Path] = (), dist: Path | None = None, *,
          strict: bool = False, now: str | None = None, release: bool = False,
          check_epub: bool | None = None, jobs: int = 1, shard: tuple[int, int] | None = None,
          cache_dir: Path | None = None, progress: Callable | None = None,
          time_limit: float = DEFAULT_LIMITS["time_limit"],
          memory_limit: int = DEFAULT_LIMITS["memory_limit"]) -> Report:
    """Build the selected publications into dist/ and say what was done.

    `publish build` makes review copies; with `release`, the public files: refused before the
    embargo, strict, EPUBCheck on every EPUB, and all or nothing. A failing publication does
    not stop the others; in a review build the others are put in place.
    """
    started = time.perf_counter()
    root = Path(root).resolve()
    dist = Path(dist).absolute() if dist else root / "dist"
    loaded, problems = load_and_validate(root, paths)
    problems.raise_if_any()
    instant = clock.now(now)
    publications = shard_of([p for entry in loaded for p in entry.publications()], shard)
    if release:
        refuse_before_embargo(publications, instant)
    strict = strict or release
    check_epub = release if check_epub is None else check_epub
    options = {"strict": strict, "release": release}
    shared = f"{tool_digest()}:{design_digest(root)}"
    work = [Job(p, None if release else draft_mark(p, instant), "") for p in publications]
    for job in work:
        job.key = publication_key(job.publication, shared, {**options, "mark": job.mark})
    report = Report(total=len(work))
    store = Cache(cache_dir or root / CACHE_FOLDER)
    standings: dict[int, Standings] = {}  # derived only if something is to be rendered
    limits = {"time_limit": time_limit, "memory_limit": memory_limit}

    def render(job: Job) -> dict[str, bytes]:
        return _render(job, standings[id(job.publication.edition)], root, strict, limits,
                       check_epub)

    previous = previous_hashes(dist)
    to_render, to_place = _plan(work, store, previous, report, progress)

    def done(outcome: Outcome) -> None:
        if outcome.status == "built":
            # Into the cache at once, read back when placing: a whole edition's bytes are
            # never held in memory together.
            store.put(outcome.job.key, outcome.outputs)
            to_place.add(to_render[outcome.index])
            report.built.append(outcome.job.publication.slug)
        else:
            report.failed[outcome.job.publication.slug] = outcome.problems
        if progress:
            progress(outcome, report)

    for index in to_render:  # before the workers fork, so that they share the figures
        edition = work[index].publication.edition
        standings.setdefault(id(edition), Standings(edition))
    run_jobs(render, [work[index] for index in to_render], jobs, done)
    if release and report.failed:
        raise ContentError(report.problems)
    drafts_to_drop = release and any(DRAFT_MARKER in name for name in previous)
    if to_place or drafts_to_drop:
        report.written = _place([work[index] for index in sorted(to_place)], store, dist,
                                source_commit(root), release)
    report.seconds = time.perf_counter() - started
    return report


def _plan(work: list[Job], store: Cache, previous: dict[str, str], report: Report,
          progress) -> tuple[list[int], set[int]]:
    """Which jobs to render (not in the cache) and which cached ones to put in place (not in
    dist/ as they are); the rest are unchanged."""
    to_render, to_place = [], set()
    for index, job in enumerate(work):
        stored = store.hashes(job.key)
        if stored is None:
            to_render.append(index)
            continue
        names = _names(job)
        same = all(previous.get(names[kind]) == stored[kind] for kind in names)
        if not same:
            to_place.add(index)
        (report.unchanged if same else report.cached).append(job.publication.slug)
        if progress:
            progress(Outcome(job, "unchanged" if same else "cached"), report)
    return to_render, to_place


def _place(jobs: list[Job], store: Cache, dist: Path, commit: str | None,
           release: bool) -> list[Path]:
    """Outputs from the cache into dist/, all in one exchange; the files written."""
    written = []
    with staged(dist, commit) as stage:
        if release:
            stage.discard_drafts()
        for job in jobs:
            data = store.get(job.key)
            embargo = job.publication.embargo.text if job.publication.embargo else None
            for kind, name in _names(job).items():
                stage.write(Entry(name, job.publication.slug, kind, job.mark is not None,
                                  embargo), data[kind])
                written.append(dist / name)
    return written


def _names(job: Job) -> dict[str, str]:
    draft = job.mark is not None
    return {kind: output_name(job.publication, f".{kind}", draft) for kind in ("pdf", "epub")}


def _render(job: Job, standings: Standings, root: Path, strict: bool, limits: dict,
            check_epub: bool) -> dict[str, bytes]:
    """One publication's PDF and EPUB, rendered and verified."""
    from .epub import build_epub  # imported here: a build with nothing to render needs
    from .pdf import render_pdf    # neither WeasyPrint nor ebooklib, and starts faster
    from .verify import verify_epub, verify_pdf

    publication, mark = job.publication, job.mark
    page = page_for(publication, standings.figures(publication.country.iso2), mark)
    dated = release_date(publication)
    html = profile_html(page, stylesheets=STYLESHEETS,
                        created=dated.strftime("%Y-%m-%dT%H:%M:%SZ"))
    source = publication.profile.dir if publication.profile else publication.edition.dir
    # The PDF renders in a bounded child while this process makes the EPUB.
    with Limited(render_pdf, html, root, identifier(publication), strict=strict, mark=mark,
                 source=source, blame=source, **limits) as rendering:
        epub = build_epub(page, root, dated, EPUB_STYLESHEETS)
        pdf = rendering.result()
    problems = verify_pdf(pdf, mark, blame=source)
    if check_epub:
        problems += verify_epub(epub, blame=source)
    if problems:
        raise ContentError(problems)
    return {"pdf": pdf, "epub": epub}
