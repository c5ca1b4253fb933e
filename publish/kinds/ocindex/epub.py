"""The profile's EPUB 3: the same page as the PDF, reflowable.

ebooklib assembles the package (OPF, navigation document, NCX) from the same content, outline
and figures as the PDF; the core writes it deterministically (:mod:`publish.core.epub`).
"""
from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import Path

from ebooklib import epub

from ...core.epub import stable_identifier, write_book
from ...core.sources import MAX_ASSET_BYTES, Project
from .html import Page, chart_svg, render

FONT_MEDIA_TYPE = "font/ttf"


def identifier(page: Page) -> str:
    """A stable identifier: the same on every build of the publication."""
    return stable_identifier(page.publication.slug)


def _narrative_images(page: Page) -> dict[str, tuple[str, Path]]:
    """The narrative's images: their file URI in the HTML -> (their name in the EPUB, file)."""
    paragraphs = [p for texts in page.texts.values() for p in texts]
    if page.profile and page.profile.funding_note:
        paragraphs.append(page.profile.funding_note)
    images = {}
    for paragraph in paragraphs:
        for path in paragraph.images:
            images.setdefault(path.as_uri(), (f"images/narrative/{len(images) + 1}-{path.name}",
                                              path))
    return images


def _document(page: Page, name: str, title: str, template: str, css: list[epub.EpubItem],
              **context) -> epub.EpubHtml:
    language = page.edition.language
    item = epub.EpubHtml(uid=name, file_name=f"{name}.xhtml", title=title, lang=language)
    content = render(page, f"epub/{template}", **context)
    for uri, (href, _) in _narrative_images(page).items():
        content = content.replace(f'src="{uri}"', f'src="{href}"')
    item.content = content
    for stylesheet in css:
        item.add_item(stylesheet)
    return item


def _toc(page: Page, pillar_documents: dict[str, epub.EpubHtml]):
    """The outline as ebooklib's table of contents: (section, [children]) pairs."""

    def entry(heading, document):
        link = epub.Link(f"{document.file_name}#{heading.key}", heading.title, heading.key)
        children = [entry(child, document) for child in heading.sections]
        return (epub.Section(heading.title, link.href), children) if children else link

    return [entry(pillar, pillar_documents[pillar.key]) for pillar in page.outline.pillars]


def build_epub(page: Page, project: Project, modified: datetime,
               stylesheets: tuple[str, ...]) -> bytes:
    """The EPUB of a page, as bytes. Every file of the project it takes is read through the
    project's confinement."""
    root = project.root
    edition, country = page.edition, page.country
    book = epub.EpubBook()
    book.set_identifier(identifier(page))
    book.set_title(f"{page.publication.title} ({page.mark})" if page.mark else page.publication.title)
    book.set_language(edition.language)
    book.add_author(edition.publisher)
    book.add_metadata("DC", "publisher", edition.publisher)
    book.add_metadata("DC", "description", page.description)
    book.add_metadata("DC", "subject", "organized crime")
    book.add_metadata("DC", "date", modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _accessibility(book)

    css = []
    for href in stylesheets:
        item = epub.EpubItem(uid=Path(href).stem + "-css", file_name=href, media_type="text/css",
                             content=project.read_text(root / href).encode())
        book.add_item(item)
        css.append(item)
    for font in sorted((root / "fonts").glob("*.ttf")):
        book.add_item(epub.EpubItem(uid=f"font-{font.stem}", file_name=f"fonts/{font.name}",
                                    media_type=FONT_MEDIA_TYPE,
                                    content=project.read_bytes(font, MAX_ASSET_BYTES)))

    cover_image = epub.EpubCover(uid="cover-image", file_name="images/cover.svg")
    cover_image.media_type = "image/svg+xml"
    cover_image.content = render(page, "cover.svg").encode()
    book.add_item(cover_image)
    for chart in page.charts:
        book.add_item(epub.EpubItem(uid=f"chart-{chart.key}", file_name=f"charts/{chart.key}.svg",
                                    media_type="image/svg+xml",
                                    content=str(chart_svg(chart, page, standalone=True)).encode()))

    for index, (href, path) in enumerate(_narrative_images(page).values(), start=1):
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        book.add_item(epub.EpubItem(uid=f"narrative-image-{index}", file_name=href,
                                    media_type=media_type,
                                    content=project.read_bytes(path, MAX_ASSET_BYTES)))

    cover = _document(page, "cover", page.publication.title, "cover.html", css)
    scores = _document(page, "scores", f"{country.name}: scores", "scores.html", css)
    pillars = {pillar.key: _document(page, pillar.key, pillar.title, "pillar.html", css,
                                     pillar=pillar, loop_first=index == 0)
               for index, pillar in enumerate(page.outline.pillars)}
    documents = [cover, scores, *pillars.values()]
    if page.profile and page.profile.funding_note:
        documents.append(_document(page, "notes", "Funding note", "notes.html", css))
    for document in documents:
        book.add_item(document)

    book.toc = [epub.Link(cover.file_name, "Cover", "toc-cover"),
                epub.Link(scores.file_name, "Scores", "toc-scores"),
                *_toc(page, pillars)]
    if documents[-1].file_name == "notes.xhtml":
        book.toc.append(epub.Link("notes.xhtml", "Funding note", "toc-notes"))
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = documents
    book.guide = [{"type": "cover", "href": cover.file_name, "title": "Cover"},
                  {"type": "text", "href": scores.file_name, "title": "Scores"}]

    return write_book(book, modified, _depth(page))


def _accessibility(book: epub.EpubBook) -> None:
    def meta(prop, value):
        book.add_metadata(None, "meta", value, {"property": prop})

    for mode in ("textual", "visual"):
        meta("schema:accessMode", mode)
    meta("schema:accessModeSufficient", "textual")
    for feature in ("structuralNavigation", "tableOfContents", "alternativeText", "readingOrder",
                    "displayTransformability", "longDescription"):
        meta("schema:accessibilityFeature", feature)
    meta("schema:accessibilityHazard", "none")
    meta("schema:accessibilitySummary",
         "Every score shown in a chart is also given in a data table, and every chart and the "
         "cover have text alternatives. Headings follow the report's outline, and the "
         "navigation document mirrors it.")
    meta("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA")


def _depth(page: Page) -> int:
    return max(heading.level for heading in page.outline.headings)
