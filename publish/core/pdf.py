"""Writing the PDF: WeasyPrint renders the print document, and every message it logs counts.

WeasyPrint reports trouble by logging, not raising: a missing image, a CSS error, a layout
that dropped content ("No anchor"). Rendering collects what it logs; errors always fail the
build, and warnings fail it in strict mode.
"""
from __future__ import annotations

import atexit
import logging
import re
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pydyf
import weasyprint
from weasyprint.formatting_structure.boxes import MarginBox
from weasyprint.text.fonts import FontConfiguration

from .fetch import ProjectFetcher, RefusedURL, file_signature
from .problems import ContentError, Problem
from .sources import Project

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "optimize_images": True}


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def renderer_messages():
    """Collect what WeasyPrint logs while rendering."""
    handler = _Collect()
    logger = weasyprint.LOGGER
    logger.addHandler(handler)
    propagate = logger.propagate
    logger.propagate = False
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


# The font of the marks on review copies, from the project's fonts/.
MARK_FONT = "fonts/OpenSans-Bold.ttf"

# The mark is laid out apart from the document, with this stylesheet alone, on a page of the
# same size; its margin box is then added to every page of the document. No author
# stylesheet takes part in laying it out, so none can hide, move or shrink it.
MARK_HTML = """<!DOCTYPE html><html><head><style>
@font-face { font-family: "Publish Review Mark"; src: url("%(font)s"); }
@page {
  size: %(width)spx %(height)spx;
  margin: 0 16mm 18mm 16mm;
  @bottom-left {
    content: "%(mark)s";
    font: 700 7.5pt/1.2 "Publish Review Mark";
    color: #b00000;
    vertical-align: middle;
    white-space: nowrap;
  }
}
</style></head><body></body></html>"""


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _stamp(document, mark: str, project: Project) -> None:
    """Add the review mark to every page of a rendered document. The mark of each page size
    is laid out once in a process, on fonts of its own (:func:`_shared_fonts`): the
    boxes are the same for every document, and only read when a page is drawn."""
    fetcher = ProjectFetcher(project)
    fonts = _shared_fonts((project.root, "review mark"))
    try:
        for page in document.pages:
            size = (page.width, page.height)
            if (mark, size) not in fonts.stamps:
                fonts.stamps[mark, size] = _stamp_boxes(mark, size, fetcher, fonts)
            page._page_box.children = [*page._page_box.children, *fonts.stamps[mark, size]]
    finally:
        fonts.read.update(fetcher.read)


def _stamp_boxes(mark: str, size: tuple[float, float], fetcher, fonts) -> list[MarginBox]:
    width, height = size
    html = MARK_HTML % {"font": MARK_FONT, "mark": _css_string(mark), "width": width,
                        "height": height}
    stamp = weasyprint.HTML(string=html, base_url=f"{fetcher.project.root.as_uri()}/",
                            url_fetcher=fetcher).render(font_config=fonts)
    return [box for box in stamp.pages[0]._page_box.children if isinstance(box, MarginBox)]


# What _warm_up() renders: publish's own document, which asks WeasyPrint for the kinds of work
# publications ask for (text in several faces, hyphenation, columns, floats, positioned boxes,
# tables, SVG, margin boxes, bookmarks, links, a tagged PDF) and reads no project file.
WARM_UP_HTML = """<!DOCTYPE html><html lang="en"><head><title>Warm-up</title><style>
@page { size: A5; margin: 12mm; @bottom-right { content: counter(page) " of " counter(pages); } }
body { font: 9pt/1.4 sans-serif; hyphens: auto; }
h1 { bookmark-level: 1; string-set: title content(); }
.columns { columns: 2; text-align: justify; }
.float { float: right; width: 20mm; }
.placed { position: relative; } .placed span { position: absolute; right: 0; width: 20mm; }
.block { display: inline-block; width: 30mm; }
</style></head><body><h1>Warm-up</h1><div class="columns">
<p>Hyphenated, justified paragraphs of a publication in two balanced columns, with
<b>bold</b>, <i>italic</i>, <b><i>both</i></b> and <a href="#end">a link</a>.</p>
<p class="float">A float</p><p class="placed">A row <span>placed</span></p>
<p><span class="block">A box</span></p>
<table><caption>A table</caption><tr><th scope="row">Head</th><td>Cell</td></tr></table>
<ul><li>An item</li></ul>
<svg width="40" height="10" viewBox="0 0 40 10"><rect width="20" height="5"/>
<path d="M0 8h40" stroke="black"/><text x="0" y="9" font-size="5">SVG</text></svg>
</div><p id="end" style="break-before: page">The end.</p></body></html>"""


def warm_up() -> None:
    """Render a document of publish's own in this process, so that the processes it forks
    start warm: WeasyPrint's modules imported, its stylesheets parsed, its caches and Pango's
    filled. Where that pays is decided by :func:`publish.core.limits.prepare_to_render`."""
    weasyprint.HTML(string=WARM_UP_HTML).write_pdf(**PDF_OPTIONS)


def mark_pagination(document, pdf) -> None:
    """WeasyPrint's finisher: make the margin boxes' content (running heads, folios, the
    review mark) pagination artifacts, as PDF/UA-1 wants them, and give header cells the
    scope their HTML gives them.

    WeasyPrint 70 tags a margin box's text like any text (a Span with an MCID), then leaves
    its structure elements out of the structure tree (its issue #1836): content neither
    tagged nor an artifact. Whatever WeasyPrint left out of the tree is a margin box, by how
    it builds the tree (weasyprint/pdf/tags.py); its marked content becomes an artifact and
    its entry in the parent tree goes. The PDF/UA checks (core/pdfua.py) then prove every
    piece of content tagged or an artifact.
    """
    _scope_header_cells(document)
    resolve = resolver(pdf)
    root = resolve(pdf.catalog.get("StructTreeRoot"))
    if root is None:
        return
    in_tree = _structure_elements(root, resolve)
    nums = resolve(root["ParentTree"])["Nums"]
    parents = {nums[index]: nums[index + 1] for index in range(0, len(nums), 2)}
    for page in page_objects(pdf):
        mcids = parents.get(page.get("StructParents"))
        if not isinstance(mcids, list):
            continue
        left_out = {mcid for mcid, element in enumerate(mcids) if element not in in_tree}
        for mcid in left_out:
            mcids[mcid] = "null"
        if left_out:
            _mark_artifacts(resolve(page["Contents"]).stream, left_out)


def resolver(pdf):
    """A function that follows a reference in a pydyf document being written ("12 0 R", as
    its dictionaries hold them) to its object, and gives any other value as it is: for
    finishers, which edit the objects before they are serialized."""
    def resolve(value):
        if isinstance(value, bytes) and value.endswith(b" R"):
            return pdf.objects[int(value.split()[0])]
        return value
    return resolve


def page_objects(pdf):
    """The page dictionaries of a pydyf document being written, in order (its page tree's
    Kids hold "number 0 R" as three items each)."""
    return [pdf.objects[number] for number in pdf.pages["Kids"][::3]]


# HTML's scope of a header cell, as PDF says it; a header cell without one heads its column,
# as WeasyPrint reads it.
SCOPES = {"row": "/Row", "col": "/Column", "column": "/Column", "both": "/Both"}


def _scope_header_cells(document) -> None:
    """Say each header cell's scope in its structure element (/A /Scope). WeasyPrint ties
    data cells to their headers by /Headers alone, and keeps each cell's element on its box
    (`box.mark`, weasyprint/pdf/tags.py) while it tags them."""
    pending = [page._page_box for page in document.pages]
    while pending:
        box = pending.pop()
        element = getattr(box, "mark", None)
        if isinstance(element, dict) and element.get("S") == "/TH":
            scope = SCOPES.get(box.element.get("scope", "col").lower(), "/Column")
            element["A"]["Scope"] = scope
        pending.extend(getattr(box, "children", ()))


def _structure_elements(root, resolve) -> set[bytes]:
    """The references of every structure element reachable from the tree's root."""
    found, pending = set(), list(root["K"])
    while pending:
        kid = pending.pop()
        element = resolve(kid)
        if isinstance(kid, bytes) and isinstance(element, dict) and "S" in element:
            if kid not in found:
                found.add(kid)
                pending.extend(element.get("K", ()))
    return found


def _mark_artifacts(operations: list, mcids: set[int]) -> None:
    """Turn the marked-content sequences of `mcids` in a page's content into artifacts."""
    for index, operation in enumerate(operations):
        if isinstance(operation, dict) and operation.get("MCID") in mcids \
                and operations[index + 1] == b"BDC":
            operations[index - 1] = "/Artifact"
            operations[index] = pydyf.Dictionary({"Type": "/Pagination"})


def render_pdf(html: str, project: Project, identifier: bytes, *, strict: bool,
               source: Path | None = None, mark: str | None = None,
               kind_styles: Path | None = None) -> bytes:
    """The PDF of a print document, or a ContentError listing what the renderer reported.

    With a `mark`, every page carries it, laid out apart from the document (:func:`_stamp`).
    `kind_styles`: the kind's stylesheets, standing in for those the project lacks.
    """
    def write(document, renderer: Renderer) -> bytes:
        if mark:
            _stamp(document, mark, project)
        # The identifier is the publication's, so that the same input gives the same bytes.
        return document.write_pdf(pdf_identifier=identifier, finisher=mark_pagination,
                                  **PDF_OPTIONS)

    return render_with(html, project, write, strict=strict, source=source,
                       kind_styles=kind_styles)


@dataclass(frozen=True)
class Renderer:
    """What one rendering reads through: the project's fetcher, its fonts, its base URL."""
    fetcher: ProjectFetcher
    fonts: FontConfiguration
    base_url: str


def render_with(html: str, project: Project, write, *, strict: bool,
                source: Path | None = None, kind_styles: Path | None = None,
                stylesheets: tuple[str, ...] = ()) -> bytes:
    """Lay out a print document and write it with `write(document, renderer) -> bytes`; a
    ContentError (R001) for what the renderer reported meanwhile (errors always; warnings
    too when `strict`) or for a URL it was refused. `stylesheets`: CSS applied after the
    document's own (the press PDF's bleed and marks). Shared by the screen PDF and the press
    PDF (core/press.py), so that both read the same files and fail the same way."""
    key = (project.root, kind_styles, _declared_stylesheets(html), stylesheets)
    renderer = Renderer(ProjectFetcher(project, kind_styles=kind_styles), _shared_fonts(key),
                        f"{project.root.as_uri()}/")
    with renderer_messages() as messages:
        try:
            document = _laid_out(html, renderer, stylesheets)
            if not renderer.fonts.as_if_fresh():
                # Faces another document declared were there too: lay it out again on fonts
                # of its own, which its key's later renders share.
                renderer = Renderer(renderer.fetcher, _shared_fonts(key, fresh=True),
                                    renderer.base_url)
                messages.clear()
                document = _laid_out(html, renderer, stylesheets)
            data = write(document, renderer)
        except RefusedURL as refusal:
            raise ContentError([Problem("R001", str(refusal), source)]) from None
        finally:
            renderer.fonts.read.update(renderer.fetcher.read)
    fatal = [m for m in messages if m.levelno >= logging.ERROR or strict]
    if fatal:
        raise ContentError([Problem("R001", f"WeasyPrint {m.levelname.lower()}: {m.getMessage()}",
                                    source) for m in fatal])
    return data


def _laid_out(html: str, renderer: Renderer, stylesheets: tuple[str, ...]):
    renderer.fonts.begin()
    extra = [weasyprint.CSS(string=css, base_url=renderer.base_url, url_fetcher=renderer.fetcher,
                            font_config=renderer.fonts)
             for css in stylesheets]
    return weasyprint.HTML(string=html, base_url=renderer.base_url,
                           url_fetcher=renderer.fetcher).render(font_config=renderer.fonts,
                                                                stylesheets=extra)


# -- the fonts the renders of a process share -------------------------------------------------

class SharedFonts(FontConfiguration):
    """A FontConfiguration that the renders of a process use one after the other. A fresh one
    per render loads the system's fonts and every @font-face again, and Pango measures each
    face again; with the review marks laid out once (:func:`_stamp`), sharing them saves 6%
    of a factsheet's render (counted in instructions). What it must not change is the
    output: a render on shared fonts must give the bytes a render on fresh ones gives. So it
    records the files its faces were read from (a changed file means fresh fonts), and the
    faces each render declares (:meth:`as_if_fresh`)."""

    def __init__(self):
        super().__init__()
        self.read: dict[Path, tuple[int, ...]] = {}   # files read, and their signature then
        self.held: set[str] = set()                   # the faces added by earlier renders
        self.asked: set[str] = set()                  # those the current render declared
        self.stamps: dict[tuple, list[MarginBox]] = {}  # review marks laid out (_stamp)

    def add_font_face(self, rule_descriptors, url_fetcher):
        self.asked.add(str(rule_descriptors))  # WeasyPrint's own key for a face
        return super().add_font_face(rule_descriptors, url_fetcher)

    def begin(self) -> None:
        """Called before each render's stylesheets are read."""
        self.held |= self.asked
        self.asked = set()

    def as_if_fresh(self) -> bool:
        """Whether the render since :meth:`begin` saw only faces its own stylesheets declare:
        a face another document declared could stand for a family this one names and does
        not declare, where fresh fonts would fall back to the system's."""
        return self.held <= self.asked

    def unchanged(self) -> bool:
        """Whether every file read through these fonts is still as it was."""
        return all(file_signature(path) == signature for path, signature in self.read.items())


# Shared fonts by what they serve (project, kind, the stylesheets a document declares); a few
# are kept, the least recently used dropped first.
_SHARED: OrderedDict[tuple, SharedFonts] = OrderedDict()
_SHARED_KEPT = 8
# Dropped as the process exits, so that each removes the folder of font copies WeasyPrint
# made for it (when it is no longer referenced; a child ends without finalizers, and its
# parent removes its scratch folder instead: core/limits.py).
atexit.register(_SHARED.clear)

# What a document declares its stylesheets with: its link and style elements, as written. The
# render itself proves the choice (SharedFonts.as_if_fresh); this only picks fonts likely
# to pass.
_DECLARATIONS = re.compile(r"<link\b[^>]*>|<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)


def _declared_stylesheets(html: str) -> tuple[str, ...]:
    return tuple(_DECLARATIONS.findall(html))


def _shared_fonts(key: tuple, fresh: bool = False) -> SharedFonts:
    """This process's fonts for `key`: those of its last renders if every file they read is
    unchanged, else (or if `fresh`) new ones, which its later renders share."""
    fonts = _SHARED.pop(key, None)
    if fresh or fonts is None or not fonts.unchanged():
        fonts = SharedFonts()
    _SHARED[key] = fonts
    while len(_SHARED) > _SHARED_KEPT:
        _SHARED.popitem(last=False)
    return fonts
