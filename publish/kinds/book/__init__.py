"""Books: chapters in Markdown, with footnotes, figures, tables and cross-references, printed
with a table of contents and made into an EPUB 3.

content/<folder>/book.yaml names the book's chapters; the folder holds them and their images.
The stages, one module each: :mod:`.config` (book.yaml), :mod:`.markdown` (a chapter),
:mod:`.book` (what spans chapters), :mod:`.render` and :mod:`.html` (HTML), :mod:`.epub`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ...core.embargo import Embargo
from ...core.kind import Kind, Publication, Rendering, Selected
from ...core.problems import Problem
from ...core.sources import Project
from . import problems as _codes  # noqa: F401 (its codes are registered before any is used)
from .book import Book, load_book
from .config import as_instant, load_config


class BookPublication(Publication):
    """A book: its PDF is content/<folder> -> dist/<folder>/<folder>.pdf, and its EPUB."""

    def __init__(self, kind: Kind, book: Book):
        config = book.config
        self.kind = kind
        self.book = book
        self.slug = config.slug
        self.output = f"{config.slug}/{config.slug}"
        self.title = config.title
        self.language = config.language
        self.embargo: Embargo | None = config.embargo
        self.source = config.folder
        self.date: datetime = as_instant(config.date)
        self.stylesheets = dict(config.stylesheets)
        self.press = config.press

    def dependencies(self) -> list[Path]:
        return self.book.files

    # The documents' makers are imported where a book is rendered (Jinja2, ebooklib): a run
    # that renders nothing loads the kinds without them.
    def print_html(self, rendering: Rendering) -> str:
        from .html import Page, chapter_views, render
        from .render import Medium
        stylesheets = self.stylesheets["print"]
        page = Page(self.book, rendering, stylesheets,
                    chapter_views(self.book, Medium("print", rendering.project)))
        return render(self.kind, page, "print.html")

    def epub(self, rendering: Rendering):
        from .epub import book_epub
        return book_epub(self.kind, self.book, rendering, self.stylesheets["epub"])


@dataclass
class BookSelected(Selected):
    """A book, or the problems that keep it from being built (under its slug)."""
    book: BookPublication | None
    failed: dict[str, list[Problem]] = field(default_factory=dict)

    def publications(self) -> list[Publication]:
        return [self.book] if self.book is not None else []


class BookKind(Kind):
    name = "book"

    def select(self, project: Project, config: Path, chosen: list[Path] | None) -> Selected:
        """The book whose book.yaml is `config`. A book is built whole, whatever part of it
        `chosen` names: its numbers and cross-references span its chapters."""
        loaded, problems = load_config(project, config)
        if loaded is None:
            return BookSelected(None, {config.parent.name: list(problems)})
        book, problems = load_book(project, loaded)
        if problems:
            return BookSelected(None, {loaded.slug: list(problems)})
        return BookSelected(BookPublication(self, book))


KIND = BookKind()
