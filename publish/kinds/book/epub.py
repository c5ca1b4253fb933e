"""The book's EPUB 3, as a description the core assembles (:func:`publish.core.epub.assemble`).

A cover (the kind's cover.svg, drawn as a PNG), a title page, then one XHTML document per
chapter with its footnotes at its end; the navigation document lists the chapters and their
sections; figures' images, the stylesheets and the project's fonts go with them.
"""
from __future__ import annotations

from ...core.epub import (
    Asset,
    Document,
    EpubSpec,
    TocEntry,
    cover_image,
    project_fonts,
    stylesheet_assets,
)
from ...core.kind import Kind, Rendering
from ...core.references import IMAGE_TYPES
from ...core.sources import MAX_ASSET_BYTES
from .book import Book
from .html import Entry, Page, chapter_views, render
from .render import Medium, epub_image_name

COVER_PAGE = "cover.xhtml"
TITLE_PAGE = "title.xhtml"
# How deep the navigation goes: chapters, their '##' sections and the '###' below them.
NAV_DEPTH = 3

SUMMARY = ("The navigation document and the headings follow the book's chapters and "
           "sections. Every figure has a text description, tables have header cells, and "
           "every footnote links to its note and back. A figure's image is visual: its "
           "description says what it shows, and no more. The book has no page list.")


def book_epub(kind: Kind, book: Book, rendering: Rendering,
              stylesheets: tuple[str, ...]) -> EpubSpec:
    """The EPUB of a book. `stylesheets`: paths in the project (the kind's stand in)."""
    config = book.config
    project = rendering.project
    medium = Medium("epub", project)
    page = Page(book, rendering, stylesheets, chapter_views(book, medium))
    documents = [Document(COVER_PAGE, config.title, render(kind, page, "epub/cover.html")),
                 Document(TITLE_PAGE, config.title, render(kind, page, "epub/title.html"))]
    documents += [Document(chapter.document, chapter.title,
                           render(kind, page, "epub/chapter.html", chapter=chapter))
                  for chapter in page.chapters]
    title = f"{config.title} ({rendering.mark})" if rendering.mark else config.title
    css = stylesheet_assets(project, stylesheets, kind.styles)
    return EpubSpec(
        identifier=config.identifier,
        title=title,
        language=config.language,
        date=rendering.date,
        documents=documents,
        toc=[_toc_entry(entry) for entry in page.contents(NAV_DEPTH)],
        authors=list(config.authors),
        publisher=config.publisher,
        description=config.description,
        subjects=list(config.keywords),
        stylesheets=css,
        assets=[*_images(book, rendering), *project_fonts(project, css)],
        cover=cover_image(render(kind, page, "cover.svg"), project,
                          kind.environment(project).get_template("cover.svg").filename,
                          rendering.mark),
        # Landmarks may only lead to documents of the reading order, which the navigation
        # document is not (EPUBCheck RSC-011).
        landmarks=[("cover", COVER_PAGE, "Cover"),
                   ("text", book.chapters[0].document, "Start of the text")],
        accessibility_summary=SUMMARY,
    )


def _toc_entry(entry: Entry) -> TocEntry:
    return TocEntry(entry.title, entry.href, tuple(_toc_entry(c) for c in entry.children))


def _images(book: Book, rendering: Rendering) -> list[Asset]:
    return [Asset(epub_image_name(book, image), IMAGE_TYPES[image.suffix.lower()],
                  rendering.project.read_bytes(image, MAX_ASSET_BYTES))
            for image in book.images]
