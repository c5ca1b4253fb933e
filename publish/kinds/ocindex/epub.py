"""The profile's EPUB 3: the same page as the PDF, reflowable.

Described from the same content, outline and figures as the PDF; the core assembles and
writes it (:mod:`publish.core.epub`).
"""
from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import Path

from ...core.epub import (
    Asset,
    Document,
    EpubSpec,
    TocEntry,
    cover_image,
    project_fonts,
    stylesheet_assets,
)
from ...core.kind import stable_identifier
from ...core.sources import MAX_ASSET_BYTES, Project
from .html import Page, chart_svg, environment, render

SUMMARY = ("Every chart's scores and changes are also given as text, in a data table below "
           "it, and every chart and the cover have text alternatives: the bars and the colours "
           "of the score bands are visual, and say nothing that the text does not. Headings "
           "follow the report's outline, and the navigation document mirrors it. The "
           "publication has no page list.")


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


def _document(page: Page, name: str, title: str, template: str, **context) -> Document:
    content = render(page, f"epub/{template}", **context)
    for uri, (href, _) in _narrative_images(page).items():
        content = content.replace(f'src="{uri}"', f'src="{href}"')
    return Document(f"{name}.xhtml", title, content)


def _toc(page: Page) -> list[TocEntry]:
    """The outline: each pillar's document, its headings as anchors."""

    def entry(heading, document: str) -> TocEntry:
        return TocEntry(heading.title, f"{document}#{heading.key}",
                        tuple(entry(child, document) for child in heading.sections))

    return [entry(pillar, f"{pillar.key}.xhtml") for pillar in page.outline.pillars]


def epub_spec(page: Page, project: Project, modified: datetime,
              stylesheets: tuple[str, ...]) -> EpubSpec:
    """The EPUB of a page. Every file of the project it takes is read through the project's
    confinement; the kind's own stylesheets stand in for those the project lacks."""
    from . import KIND

    edition, country = page.edition, page.country
    title = page.publication.title
    documents = [_document(page, "cover", title, "cover.html"),
                 _document(page, "scores", f"{country.name}: scores", "scores.html")]
    documents += [_document(page, pillar.key, pillar.title, "pillar.html", pillar=pillar,
                            loop_first=index == 0)
                  for index, pillar in enumerate(page.outline.pillars)]
    toc = [TocEntry("Cover", "cover.xhtml"), TocEntry("Scores", "scores.xhtml"), *_toc(page)]
    if page.profile and page.profile.funding_note:
        documents.append(_document(page, "notes", "Funding note", "notes.html"))
        toc.append(TocEntry("Funding note", "notes.xhtml"))
    charts = [Asset(f"charts/{chart.key}.svg", "image/svg+xml",
                    str(chart_svg(chart, page, standalone=True)).encode())
              for chart in page.charts]
    images = [Asset(href, mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    project.read_bytes(path, MAX_ASSET_BYTES))
              for href, path in _narrative_images(page).values()]
    css = stylesheet_assets(project, stylesheets, KIND.styles)
    return EpubSpec(
        identifier=identifier(page), title=f"{title} ({page.mark})" if page.mark else title,
        language=edition.language, date=modified, documents=documents, toc=toc,
        authors=[edition.publisher], publisher=edition.publisher, description=page.description,
        subjects=["organized crime"],
        stylesheets=css,
        assets=[*project_fonts(project, css), *charts, *images],
        cover=cover_image(render(page, "cover.svg"), project,
                          environment(project).get_template("cover.svg").filename,
                          page.mark),
        landmarks=[("cover", "cover.xhtml", "Cover"), ("text", "scores.xhtml", "Scores")],
        accessibility_summary=SUMMARY,
        accessibility_features=("structuralNavigation", "tableOfContents", "readingOrder",
                                "displayTransformability", "longDescription"))
