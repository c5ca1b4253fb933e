"""Loading a book's configuration: content/<folder>/book.yaml, every key checked.

The configuration says what the book is (title, authors, publisher, language, date), whether a
release makes a press PDF of it too (`press:`), and which chapters it holds, in order:
Markdown files of the book's folder, or a chapter publish generates
(`{generated: problem-codes}`). Every problem of the file is reported at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from ...core.embargo import EMBARGO_KINDS, Embargo, embargo_field
from ...core.kind import Press, press_field, stable_identifier
from ...core.problems import ContentError, Problems, excerpt
from ...core.sources import Fields, Node, Project
from ...core.stylesheets import stylesheets_field
from .codes import GENERATED

# The stylesheets of each medium, unless book.yaml's `stylesheets` names others. Where the
# project has no such file, the kind's own (publish/kinds/book/styles/) stands in.
STYLESHEETS = {"print": ("styles/fonts.css", "styles/book.css"),
               "epub": ("styles/fonts.css", "styles/book-epub.css")}

# A language tag as BCP 47 writes it: "en", "fr-CA", "zh-Hant-TW".
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class ChapterSource:
    """One item of the book's list of chapters: a Markdown file, or a generated chapter."""
    line: int | None                 # where book.yaml names it
    path: Path | None = None         # the Markdown file, inside the book's folder
    generated: str | None = None     # the name of a generated chapter ("problem-codes")


@dataclass
class BookConfig:
    folder: Path
    file: Path
    title: str
    subtitle: str | None
    authors: list[str]
    publisher: str
    language: str
    identifier: str
    date: date
    embargo: Embargo | None
    description: str
    keywords: list[str]
    chapters: list[ChapterSource]
    stylesheets: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(STYLESHEETS))
    press: Press | None = None       # a press PDF too (`press:`), and its settings

    @property
    def slug(self) -> str:
        return self.folder.name


def load_config(project: Project, path: Path) -> tuple[BookConfig | None, Problems]:
    """The book book.yaml describes, and every problem of the file (None when there are some)."""
    problems = Problems()
    try:
        node = project.load_yaml(path)
    except ContentError as error:
        problems.extend(error.problems)
        return None, problems
    fields = Fields(node, problems, path, what="book.yaml",
                    required={"kind": str, "title": str, "authors": list, "publisher": str,
                              "language": str, "date": (str, date), "chapters": list},
                    optional={"subtitle": str, "identifier": str, "embargo": EMBARGO_KINDS,
                              "description": str, "keywords": list, "stylesheets": Node,
                              "press": (bool, Node)})
    if fields.node is None:
        return None, problems
    folder = path.parent
    texts = {key: _text(fields, key, problems)
             for key in ("title", "subtitle", "publisher", "identifier", "description")}
    config = BookConfig(
        folder=folder, file=path,
        title=texts["title"], subtitle=texts["subtitle"],
        authors=_texts(fields, "authors", problems, "the names of the authors"),
        publisher=texts["publisher"],
        language=_language(fields, problems),
        identifier=texts["identifier"] or stable_identifier(folder.name),
        date=_date(fields, problems),
        embargo=embargo_field(fields, problems),
        description=texts["description"] or texts["subtitle"] or texts["title"],
        keywords=_texts(fields, "keywords", problems, "keywords"),
        chapters=_chapters(project, fields, problems),
        stylesheets=stylesheets_field(project, fields, problems, STYLESHEETS),
        press=press_field(fields, problems),
    )
    return (None if problems else config), problems


def _text(fields: Fields, key: str, problems: Problems) -> str | None:
    value = fields.get(key)
    if value is not None and not value.strip():
        problems.add("V013", f"'{key}' is empty", fields.file, fields.line(key))
    return value.strip() if value else value


def _texts(fields: Fields, key: str, problems: Problems, what: str) -> list[str]:
    values = fields.get(key, [])
    if not all(isinstance(value, str) and value.strip() for value in values):
        problems.add("L006", f"'{key}' must list {what}, each as text", fields.file,
                     fields.line(key))
        return []
    if key in fields.values and not values:
        problems.add("V013", f"'{key}' lists nothing", fields.file, fields.line(key))
    return [value.strip() for value in values]


def _language(fields: Fields, problems: Problems) -> str:
    language = fields.get("language") or ""
    if language and not LANGUAGE.fullmatch(language):
        problems.add("V017", f"'{excerpt(language)}' is not a language tag", fields.file,
                     fields.line("language"), hint="write a BCP 47 language tag, such as "
                                                   "en, fr or pt-BR")
    return language


def _date(fields: Fields, problems: Problems) -> date | None:
    """The publication date, written as a quoted "YYYY-MM-DD"."""
    value, line = fields.get("date"), fields.line("date")
    if isinstance(value, date):  # a bare YAML date: its meaning is clear, but quote it
        problems.add("V017", f"date: {value} is a bare YAML date; quote it", fields.file, line,
                     hint='write the date quoted, such as "2025-06-02"')
        return None
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        problems.add("V017", f"date: '{excerpt(value)}' is not a date", fields.file, line,
                     hint='write the date quoted, as "YYYY-MM-DD", such as "2025-06-02"')
        return None


def as_instant(day: date) -> datetime:
    """A publication date as the instant its files carry: midnight UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _chapters(project: Project, fields: Fields, problems: Problems) -> list[ChapterSource]:
    """The chapters, in order: each a Markdown file of the book's folder or a generated one."""
    items = fields.get("chapters", [])
    line = fields.line("chapters")
    if "chapters" in fields.values and not items:
        problems.add("V013", "'chapters' lists no chapter", fields.file, line)
    chapters = []
    for item in items:
        if isinstance(item, str):
            chapter = _chapter_file(project, fields.file, item, line, problems)
        elif isinstance(item, Node):
            chapter = _generated(item, problems)
        else:
            problems.add("L006", "each chapter must be the name of a Markdown file, or "
                                 "{generated: problem-codes}", fields.file, line)
            chapter = None
        if chapter is not None:
            chapters.append(chapter)
    return chapters


def _chapter_file(project: Project, file: Path, name: str, line: int | None,
                  problems: Problems) -> ChapterSource | None:
    if not name.endswith(".md"):
        problems.add("V017", f"chapter '{excerpt(name)}' is not a Markdown file (.md)", file,
                     line)
        return None
    try:
        path = project.confine(file.parent / name, within=(file.parent,), named_at=(file, line))
    except ContentError as error:
        problems.extend(error.problems)
        return None
    return ChapterSource(line, path=path)


def _generated(node: Node, problems: Problems) -> ChapterSource | None:
    item = Fields(node, problems, node.file, what="a generated chapter",
                  required={"generated": str})
    name = item.get("generated")
    if name is None:
        return None
    if name not in GENERATED:
        problems.add("V017", f"no generated chapter is named '{excerpt(name)}'", node.file,
                     item.line("generated"), hint="generated chapters: " + ", ".join(GENERATED))
        return None
    return ChapterSource(item.line("generated"), generated=name)


