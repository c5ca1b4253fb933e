"""The interface between the core and a kind of publication, and how kinds are found.

A project's content/ holds one folder per source: an edition of the Index, a book, a brief.
The folder's configuration is the YAML file directly in it with a `kind:` key; that key names
the kind that reads the folder. Kinds come with publish (a name -> module map that build.py
passes in, since the core imports no kind) or from any installed package, through the entry
point group `publish.kinds`, as MkDocs finds its plugins and themes::

    [project.entry-points."publish.kinds"]
    brief = "mybriefs:BriefKind"

A kind turns its folder into publications. Each :class:`Publication` gives the core what it
needs and nothing more: a slug, a title, a language, an embargo, the files its outputs depend
on, its print HTML and its EPUB (documents, table of contents, metadata). The core renders,
verifies, caches, stages and releases every kind the same way.
"""
from __future__ import annotations

import importlib
import inspect
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path

from .clock import utc_text
from .embargo import Embargo
from .problems import ContentError, Problem, Problems, excerpt
from .sources import Fields, Project

ENTRY_POINTS = "publish.kinds"
CONTENT = "content"


@dataclass(frozen=True)
class Rendering:
    """What a publication is told when it renders."""
    project: Project
    mark: str | None        # the review copy's mark; None when released
    date: datetime          # the date its files carry (never the clock)

    @property
    def created(self) -> str:
        return utc_text(self.date)


# A press PDF's bleed, in millimetres: none at all is no press PDF, and more than this is no
# printer's (3 mm is usual; 5 mm for some binderies).
MAX_BLEED_MM = 10.0
# What CSS's `marks` may say, as a configuration writes it.
MARKS = ("crop", "cross", "crop cross", "none")


@dataclass(frozen=True)
class Press:
    """What a publication's press PDF asks for (its configuration's `press:` key): a bleed
    beyond the trim on every side, and the printer's marks drawn in it."""
    bleed_mm: float = 3.0
    marks: str = "crop"

    @property
    def crop_marks(self) -> bool:
        return "crop" in self.marks.split()


# A bleed as a configuration writes it: millimetres, with their unit ("3mm", "3.5 mm").
BLEED = re.compile(r"(-?\d+(\.\d+)?)\s*mm")
BLEED_HINT = f"write the bleed in millimetres, more than 0 and at most {MAX_BLEED_MM:g}, such as 3mm"


def press_field(fields: Fields, problems: Problems, key: str = "press") -> Press | None:
    """The press PDF a configuration file asks for under `key`: `true` (the defaults), or a
    mapping of `bleed` and `marks`; None when it asks for none (no key, or `false`). Each
    wrong value is a problem (V024) at its line."""
    value = fields.get(key)
    if value is None or value is False:
        return None
    if value is True:
        return Press()
    settings = Fields(value, problems, fields.file, what=f"'{key}'", required={},
                      optional={"bleed": (str, int, float), "marks": str})
    before = len(problems)
    bleed = _bleed(settings, problems)
    marks = settings.get("marks", Press.marks)
    if marks not in MARKS:
        problems.add("V024", f"marks: '{excerpt(marks)}' is not a kind of printer's marks",
                     settings.file, settings.line("marks"),
                     hint="write one of: " + ", ".join(MARKS))
    return Press(bleed, marks) if len(problems) == before else None


def _bleed(settings: Fields, problems: Problems) -> float:
    """The bleed in millimetres, as `bleed: 3mm` writes it (the default when not given)."""
    if "bleed" not in settings.values:
        return Press.bleed_mm
    value, line = settings.get("bleed"), settings.line("bleed")
    if not isinstance(value, str):
        problems.add("V024", f"bleed: {value} has no unit", settings.file, line, hint=BLEED_HINT)
        return Press.bleed_mm
    match = BLEED.fullmatch(value.strip())
    if match is None:
        problems.add("V024", f"bleed: '{excerpt(value)}' is not a length in millimetres",
                     settings.file, line, hint=BLEED_HINT)
        return Press.bleed_mm
    bleed = float(match.group(1))
    if not 0 < bleed <= MAX_BLEED_MM:
        problems.add("V024", f"bleed: {excerpt(value)} is out of range", settings.file, line,
                     hint=BLEED_HINT)
    return bleed


class Publication(ABC):
    """One document a kind makes: a PDF and an EPUB.

    Attributes a kind sets: `slug` (unique in the project: it names the publication on the
    command line and in reports), `output` (its files' path in dist/, without suffix, such as
    "gocindex-2025/kyrgyzstan"), `title`, `language`, `embargo`, `source` (the folder a
    rendering problem is blamed on), `date` (the date its files carry when neither
    SOURCE_DATE_EPOCH nor an embargo gives one), `stylesheets` (medium -> paths relative to
    the project, such as "styles/print.css"; a kind's own file of that name stands in for
    one the project lacks), `kind`, `variant` where a kind has several designs, and
    `incomplete` while its content is still being written, and `press` when its
    configuration asks for a press PDF too.
    """
    slug: str
    output: str
    title: str
    language: str
    embargo: Embargo | None
    source: Path
    date: datetime
    stylesheets: dict[str, tuple[str, ...]]
    kind: Kind
    # Which of its kind's designs it follows (the Index's "profile" or "factsheet"):
    # publications of one kind and variant share their templates, so that one of each is a
    # fair sample for checks too slow to run on all (Ace, in a release).
    variant: str = ""
    # What its content does not hold yet (a narrative in progress): a review copy shows a
    # placeholder in its place, and a release refuses the publication with these problems.
    incomplete: tuple[Problem, ...] = ()
    # Where catalogs and the landing page file it: a collection (an edition: "Global
    # Organized Crime Index 2025"; "" for one of its own, such as a book) and a group in it
    # (a region of the world: "Americas / Caribbean").
    collection: str = ""
    group: str = ""
    # Its press PDF's settings (a release then also writes <name>-press.pdf); None: none.
    press: Press | None = None

    @abstractmethod
    def dependencies(self) -> list[Path]:
        """The project's files its outputs depend on, beyond what every publication of the
        project shares (styles/, fonts/, templates/) and the kind's own code: for the cache."""

    def prepare(self) -> None:  # noqa: B027 (a hook: most kinds derive nothing ahead)
        """Derive what rendering needs from many publications at once (an edition's ranks).
        Called before the workers start, so that they share it."""

    @abstractmethod
    def print_html(self, rendering: Rendering) -> str:
        """The print document: HTML that links its stylesheets relative to the project."""

    @abstractmethod
    def epub(self, rendering: Rendering):
        """The EPUB: a :class:`publish.core.epub.EpubSpec`."""


class Selected(ABC):
    """What a kind makes of one configuration: the publications it can build, and those whose
    content has problems (name -> problems), kept apart so that the others are still built."""
    failed: dict[str, list[Problem]]

    @abstractmethod
    def publications(self) -> list[Publication]:
        ...


class Kind(ABC):
    """A kind of publication. Its templates and styles lie in its own folder, beside its code;
    a project overrides any of them with a file of the same name in its templates/ or styles/."""
    name: str = ""

    @property
    def folder(self) -> Path:
        """Its code, templates and styles: all of it is in the cache key."""
        return Path(inspect.getfile(type(self))).parent

    @property
    def templates(self) -> Path:
        return self.folder / "templates"

    @property
    def styles(self) -> Path:
        return self.folder / "styles"

    def environment(self, project: Project):
        """The kind's templates in a project: the project's templates/<name>/ first, then its
        templates/, then the kind's own folder; sandboxed (:mod:`publish.core.templates`)."""
        from .templates import template_environment  # Jinja2: only where a run renders
        return template_environment(project, self.templates, self.name or None)

    @abstractmethod
    def select(self, project: Project, config: Path, chosen: list[Path] | None) -> Selected:
        """Load and check the folder of `config` (its configuration file). `chosen`: paths
        inside the folder that the command named (None: everything the folder makes)."""


# -- finding kinds --------------------------------------------------------------------------

def find_kinds(builtin: dict[str, str]) -> dict[str, object]:
    """Every kind by name -> how to load it: publish's own ("module:attribute") and those
    installed packages declare in the entry point group. publish's own names win."""
    found: dict[str, object] = {point.name: point for point in entry_points(group=ENTRY_POINTS)}
    found.update(builtin)
    return found


def load_kind(name: str, known: dict[str, object], file: Path, line: int | None) -> Kind:
    """The kind `name`, loaded; a coded problem if it is unknown or will not load."""
    if name not in known:
        names = ", ".join(sorted(known))
        raise ContentError([Problem("L014", f"no kind named '{excerpt(name)}' (known: {names})",
                                    file, line)])
    source = known[name]
    try:
        if isinstance(source, str):
            module, _, attribute = source.partition(":")
            loaded = getattr(importlib.import_module(module), attribute)
        else:
            loaded = source.load()
        kind = loaded() if isinstance(loaded, type) else loaded
    except Exception as error:  # a third party's package: whatever it raises, said plainly
        raise ContentError([Problem("L015", f"the kind '{excerpt(name)}' failed to load: "
                                            f"{type(error).__name__}: {error}", file, line)]) \
            from None
    if not isinstance(kind, Kind):
        raise ContentError([Problem("L015", f"'{excerpt(name)}' is not a publish kind "
                                            "(a subclass of publish.core.kind.Kind)", file, line)])
    return kind


# -- finding what a project makes -----------------------------------------------------------

@dataclass
class Configuration:
    """A folder of content/ and the file that names its kind."""
    folder: Path
    file: Path
    kind: str
    line: int | None


@dataclass
class Selection:
    """What a run is asked to build: what each configuration's kind made of it, and the
    problems that concern the run as a whole (the command's paths, unknown kinds)."""
    sources: list[Selected] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)

    def publications(self) -> list[Publication]:
        """The publications to build: those without problems (a check made after the kind's,
        such as the stylesheets', may have failed one)."""
        return [p for source in self.sources for p in source.publications()
                if p.slug not in source.failed]

    @property
    def failed(self) -> dict[str, list[Problem]]:
        return {name: problems for source in self.sources
                for name, problems in source.failed.items()}

    def every_problem(self) -> list[Problem]:
        found = list(self.problems)
        for problems in self.failed.values():
            found.extend(problems)
        return list(dict.fromkeys(found))  # a problem shared by two publications, once


def configurations(project: Project) -> tuple[list[Configuration], Problems, set[Path]]:
    """Every folder of content/ whose YAML files include a configuration (a `kind:` key); the
    problems met; and the folders whose configuration may be in a YAML file that could not be
    read (its problem said, nothing more is said of them: that is the cause)."""
    problems = Problems()
    found, unreadable = [], set()
    for folder in sorted(p for p in (project.root / CONTENT).glob("*") if p.is_dir()):
        named, broken = [], False
        yaml_files = sorted(folder.glob("*.yaml"))
        for file in yaml_files:
            try:
                node = project.load_yaml(file)
            except ContentError as error:
                problems.extend(error.problems)
                broken = True
                continue
            if isinstance(node, dict) and "kind" in node:
                named.append(Configuration(folder, file, node["kind"], node.line_of("kind")))
        if len(named) > 1:
            problems.add("L016", "more than one configuration names a kind here: "
                         + ", ".join(c.file.name for c in named), folder)
        elif broken and not named:  # the configuration may be the file that is broken
            unreadable.add(folder)
        elif not named and yaml_files:  # a configuration that forgot its kind: never skipped
            problems.add("L005", "no YAML file here says which kind of publication the folder "
                                 "holds", yaml_files[0] if len(yaml_files) == 1 else folder,
                         hint="add 'kind: <name>' to the folder's configuration file, "
                              "naming its kind of publication (publish check lists the kinds "
                              "it knows when the name is wrong)")
        found.extend(named[:1])
    return found, problems, unreadable


def select(project: Project, paths: list[Path], known: dict[str, object]) -> Selection:
    """Load and check what the paths name (nothing named: every folder of content/). A path
    that is no file or folder but a plain word names a folder of content/, or publications
    (:func:`_by_name`)."""
    # A folder of content/ by its name alone: the folder.
    paths = [project.root / CONTENT / path if _is_name(project, path)
             and (project.root / CONTENT / path).is_dir() else path for path in paths]
    names = [str(path) for path in paths if _is_name(project, path)]
    paths = [path for path in paths if not _is_name(project, path)]
    if not names:
        return _select(project, paths, known)
    named = _by_name(_select(project, [], known), names)
    if not paths:
        return named
    selection = _select(project, paths, known)
    given = {p.slug for p in selection.publications()} | set(selection.failed)
    for source in named.sources:  # a publication both named and under a path, once
        source.slugs -= given
        source.failed = {name: found for name, found in source.failed.items()
                         if name not in given}
    selection.sources += named.sources
    selection.problems.extend(named.problems)
    return selection


def _is_name(project: Project, path: Path) -> bool:
    """Whether a command's argument names publications rather than a path: one plain word
    (letters, digits, dashes) that is no file or folder of the project."""
    text = str(path)
    return re.fullmatch(r"[\w-]+", text) is not None and not (project.root / text).exists()


def files_name(publication: Publication) -> str:
    """Its files' name: kazakhstan for gocindex-2025/kazakhstan."""
    return publication.output.rsplit("/", 1)[-1]


def publication_names(publication: Publication) -> set[str]:
    """What a publication answers to on the command line: its slug, and its files' name."""
    return {publication.slug, files_name(publication)}


def _by_name(selection: Selection, names: list[str]) -> Selection:
    """The selection narrowed to the publications the names name (by slug or file name);
    an unknown or ambiguous name is a problem, with the whole selection's problems (the
    publication may be one whose content failed to load)."""
    named: set[str] = set()
    for name in names:
        wanted = name.casefold()  # Kazakhstan as kazakhstan: names are lower case
        found = sorted({p.slug for p in selection.publications()
                        if wanted in publication_names(p)}
                       | {slug for slug in selection.failed
                          if slug == wanted or slug.endswith(f"-{wanted}")})
        if len(found) > 1:
            selection.problems.add("L017", f"'{excerpt(name)}' names several publications: "
                                           + ", ".join(found), hint="give the full name (slug)")
        elif not found:
            selection.problems.add("L001", f"no file, folder or publication named "
                                           f"'{excerpt(name)}'",
                                   hint="publish list shows every publication and its name")
            # Whatever failed to load may be it: said too, and nothing else is built.
            selection.problems.extend(p for p in selection.every_problem()
                                      if p not in selection.problems)
            selection.sources = []
            return selection
        named |= set(found)
    selection.sources = [_Named(source, named) for source in selection.sources]
    return selection


class _Named(Selected):
    """A kind's selection narrowed to some of its publications, by slug."""

    def __init__(self, source: Selected, slugs: set[str]):
        self.source, self.slugs = source, slugs
        self.failed = {name: problems for name, problems in source.failed.items()
                       if name in slugs}

    def publications(self) -> list[Publication]:
        return [p for p in self.source.publications() if p.slug in self.slugs]


def _select(project: Project, paths: list[Path], known: dict[str, object]) -> Selection:
    selection = Selection()
    found, problems, unreadable = configurations(project)
    selection.problems.extend(problems)
    try:
        chosen = _chosen(project, paths, found, unreadable)
    except ContentError as error:
        selection.problems.extend(error.problems)
        return selection
    if not found and not selection.problems:
        selection.problems.add("L001", "no configuration found: content/<name>/ holds none "
                               "with a 'kind:' key", project.root / CONTENT,
                               hint="run publish in the project's folder, or name it with "
                                    "--project; a configuration names its kind, such as "
                                    "'kind: book'")
    for configuration in found:
        if configuration.folder not in chosen:
            continue
        try:
            if not isinstance(configuration.kind, str):
                raise ContentError([Problem("L006", "'kind' must be the name of a kind",
                                            configuration.file, configuration.line)])
            kind = load_kind(configuration.kind, known, configuration.file, configuration.line)
            # A kind may refuse what the command named inside its folder (L017), or a file
            # it cannot read: said with the run's other problems.
            selection.sources.append(kind.select(project, configuration.file,
                                                 chosen[configuration.folder]))
        except ContentError as error:
            selection.problems.extend(error.problems)
    return selection


def _chosen(project: Project, paths: list[Path], found: list[Configuration],
            unreadable: set[Path]) -> dict[Path, list[Path] | None]:
    """Folder of content/ -> the paths named inside it (None: all of it). A path inside a
    folder whose configuration could not be read is left out: its problem is said."""
    folders = {c.folder: c for c in found}
    if not paths:
        return {folder: None for folder in folders}
    chosen: dict[Path, list[Path] | None] = {}
    content = project.root / CONTENT
    for raw in paths:
        path = project.confine(Path(raw))
        try:
            parts = path.relative_to(content).parts
        except ValueError:
            parts = ()
        folder = content / parts[0] if parts else None
        if not path.exists():
            raise ContentError([Problem("L001", "no such file or folder", path)])
        if folder in unreadable:
            continue
        if folder not in folders:
            raise ContentError([Problem("L017", "not inside a folder of content/ that has a "
                                                "configuration", path)])
        if path in (folder, folders[folder].file):
            chosen[folder] = None
        elif chosen.get(folder, []) is not None:
            chosen.setdefault(folder, []).append(path)
    return chosen


def stable_identifier(name: str) -> str:
    """A UUID derived from a publication's name: the same on every build, unique to it (its
    EPUB's identifier, where its configuration gives none)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'publish:' + name)}"
