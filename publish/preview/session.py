"""What a preview knows: each publication of the project, what it was last rendered from, and
what that rendering gave. Shared by the thread that renders and those that serve pages.

A publication is rendered only once its page has been opened, and again only when its cache
key changes (:func:`publish.build.planned`): the key covers everything its outputs depend on,
so an unchanged key means unchanged outputs. Every change of state bumps one version number,
which the open pages wait on.
"""
from __future__ import annotations

import io
import logging
import posixpath
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ..build import output_name, planned, render_epub_alone, render_pdf_alone
from ..core import clock
from ..core.kind import CONTENT
from ..core.limits import DEFAULT_LIMITS
from ..core.problems import ContentError, Problem
from ..core.sources import Project
from ..core.workers import Job
from .images import PageImage, page_images

log = logging.getLogger("publish")


@dataclass
class Shown:
    """What one rendering of a publication gave: what its page shows."""
    key: str
    problems: list[Problem] = field(default_factory=list)
    pdf_name: str = ""
    pdf: bytes = b""
    pages: list[PageImage] = field(default_factory=list)
    epub_name: str = ""
    epub: bytes = b""
    epub_files: dict[str, bytes] = field(default_factory=dict)   # name in the EPUB -> bytes
    chapters: list[tuple[str, str]] = field(default_factory=list)  # (title, name in the EPUB)
    failure: str = ""  # publish itself failed (a bug): said on the page, logged in full


@dataclass
class Entry:
    """One publication, as the preview knows it now."""
    slug: str
    kind: str
    title: str
    embargo: str | None     # the instant as written; None: no embargo
    embargoed: bool         # whether it has not lifted yet
    folder: Path | None     # its folder of content/: the problems found there concern it
    job: Job | None         # what to render; None while its content has problems
    problems: list[Problem] = field(default_factory=list)
    # What its content does not hold yet: placeholders in its pages, a release refuses it.
    unwritten: list[Problem] = field(default_factory=list)
    present: bool = True    # False once it left the project (or its folder's configuration broke)
    opened: int = 0         # when its page was first opened (an order), 0: never
    building: bool = False
    shown: Shown | None = None

    @property
    def current(self) -> bool:
        return self.job is not None and self.shown is not None and self.shown.key == self.job.key

    def every_problem(self, general: list[Problem]) -> list[Problem]:
        """Its content's problems, its rendering's, and the project's that concern it."""
        found = list(self.problems)
        if self.current:
            found += self.shown.problems
        found += [problem for problem in general if self._concerns(problem)]
        return list(dict.fromkeys(found))

    def _concerns(self, problem: Problem) -> bool:
        """Whether a problem of the whole project concerns this publication: found in its
        folder of content/, or in no folder of content/ (a stylesheet, the command)."""
        if problem.file is None or self.folder is None:
            return True
        path = Path(problem.file)
        content = self.folder.parent
        return path == self.folder or self.folder in path.parents or content not in path.parents


class Session:
    def __init__(self, root: Path, scratch: Path):
        self.project = Project.at(root)
        self.root = self.project.root
        self.scratch = scratch
        self.entries: dict[str, Entry] = {}
        self.general: list[Problem] = []  # problems of the project as a whole
        self.version = 1
        # Held while the state changes, and while a page is made from it.
        self.lock = threading.Condition(threading.RLock())
        self._opened = 0

    # -- the state, as the pages read it ------------------------------------------------

    def bump(self) -> None:
        with self.lock:
            self.version += 1
            self.lock.notify_all()

    def open(self, slug: str) -> Entry | None:
        """A page was opened: its publication is to be rendered, before those opened earlier."""
        entry = self.entries.get(slug)
        if entry is not None and not entry.opened:
            with self.lock:
                self._opened += 1
                entry.opened = self._opened
                self.lock.notify_all()
        return entry

    # -- loading -----------------------------------------------------------------------

    def load(self, changed: set[Path] | None = None) -> None:
        """Load and check the project again where files changed (None: all of it), and
        compute each publication's cache key there."""
        folders = self._scope(changed)
        started = time.perf_counter()
        selection, jobs, unhashable = planned(self.root, folders or [])
        if folders and any(problem.file in folders for problem in selection.problems):
            # A folder that lost its configuration, or left: only a whole load says so plainly
            # (its YAML's problem, not "no configuration here").
            folders = None
            selection, jobs, unhashable = planned(self.root)
        log.info("preview: %s loaded in %.2f s", "all of the project" if folders is None
                 else ", ".join(self.project.relative(folder) for folder in folders),
                 time.perf_counter() - started)
        instant = clock.now()
        reloaded = {job.publication.slug: job for job in jobs}
        failed = {**selection.failed, **unhashable}
        with self.lock:
            self._apply(selection, reloaded, failed, folders, instant)

    def _apply(self, selection, reloaded: dict[str, Job], failed: dict[str, list[Problem]],
               folders: list[Path] | None, instant) -> None:
        for source in selection.sources:
            for publication in source.publications():
                self._update(publication, reloaded.get(publication.slug),
                             failed.get(publication.slug, []), instant)
        for slug, problems in failed.items():  # a kind lists no publication it failed
            entry = self.entries.get(slug) or Entry(slug, "", slug, None, False, None, None)
            entry.present, entry.job, entry.problems = True, None, problems
            self.entries[slug] = entry
        for entry in self.entries.values():
            if (folders is None or entry.folder in folders) and entry.slug not in failed \
                    and entry.slug not in reloaded:
                entry.present, entry.job, entry.problems = False, None, []
        self.general = list(selection.problems)
        self.bump()

    def _update(self, publication, job: Job | None, problems: list[Problem], instant) -> None:
        embargo = publication.embargo
        entry = self.entries.get(publication.slug)
        fresh = Entry(publication.slug, publication.kind.name, publication.title,
                      embargo.text if embargo else None,
                      embargo is not None and embargo.holds_at(instant),
                      self._folder(publication.source), job, problems,
                      list(publication.incomplete))
        if entry is not None:
            fresh.opened, fresh.building, fresh.shown = entry.opened, entry.building, entry.shown
        self.entries[publication.slug] = fresh

    def _scope(self, changed: set[Path] | None) -> list[Path] | None:
        """The folders of content/ to load again for these changed files; None: everything
        (a stylesheet, font or template changed, or a folder the preview did not know)."""
        if changed is None:
            return None
        known = {entry.folder for entry in self.entries.values()}
        folders = set()
        for path in changed:
            folder = self._folder(path)
            if folder is None or folder not in known:
                return None
            folders.add(folder)
        return sorted(folders)

    def _folder(self, path: Path) -> Path | None:
        """The folder of content/ a path lies in; None outside content/."""
        try:
            parts = Path(path).relative_to(self.root / CONTENT).parts
        except ValueError:
            return None
        return self.root / CONTENT / parts[0] if len(parts) > 1 else None

    # -- rendering ---------------------------------------------------------------------

    def next_to_render(self) -> Entry | None:
        """The page opened last among those whose outputs are not current."""
        waiting = [entry for entry in self.entries.values()
                   if entry.opened and entry.job is not None and not entry.current]
        return max(waiting, key=lambda entry: entry.opened, default=None)

    def render(self, entry: Entry) -> None:
        """The publication's pages first, shown as soon as they are drawn; then its EPUB."""
        with self.lock:
            job = entry.job
            entry.building = True
            self.bump()
        previous = {page.digest: page for page in entry.shown.pages} if entry.shown else {}
        shown = Shown(job.key)
        started = time.perf_counter()
        try:
            job.publication.prepare()
            shown.pdf = render_pdf_alone(job, self.project, dict(DEFAULT_LIMITS))
            shown.pdf_name = posixpath.basename(output_name(job.publication, ".pdf"))
            rendered = time.perf_counter()
            shown.pages = page_images(shown.pdf, self.scratch, previous)
            log.info("preview: %s: PDF %.2f s, page images %.2f s", entry.slug,
                     rendered - started, time.perf_counter() - rendered)
        except ContentError as error:
            shown.problems = error.problems
            shown.pages = entry.shown.pages if entry.shown else []  # shown dimmed till fixed
        except Exception as error:  # publish's own failure: the preview goes on, and says so
            log.exception("publish: rendering %s failed", entry.slug)
            shown.failure = f"{type(error).__name__}: {error}"
            shown.pages = entry.shown.pages if entry.shown else []
        with self.lock:
            entry.shown = shown
            self.bump()
        if shown.pdf:
            self._add_epub(entry, job, shown)
        with self.lock:
            entry.building = False
            self.bump()

    def _add_epub(self, entry: Entry, job: Job, shown: Shown) -> None:
        try:
            epub = render_epub_alone(job, self.project)
            files, chapters = unpack(epub)
        except ContentError as error:
            with self.lock:
                shown.problems = error.problems
            return
        with self.lock:
            shown.epub_name = posixpath.basename(output_name(job.publication, ".epub"))
            shown.epub, shown.epub_files, shown.chapters = epub, files, chapters


def unpack(epub: bytes) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """An EPUB's files (name -> bytes) and its reading order: (title, name) of each document
    of the spine, read from its package document as a reading system reads it."""
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()
                 if not name.endswith("/")}
    container = ElementTree.fromstring(files["META-INF/container.xml"])
    package_name = container.find(".//{*}rootfile").get("full-path")
    package = ElementTree.fromstring(files[package_name])
    base = posixpath.dirname(package_name)
    hrefs = {item.get("id"): posixpath.join(base, item.get("href"))
             for item in package.iter("{http://www.idpf.org/2007/opf}item")}
    chapters = []
    for reference in package.iter("{http://www.idpf.org/2007/opf}itemref"):
        name = hrefs.get(reference.get("idref"))
        if name in files:
            chapters.append((_title(files[name]) or posixpath.basename(name), name))
    return files, chapters


def _title(document: bytes) -> str:
    try:
        title = ElementTree.fromstring(document).find(".//{*}title")
    except ElementTree.ParseError:
        return ""
    return (title.text or "").strip() if title is not None else ""

