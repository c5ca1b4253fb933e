"""The book's documents: the kind's Jinja2 templates (or the project's of the same name) fed
with the book and its chapters rendered for one medium."""
from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from markupsafe import Markup

from ... import __version__
from ...core.kind import Kind, Rendering
from ...core.templates import template_problem
from .book import Book
from .markdown import Chapter, Heading
from .render import Medium, chapter_html, notes_html

GENERATOR = f"publish {__version__}"


@dataclass(frozen=True)
class Entry:
    """A line of a table of contents."""
    title: str
    id: str
    document: str
    children: tuple[Entry, ...] = ()

    @property
    def href(self) -> str:
        return f"{self.document}#{self.id}"


@dataclass(frozen=True)
class ChapterView:
    """A chapter as a template sees it."""
    number: int
    title: str
    id: str
    document: str
    html: Markup
    notes: Markup = Markup("")


@dataclass
class Page:
    """What every template of a book is given."""
    book: Book
    rendering: Rendering
    stylesheets: tuple[str, ...] = ()
    chapters: list[ChapterView] = field(default_factory=list)

    @property
    def config(self):
        return self.book.config

    @property
    def mark(self) -> str | None:
        return self.rendering.mark

    @property
    def created(self) -> str:
        return self.rendering.created

    @property
    def generator(self) -> str:
        return GENERATOR

    @property
    def date(self) -> str:
        return self.book.config.date.isoformat()

    def contents(self, depth: int) -> list[Entry]:
        """The chapters, and their headings down to `depth` (2: the '##' sections)."""
        return [Entry(chapter.title, chapter.id, chapter.document,
                      _entries(chapter.headings[1:], 2, depth))
                for chapter in self.book.chapters]


def _entries(headings: list[Heading], level: int, depth: int) -> tuple[Entry, ...]:
    """The headings of `level` among `headings`, each with those below it, to `depth`."""
    if level > depth:
        return ()
    entries = []
    for index, heading in enumerate(headings):
        if heading.level != level:
            continue
        below = []
        for other in headings[index + 1:]:
            if other.level <= level:
                break
            below.append(other)
        entries.append(Entry(heading.title, heading.id, heading.document,
                             _entries(below, level + 1, depth)))
    return tuple(entries)


def chapter_views(book: Book, medium: Medium) -> list[ChapterView]:
    return [_view(book, chapter, medium) for chapter in book.chapters]


def _view(book: Book, chapter: Chapter, medium: Medium) -> ChapterView:
    notes = Markup("") if medium.is_print else notes_html(book, chapter, medium)
    return ChapterView(chapter.number, chapter.title, chapter.id, chapter.document,
                       chapter_html(book, chapter, medium), notes)


def render(kind: Kind, page: Page, template: str, **context) -> str:
    """A template of the kind (or the project's own of that name); its mistakes a problem."""
    project = page.rendering.project
    try:
        environment = kind.environment(project)
        return environment.get_template(template).render(page=page, **context)
    except jinja2.TemplateError as error:
        raise template_problem(error, project) from None
