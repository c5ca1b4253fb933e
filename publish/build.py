"""The build, top to bottom: load, validate, derive, render HTML, write PDF and EPUB, verify,
put in place.

`publish build` makes review copies: their names say "draft" and every page carries a mark,
the embargo's while it has not lifted. `publish release` makes the public files, unmarked,
and refuses to run before the embargo. Both stage everything and touch dist/ only once all
outputs are written and verified (:mod:`publish.core.dist`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .core import clock
from .core import kind as kind_module
from .core.cache import (
    PACKAGE,
    Cache,
    cache_key,
    design_digest,
    digest_files,
    folder_digest,
    tool_digest,
)
from .core.dist import MANIFEST, Entry, previous_hashes, refuse_foreign, source_state, staged
from .core.embargo import draft_mark, refuse_before_embargo
from .core.embargo import release_date as embargo_release_date
from .core.kind import Publication, Rendering, Selection
from .core.limits import DEFAULT_LIMITS, Limited, Spare, prepare_to_render, prepared_before
from .core.lock import exclusive
from .core.problems import ContentError, Problem, visible
from .core.sources import INPUT_FOLDERS, Project
from .core.stylesheets import check_stylesheets
from .core.workers import Job, Outcome, run_jobs, usable_cores
from .kinds import BUILTIN

log = logging.getLogger("publish")

DRAFT_SUFFIX = "-draft"
CACHE_FOLDER = ".publish-cache"
# The files a publication makes, by kind, and how each is named after its output path; all
# but the PDF and the EPUB where it has them (a cover; a press PDF, in a release, on request).
SUFFIXES = {"pdf": ".pdf", "epub": ".epub", "cover": "-cover.png",
            "thumbnail": "-thumbnail.png", "press": "-press.pdf"}
# Cached with the outputs, not a file of dist/: what the manifest and the catalog say of the
# publication (its title, authors, date...), so that a publication kept as it was needs no
# rendering to be cataloged.
METADATA = "metadata"


# -- 1. selecting, loading and validating (each kind's; found by publish.core.kind) ---------

def select(root: Path, paths: list[Path] = ()) -> Selection:
    """What the paths name (nothing: the whole project), loaded and checked by its kinds, the
    stylesheets of every publication included."""
    project = Project.at(root)
    selection = kind_module.select(project, list(paths), kind_module.find_kinds(BUILTIN))
    checked: dict[tuple, list[Problem]] = {}
    for source in selection.sources:
        for publication in source.publications():
            stylesheets = tuple(p for paths in publication.stylesheets.values() for p in paths)
            key = (stylesheets, publication.kind.styles)
            if key not in checked:
                checked[key] = list(check_stylesheets(project, *key))
            if checked[key]:
                source.failed[publication.slug] = checked[key]
    return selection


def check(root: Path, paths: list[Path] = ()) -> list[Problem]:
    """Every problem of the selected content, without rendering anything."""
    return select(root, paths).every_problem()


# -- 2. names and dates ---------------------------------------------------------------------

def output_name(publication: Publication, suffix: str, draft: bool = True) -> str:
    return f"{publication.output}{DRAFT_SUFFIX if draft else ''}{suffix}"


def identifier(publication: Publication) -> bytes:
    """A stable identifier: the same publication gets the same one on every build."""
    return hashlib.sha256(publication.slug.encode()).hexdigest()[:32].encode()


def release_date(publication: Publication) -> datetime:
    """The date the files carry: SOURCE_DATE_EPOCH, else the embargo, else the publication's."""
    return embargo_release_date(publication.embargo, publication.date)


# -- 3. building ----------------------------------------------------------------------------

@dataclass
class Report:
    """What a build did: for the command line's summary and exit status."""
    total: int = 0
    built: list[str] = field(default_factory=list)       # rendered now
    cached: list[str] = field(default_factory=list)      # taken from the cache
    unchanged: list[str] = field(default_factory=list)   # already in dist/ as they are
    failed: dict[str, list[Problem]] = field(default_factory=dict)
    # Built as review copies of content in progress: what each lacks (a release refuses them).
    incomplete: dict[str, list[Problem]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Problem]:
        return [problem for problems in self.failed.values() for problem in problems]


def shard_of(names: list[str], shard: tuple[int, int] | None) -> set[str]:
    """The K-th of N deterministic slices of the publications' names (K from 1). Failed
    publications count too, so that every shard of a CI matrix slices the same list."""
    ordered = sorted(names)
    if shard is None:
        return set(ordered)
    k, n = shard
    return {name for index, name in enumerate(ordered) if index % n == k - 1}


def build(root: Path, paths: list[Path] = (), dist: Path | None = None, *,
          strict: bool = False, now: str | None = None, release: bool = False,
          check_epub: bool | None = None, jobs: int = 1, shard: tuple[int, int] | None = None,
          cache_dir: Path | None = None, progress: Callable | None = None,
          time_limit: float = DEFAULT_LIMITS["time_limit"],
          memory_limit: int = DEFAULT_LIMITS["memory_limit"], allow_dirty: bool = False,
          ace_all: bool = False, on_wait: Callable[[Path], None] | None = None) -> Report:
    """Build the selected publications into dist/ and say what was done.

    `publish build` makes review copies of every publication whose content is sound, and
    reports the others; `publish release` makes the public files: refused before the embargo
    or on uncommitted changes, strict, EPUBCheck on every EPUB, and all or nothing. Either
    way dist/ then holds exactly the run's outputs. One run at a time per project: a second
    waits for the first (`on_wait` is told).
    """
    started = time.perf_counter()
    project = Project.at(root)
    # A dist/ that is a link: its target is the folder replaced, and the link stays.
    dist = Path(os.path.realpath(dist if dist else project.root / "dist"))
    options = Options(
        strict=strict or release, release=release,
        check_epub=release if check_epub is None else check_epub, jobs=jobs, shard=shard,
        limits={"time_limit": time_limit, "memory_limit": memory_limit},
        allow_dirty=allow_dirty, ace_all=ace_all)
    with exclusive([project.root, dist.parent], on_wait):
        if not prepared_before() and usable_cores() > 1 and _likely_to_render(project, dist):
            # WeasyPrint imported in a child of its own while this process loads the content:
            # a run that renders one publication renders it there (no other run uses it).
            Spare.start(_preload_renderer)
        try:
            report = _build(project, list(paths), dist, options, now,
                            Cache(cache_dir or project.root / CACHE_FOLDER), progress)
        finally:
            Spare.discard()
    report.seconds = time.perf_counter() - started
    return report


def _likely_to_render(project: Project, dist: Path) -> bool:
    """Whether a spare is worth its import: a guess, which never decides what is built. Not
    when dist/'s manifest is newer than every file and folder of the project's content,
    styles, fonts and templates and of publish itself, as after a run that changed nothing
    since (a run that leaves dist/ as it was does not write its manifest): then the spare's
    half second of CPU would only compete with the run's own work."""
    try:
        built = (dist / MANIFEST).stat().st_mtime_ns
    except OSError:
        return True
    folders = [project.root / name for name in INPUT_FOLDERS] + [PACKAGE]
    return any(_changed_since(folder, built) for folder in folders)


def _changed_since(folder: Path, instant_ns: int) -> bool:
    """Whether a file or folder under `folder` was modified after the instant (a folder is,
    when a file in it is added or removed)."""
    for parent, folders, files in os.walk(folder):
        folders[:] = [name for name in folders
                      if name != "__pycache__" and not name.startswith(".")]
        for name in (".", *files):
            try:
                if os.stat(os.path.join(parent, name)).st_mtime_ns > instant_ns:
                    return True
            except OSError:
                return True
    return False


@dataclass(frozen=True)
class Options:
    """What a build was asked for, beyond what it builds."""
    strict: bool
    release: bool
    check_epub: bool
    jobs: int
    shard: tuple[int, int] | None
    limits: dict
    allow_dirty: bool
    ace_all: bool = False  # a release runs Ace on every EPUB, not one of each kind and variant


def _build(project: Project, paths: list[Path], dist: Path, options: Options, now: str | None,
           store: Cache, progress: Callable | None) -> Report:
    selection = select(project.root, paths)
    selection.problems.raise_if_any()
    if options.release and selection.failed:
        raise ContentError(selection.every_problem())
    instant = clock.now(now)
    everything = selection.publications()
    chosen = shard_of([p.slug for p in everything] + list(selection.failed), options.shard)
    publications = [p for p in everything if p.slug in chosen]
    incomplete = {p.slug: list(p.incomplete) for p in publications if p.incomplete}
    if options.release and incomplete:
        raise ContentError([problem for problems in incomplete.values() for problem in problems])
    if options.release:
        refuse_before_embargo(publications, instant)
    commit, dirty = source_state(project.root)
    if options.release and dirty and not options.allow_dirty:
        raise ContentError([Problem("D002", "the project has uncommitted or untracked changes, "
                                            "so the release would not match its commit",
                                    project.root)])
    problems = refuse_foreign(dist)
    if problems:
        raise ContentError(problems)
    report = Report(failed={name: problems for name, problems in selection.failed.items()
                            if name in chosen}, incomplete=incomplete)
    work = _jobs(project, publications, options, instant, report)
    if options.release and report.failed:
        raise ContentError(report.problems)
    report.total = len(work) + len(report.failed)

    placer = os.getpid()

    def render(job: Job) -> dict[str, bytes]:
        # The process that will place the outputs (a worker will not) readies their catalog
        # while a PDF renders.
        return _render(job, project, options, ready_catalog=os.getpid() == placer)

    to_render, kept = _plan(work, store, dist, report, progress)
    unstored: dict[str, dict[str, bytes]] = {}  # outputs the cache could not take

    def done(outcome: Outcome) -> None:
        if outcome.status == "built":
            # Into the cache at once, read back when placing: a whole edition's bytes are
            # never held in memory together.
            try:
                store.put(outcome.job.key, outcome.outputs)
            except OSError as error:
                log.warning("publish: cannot keep %s in the cache (%s); building on without it",
                            outcome.job.publication.slug, error.strerror or error)
                unstored[outcome.job.key] = outcome.outputs
            report.built.append(outcome.job.publication.slug)
        else:
            report.failed[outcome.job.publication.slug] = outcome.problems
        if progress:
            progress(outcome, report)

    for job in to_render:  # before the workers fork, so that they share what it derives
        job.publication.prepare()
    if to_render:
        prepare_to_render(len(to_render), _warm_up)
    else:
        Spare.discard()
    run_jobs(render, to_render, options.jobs, done)
    if options.release and report.failed:
        raise ContentError(report.problems)
    placed = [job for job in work if job.publication.slug not in report.failed]
    reports = {}
    if options.release and placed:
        reports = _accessibility(
            placed, lambda job: _outputs(job, kept, store, unstored, dist),
            # which outputs a job has, without reading them
            lambda job: kept.get(job.key) or unstored.get(job.key) or store.hashes(job.key) or {},
            options)
    if placed:  # a run that built nothing leaves dist/ as it was
        report.written = _place(placed, kept, store, unstored, dist, commit, dirty, reports)
    return report


def cache_keys(root: Path, paths: list[Path] = (), *, strict: bool = False,
               release: bool = False, now: str | None = None) -> dict[str, str]:
    """Each sound publication's cache key (slug -> key), as a build with these options would
    compute it: what changed since another state of the project, without rendering."""
    _, jobs, _ = planned(root, paths, strict=strict, release=release, now=now)
    return {job.publication.slug: job.key for job in jobs}


def planned(root: Path, paths: list[Path] = (), *, strict: bool = False,
            release: bool = False, now: str | None = None
            ) -> tuple[Selection, list[Job], dict[str, list[Problem]]]:
    """What a build with these options would render, without rendering: the selection, a job
    (mark and cache key) for each sound publication, and the publications whose files could
    not be hashed (slug -> problems). For a preview, which renders them one at a time."""
    project = Project.at(root)
    options = Options(strict=strict or release, release=release, check_epub=release, jobs=1,
                      shard=None, limits={}, allow_dirty=True)
    selection = select(project.root, paths)
    report = Report()
    jobs = _jobs(project, selection.publications(), options, clock.now(now), report)
    return selection, jobs, report.failed


def _jobs(project: Project, publications: list[Publication], options: Options,
          instant: datetime, report: Report) -> list[Job]:
    """A job for each publication, keyed by everything its outputs depend on; a publication
    whose files cannot be hashed (a pipe, a link leading outside) fails alone."""
    design = f"{tool_digest()}:{design_digest(project)}"
    hashed: dict[Path, bytes] = {}  # files shared by many publications (datasets) hashed once
    work = []
    for publication in publications:
        mark = None if options.release else draft_mark(publication.embargo, instant)
        try:
            files = digest_files(project, publication.dependencies(), project.root, hashed)
        except ContentError as error:
            report.failed[publication.slug] = error.problems
            continue
        key = cache_key(f"{design}:{folder_digest(publication.kind.folder)}",
                        {"publication": publication.slug, "output": publication.output,
                         "files": files},
                        {"strict": options.strict, "release": options.release, "mark": mark})
        work.append(Job(publication, mark, key))
    return work


def _plan(work: list[Job], store: Cache, dist: Path, report: Report,
          progress) -> tuple[list[Job], dict[str, dict[str, str]]]:
    """The jobs to render: those whose outputs are neither in dist/ as they should be nor
    whole in the cache; and the outputs to keep as dist/ holds them (job key -> the hash of
    each), read and checked here. The others are counted as unchanged or cached."""
    previous = previous_hashes(dist)
    to_render, kept = [], {}
    for job in work:
        stored = store.hashes(job.key)
        names = _names(job, stored or ())
        if stored is not None and all(_dist_holds(dist, previous, names[kind], stored[kind])
                                      for kind in names):
            status = "unchanged"
            kept[job.key] = stored
        elif stored is not None and store.get(job.key) is not None:
            status = "cached"
        else:
            to_render.append(job)
            continue
        (report.unchanged if status == "unchanged" else report.cached).append(
            job.publication.slug)
        if progress:
            progress(Outcome(job, status), report)
    return to_render, kept


def _dist_holds(dist: Path, previous: dict[str, str], name: str, sha256: str) -> bool:
    """Whether dist/ holds `name` with exactly these bytes: by its manifest, then read."""
    if previous.get(name) != sha256:
        return False
    try:
        with open(os.path.join(dist, name), "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest() == sha256
    except OSError:
        return False


def _place(jobs: list[Job], kept: dict[str, dict[str, str]], store: Cache,
           unstored: dict[str, dict[str, bytes]], dist: Path, commit: str | None,
           dirty: bool | None, reports: dict[str, bytes]) -> list[Path]:
    """The run's outputs into dist/, all in one exchange, with its reports; the files
    written anew. Outputs that planning read in dist/ and found as they should be (`kept`)
    are linked; every other output is written from the cache, never taken from dist/ on its
    manifest's word."""
    written = []
    try:
        with staged(dist, commit, dirty) as stage:
            for job in jobs:
                if job.key in kept:
                    _keep(stage, job, kept[job.key])
                    stage.describe(_metadata_of_kept(job, store, kept[job.key]))
                    continue
                data = _outputs(job, {}, store, unstored, dist)
                for kind, entry in _entries(job, data).items():
                    stage.write(entry, data[kind])
                    written.append(dist / entry.path)
                stage.describe(json.loads(data[METADATA]))
            for name, data in reports.items():
                stage.report(name, data)
    except OSError as error:
        raise ContentError([Problem("D003", f"cannot write {visible(error.filename or dist)}: "
                                            f"{error.strerror or error}; dist/ is as it was",
                                    dist)]) from None
    return written


def _outputs(job: Job, kept: dict[str, dict[str, str]], store: Cache,
             unstored: dict[str, dict[str, bytes]], dist: Path) -> dict[str, bytes]:
    """A job's outputs (kind -> bytes): from dist/ where planning kept them, else from the
    cache, or from memory where the cache could not take them."""
    if job.key in kept:
        return {kind: (dist / entry.path).read_bytes()
                for kind, entry in _entries(job, kept[job.key]).items()}
    data = unstored.get(job.key) or store.get(job.key)
    if data is None:
        raise ContentError([Problem("D003", f"the outputs of {job.publication.slug} left the "
                                            "cache while the run went on", store.folder)])
    return data


def _accessibility(jobs: list[Job], outputs: Callable[[Job], dict[str, bytes]],
                   kinds: Callable[[Job], object], options: Options) -> dict[str, bytes]:
    """The release's accessibility report (:mod:`publish.core.accessibility`), after Ace
    has checked the sample of its EPUBs, or all of them; any violation fails the release."""
    from .core import accessibility
    entries = {job.key: _entries(job, kinds(job)) for job in jobs}
    files = [accessibility.Output(entry.path, entry.publication, kind)
             for job in jobs for kind, entry in entries[job.key].items()
             if kind in accessibility.FORMATS]
    checked = jobs if options.ace_all else accessibility.sample(jobs)
    ace = accessibility.run_ace([(entries[job.key]["epub"].path, outputs(job)["epub"],
                                  job.publication.source) for job in checked],
                                "all" if options.ace_all else "sample", options.jobs)
    if ace.problems:
        raise ContentError(ace.problems)
    data = accessibility.report(files, ace)
    return {accessibility.JSON_NAME: accessibility.as_json(data),
            accessibility.HTML_NAME: accessibility.as_html(data)}


def _entries(job: Job, kinds) -> dict[str, Entry]:
    """The files of a job's outputs of these kinds, as the manifest lists them."""
    embargo = job.publication.embargo.text if job.publication.embargo else None
    return {kind: Entry(name, job.publication.slug, kind, job.mark is not None, embargo)
            for kind, name in _names(job, kinds).items()}


def _keep(stage, job: Job, hashes: dict[str, str]) -> None:
    for kind, entry in _entries(job, hashes).items():
        stage.keep(entry, hashes[kind])


def _metadata_of_kept(job: Job, store: Cache, hashes: dict[str, str]) -> dict:
    """What the cache says of a publication that dist/ holds as it should be (`hashes`: its
    entry's, which planning read)."""
    data = store.read(job.key, METADATA, hashes)
    if data is None:
        raise ContentError([Problem("D003", f"what the catalog says of {job.publication.slug} "
                                            "left the cache while the run went on; run again",
                                    store.folder)])
    return json.loads(data)


def _names(job: Job, kinds) -> dict[str, str]:
    """The files of a job's outputs of these kinds (what it is cataloged by is no file)."""
    draft = job.mark is not None
    return {kind: output_name(job.publication, SUFFIXES[kind], draft)
            for kind in SUFFIXES if kind in kinds}


def _render(job: Job, project: Project, options: Options,
            ready_catalog: bool = False) -> dict[str, bytes]:
    """One publication's PDF and EPUB, rendered and verified."""
    from .core.epub import assemble
    from .core.verify import prepare_pdf_checks, verify_epub, verify_pdf

    rendering = _rendering(job, project)
    source = job.publication.source
    # The PDF renders in a bounded child while this process makes the EPUB.
    with _pdf_renderer(job, project, options, rendering) as rendering_pdf:
        spec = job.publication.epub(rendering)
        epub = assemble(spec)
        images = _cover(spec)
        prepare_pdf_checks()
        if ready_catalog:
            from .core.catalog import prepare
            prepare()
        pdf = rendering_pdf.result()
    problems = verify_pdf(pdf, job.mark, blame=source)
    if options.check_epub:
        problems += verify_epub(epub, blame=source)
    outputs = {"pdf": pdf, "epub": epub, **images}
    outputs[METADATA] = _metadata(job, spec, rendering, outputs)
    if options.release and job.publication.press is not None:
        outputs["press"], press_problems = _press(job, project, options, rendering)
        problems += press_problems
    if problems:
        raise ContentError(problems)
    return outputs


def _preload_renderer() -> None:
    """What a child rendering a PDF imports first (WeasyPrint): run by a spare."""
    import publish.core.pdf  # noqa: F401


def _warm_up() -> None:
    from .core.pdf import warm_up
    warm_up()


def _cover(spec) -> dict[str, bytes]:
    """The EPUB's raster cover, and a thumbnail of it, as files of their own: for the
    catalog and the landing page, which show the very image the EPUB carries."""
    if spec.cover is None or spec.cover.media_type != "image/png":
        return {}
    from .core.cover import thumbnail
    return {"cover": spec.cover.data, "thumbnail": thumbnail(spec.cover.data)}


def _metadata(job: Job, spec, rendering: Rendering, outputs: dict[str, bytes]) -> bytes:
    """What the manifest and the catalog say of a publication: from its EPUB's metadata,
    without the review mark its title carries, and the size of its images."""
    from .core.cover import png_size
    publication = job.publication
    return json.dumps({
        "slug": publication.slug, "title": publication.title, "language": spec.language,
        "identifier": spec.identifier, "authors": list(spec.authors),
        "publisher": spec.publisher or "", "description": spec.description or "",
        "subjects": list(spec.subjects), "published": rendering.created,
        "kind": publication.kind.name, "variant": publication.variant,
        "collection": publication.collection, "group": publication.group,
        "draft": job.mark is not None,
        "embargo": publication.embargo.text if publication.embargo else None,
        "images": {kind: list(png_size(outputs[kind])) for kind in ("cover", "thumbnail")
                   if kind in outputs},
    }, sort_keys=True, ensure_ascii=False).encode()


def _press(job: Job, project: Project, options: Options,
           rendering: Rendering) -> tuple[bytes, list[Problem]]:
    """The press-ready PDF (PDF/X-4, bleed, crop marks) a publication asks for, rendered in a
    bounded child as the PDF is, and checked as a printer's preflight would."""
    from .core.press import check_press, render_press_pdf

    publication = job.publication
    with Limited(render_press_pdf, publication.print_html(rendering), project,
                 identifier(publication), press=publication.press, date=rendering.date,
                 strict=True, source=publication.source, kind_styles=publication.kind.styles,
                 blame=publication.source, **options.limits) as rendering_press:
        data = rendering_press.result()
    return data, check_press(data, publication.press.bleed_mm,
                             crop_marks=publication.press.crop_marks, file=publication.source)


def render_pdf_alone(job: Job, project: Project, limits: dict) -> bytes:
    """A publication's PDF as a build renders it (not strict), unverified: for a preview,
    which shows its pages before the EPUB is made."""
    options = Options(strict=False, release=False, check_epub=False, jobs=1, shard=None,
                      limits=limits, allow_dirty=True)
    with _pdf_renderer(job, project, options, _rendering(job, project)) as rendering_pdf:
        return rendering_pdf.result()


def render_epub_alone(job: Job, project: Project) -> bytes:
    """A publication's EPUB as a build makes it, unchecked: for a preview."""
    from .core.epub import assemble
    return assemble(job.publication.epub(_rendering(job, project)))


def _rendering(job: Job, project: Project) -> Rendering:
    return Rendering(project, job.mark, release_date(job.publication))


def _pdf_renderer(job: Job, project: Project, options: Options, rendering: Rendering):
    """The PDF, rendering in a bounded child (:class:`Limited`) from the moment this returns."""
    publication = job.publication
    html = publication.print_html(rendering)
    return Limited(_render_pdf, html, project, identifier(publication), strict=options.strict,
                   mark=job.mark, source=publication.source,
                   kind_styles=publication.kind.styles, blame=publication.source,
                   **options.limits)


def _render_pdf(*args, **kwargs) -> bytes:
    """core.pdf.render_pdf, imported by the child that runs it: the process that builds needs
    WeasyPrint only to warm up for several renders, and a build with nothing to render or one
    publication to render in a spare (:class:`Spare`) is faster without its import."""
    from .core.pdf import render_pdf
    return render_pdf(*args, **kwargs)
