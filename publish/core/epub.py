"""Writing an EPUB 3: assembled by ebooklib from what a kind describes, checked, and the same
bytes on every build.

A kind describes its EPUB as an :class:`EpubSpec` (metadata, documents, table of contents,
stylesheets, images, fonts); :func:`assemble` makes the book, with the same accessibility
metadata for every kind.

ebooklib's habits are handled here, for every kind: `write_epub` reports failure only when
asked to raise; the NCX says its depth is 0; and the archive carries local timestamps. So the
EPUB is written to memory, its NCX depth set, and the archive rewritten deterministically:
`mimetype` first and stored, the entries in a fixed order, all with one fixed timestamp.
"""
from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from ebooklib import epub

from .clock import utc_text
from .kind import stable_identifier  # noqa: F401 - where kinds find it, beside EpubSpec
from .sources import MAX_ASSET_BYTES, Project
from .stylesheets import read_stylesheet, referenced_files

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FONT_MEDIA_TYPE = "font/ttf"
# The conformance an EPUB claims by default (EPUB Accessibility 1.1, section 2.1): a kind
# claims it only for what it makes, and says None where it cannot vouch for its content.
WCAG_2_2_AA = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


@dataclass(frozen=True)
class Asset:
    """A file of the EPUB other than a document: a stylesheet, an image, a font."""
    name: str           # its path in the EPUB, such as "images/cover.png"
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Document:
    """One XHTML document of the reading order; `content` is the whole document."""
    name: str           # its path in the EPUB, such as "chapter-1.xhtml"
    title: str
    content: str


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str           # "chapter-1.xhtml#its-id"
    children: tuple[TocEntry, ...] = ()


@dataclass
class EpubSpec:
    """An EPUB as a kind describes it."""
    identifier: str
    title: str
    language: str
    date: datetime
    documents: list[Document]
    toc: list[TocEntry]
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    description: str | None = None
    subjects: list[str] = field(default_factory=list)
    stylesheets: list[Asset] = field(default_factory=list)   # linked from every document
    assets: list[Asset] = field(default_factory=list)        # images, fonts
    # The cover image (:func:`cover_image`): the one place the cover's PNG comes from, for the
    # EPUB and for what the build puts beside it.
    cover: Asset | None = None
    landmarks: list[tuple[str, str, str]] = field(default_factory=list)  # type, href, title
    # What a reader needs to know of the book's accessibility, in a sentence or two: what is
    # accessible, and what is not (say, a chart's bars, whose figures a table repeats).
    accessibility_summary: str = ""
    accessibility_features: tuple[str, ...] = ("structuralNavigation", "tableOfContents",
                                                "readingOrder", "displayTransformability")
    # The conformance claimed, if every image of the documents has a text alternative (else
    # none is: see _accessibility); None for a kind that cannot vouch for its content.
    conforms_to: str | None = WCAG_2_2_AA


def stylesheet_assets(project: Project, hrefs: tuple[str, ...], kind_styles: Path) -> list[Asset]:
    """The EPUB's stylesheets, by their paths in the project: the project's files, else the
    kind's of the same name (:mod:`publish.core.stylesheets`)."""
    return [Asset(href, "text/css", read_stylesheet(project, href, kind_styles).encode())
            for href in hrefs]


def project_fonts(project: Project, stylesheets: list[Asset]) -> list[Asset]:
    """The project's fonts (fonts/*.ttf) that the EPUB's stylesheets name: no reader is sent
    a font that nothing uses."""
    named = set().union(*(referenced_files(project, stylesheet.data.decode("utf-8"))
                          for stylesheet in stylesheets))
    return [Asset(f"fonts/{font.name}", FONT_MEDIA_TYPE, project.read_bytes(font, MAX_ASSET_BYTES))
            for font in sorted((project.root / "fonts").glob("*.ttf")) if font in named]


COVER_IMAGE = "images/cover.png"   # where a kind's cover document shows the cover


def cover_image(svg: str, project: Project, template: str | None = None,
                mark: str | None = None) -> Asset:
    """The EPUB's cover image: the kind's cover SVG (rendered from its template, the file
    a problem points at) drawn as a PNG with the project's fonts (:mod:`publish.core.cover`);
    a review copy's carries its `mark`, which the core draws, not the template."""
    from .cover import draw_cover  # Pillow: only where an EPUB is made
    return Asset(COVER_IMAGE, "image/png",
                 draw_cover(svg, project, Path(template) if template else None, mark))


def assemble(spec: EpubSpec) -> bytes:
    """The EPUB's bytes, assembled by ebooklib and written deterministically."""
    book = epub.EpubBook()
    book.set_identifier(spec.identifier)
    book.set_title(spec.title)
    book.set_language(spec.language)
    for index, author in enumerate(spec.authors, 1):
        book.add_author(author, uid=f"creator-{index}")  # ebooklib's default id repeats
    if spec.publisher:
        book.add_metadata("DC", "publisher", spec.publisher)
    if spec.description:
        book.add_metadata("DC", "description", spec.description)
    for subject in spec.subjects:
        book.add_metadata("DC", "subject", subject)
    book.add_metadata("DC", "date", utc_text(spec.date))
    _accessibility(book, spec)
    stylesheets, assets = _faces_shown(spec)
    css = [_item(asset, f"css-{index}") for index, asset in enumerate(stylesheets, 1)]
    for item in css:
        book.add_item(item)
    for index, asset in enumerate(_fonts_subset(spec, assets), 1):
        book.add_item(_item(asset, f"asset-{index}"))
    if spec.cover is not None:
        cover = epub.EpubCover(uid="cover-image", file_name=spec.cover.name)
        cover.media_type = spec.cover.media_type
        cover.content = spec.cover.data
        book.add_item(cover)
        # EpubCover's item carries properties="cover-image" (EPUB 3); reading systems of
        # EPUB 2 find the cover by this meta instead, which ebooklib writes only in its
        # set_cover (that would also make a cover page of its own, beside the kind's).
        book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    documents = []
    for index, document in enumerate(spec.documents, 1):
        item = epub.EpubHtml(uid=f"doc-{index}", file_name=document.name, title=document.title,
                             lang=spec.language)
        item.content = document.content
        for stylesheet in css:
            item.add_item(stylesheet)
        book.add_item(item)
        documents.append(item)
    book.toc = [_toc_entry(entry, f"toc-{index}") for index, entry in enumerate(spec.toc, 1)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = documents
    book.guide = [{"type": type_, "href": href, "title": title}
                  for type_, href, title in spec.landmarks]
    return write_book(book, spec.date, max((_depth(entry) for entry in spec.toc), default=1),
                      spec.language)


# Characters every font keeps whatever the text: printable ASCII, so that a reading system's
# own strings (a footnote's number, a page list) still have glyphs, and the bullet it draws
# before a list's items (else MuPDF draws it in a serif of its own).
ALWAYS_SHOWN = {chr(code) for code in range(0x20, 0x7F)} | {"\u2022"}


def _faces_shown(spec: EpubSpec) -> tuple[list[Asset], list[Asset]]:
    """The stylesheets and the assets, without the fonts whose faces no text asks for and
    their @font-face rules (:mod:`publish.core.faces`): a factsheet asks for no semibold."""
    from . import faces
    fonts = {asset.name for asset in spec.assets if asset.media_type == FONT_MEDIA_TYPE}
    sheets = {asset.name: asset.data.decode("utf-8") for asset in spec.stylesheets}
    declared = [face for name, css in sheets.items() for face in faces.faces_of(name, css)]
    if not fonts or not declared:
        return spec.stylesheets, spec.assets
    asked = faces.requests(list(sheets.values()), [d.content for d in spec.documents],
                           [asset.data.decode("utf-8", "replace") for asset in spec.assets
                            if asset.media_type == "image/svg+xml"])
    unshown = frozenset({face.file for face in declared}
                        - {face.file for face in faces.shown_faces(declared, asked)}) & fonts
    if not unshown:
        return spec.stylesheets, spec.assets
    return ([Asset(asset.name, asset.media_type,
                   faces.without_faces(sheets[asset.name], unshown, asset.name).encode())
             for asset in spec.stylesheets],
            [asset for asset in spec.assets if asset.name not in unshown])


def _fonts_subset(spec: EpubSpec, assets: list[Asset]) -> list[Asset]:
    """The assets, each font cut down to the characters the EPUB can show: its documents,
    its stylesheets (generated content), its table of contents and title. A font is most of
    an EPUB's weight, and a reader never needs a glyph the book does not use."""
    shown = set(ALWAYS_SHOWN) | set(spec.title)
    for document in spec.documents:
        shown |= set(html.unescape(document.content)) | set(document.title)
    for stylesheet in spec.stylesheets:
        shown |= set(stylesheet.data.decode("utf-8", "replace"))
    entries = list(spec.toc)
    while entries:
        entry = entries.pop()
        shown |= set(entry.title)
        entries.extend(entry.children)
    codepoints = frozenset(ord(char) for char in shown)
    return [Asset(asset.name, asset.media_type, _subset(asset.data, codepoints))
            if asset.media_type == FONT_MEDIA_TYPE else asset for asset in assets]


# Kept for the process: the factsheets of an edition mostly show the same characters, and a
# worker making them one after the other cuts each font once, not each time (a third of an
# EPUB's making). The result depends on the font's bytes and the characters alone.
@lru_cache(maxsize=64)
def _subset(data: bytes, codepoints: frozenset[int]) -> bytes:
    """A TrueType font with the glyphs of `codepoints` only (and their ligatures and
    alternates); the same input gives the same bytes (no timestamp is recalculated)."""
    # Imported here, as Pillow for the cover: a build that makes no EPUB (a run that changes
    # nothing, `publish check`) loads the kinds, which name this module, without them.
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # hints serve low-resolution screens of the 1990s, at a third of the size
    # FontForge's timestamp table (DejaVu has one): dropped, as fontTools would, but knowingly,
    # so that it does not warn on every build.
    options.drop_tables += ["FFTM"]
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _item(asset: Asset, uid: str) -> epub.EpubItem:
    return epub.EpubItem(uid=uid, file_name=asset.name, media_type=asset.media_type,
                         content=asset.data)


def _toc_entry(entry: TocEntry, uid: str):
    """ebooklib's table of contents: a link, or (section, [children]) for an entry with some."""
    if not entry.children:
        return epub.Link(entry.href, entry.title, uid)
    return (epub.Section(entry.title, entry.href),
            [_toc_entry(child, f"{uid}-{index}") for index, child in enumerate(entry.children, 1)])


def _depth(entry: TocEntry) -> int:
    return 1 + max((_depth(child) for child in entry.children), default=0)


def _accessibility(book: epub.EpubBook, spec: EpubSpec) -> None:
    def meta(prop, value):
        book.add_metadata(None, "meta", value, {"property": prop})

    images = spec.cover is not None or any(a.media_type.startswith("image/") for a in spec.assets)
    for mode in ("textual", "visual") if images else ("textual",):
        meta("schema:accessMode", mode)
    described = not _undescribed_images(spec)
    for sufficient in _sufficient_access_modes(images, described):
        meta("schema:accessModeSufficient", sufficient)
    features = spec.accessibility_features + (("alternativeText",) if images else ())
    for feature in dict.fromkeys(features):
        meta("schema:accessibilityFeature", feature)
    meta("schema:accessibilityHazard", "none")
    if spec.accessibility_summary:
        meta("schema:accessibilitySummary", spec.accessibility_summary)
    if spec.conforms_to and described:
        meta("dcterms:conformsTo", spec.conforms_to)


# An <img> whose alternative text is missing or empty (WCAG 1.1.1 fails for it, unless it is
# decoration, which no kind's documents have).
UNDESCRIBED_IMAGE = re.compile(r"""<img\b(?![^>]*\balt\s*=\s*["']\s*[^"'\s])[^>]*>""")


def _undescribed_images(spec: EpubSpec) -> list[str]:
    """The <img> tags of the documents without a text alternative."""
    return [tag for document in spec.documents
            for tag in UNDESCRIBED_IMAGE.findall(document.content)]


def _sufficient_access_modes(images: bool, text_suffices: bool) -> list[str]:
    """Each set of access modes that suffices to read the whole book (schema.org's
    accessModeSufficient): text and images together, and text alone where the images'
    content is also in text."""
    if not images:
        return ["textual"]
    return ["textual,visual", "textual"] if text_suffices else ["textual,visual"]


def write_book(book: epub.EpubBook, modified: datetime, ncx_depth: int, language: str) -> bytes:
    """The EPUB's bytes: written by ebooklib (raising on failure), then made deterministic."""
    raw = io.BytesIO()
    epub.write_epub(raw, book, {"raise_exceptions": True, "mtime": modified,
                                "epub3_pages": False})
    return deterministic_archive(raw.getvalue(), ncx_depth, language)


def _package_with_language(opf: bytes, language: str) -> bytes:
    """The package document with the language of its own text (its title, its summary) on
    <package>, which ebooklib 0.20 does not write (`EpubWriter._write_opf`): without it,
    Ace reports epub-lang, and a reading system may speak the metadata in the wrong voice."""
    attribute = f' xml:lang="{html.escape(language, quote=True)}"'.encode()
    opf, count = re.subn(rb"<package(?=[\s>])", rb"<package" + attribute, opf, count=1)
    if count != 1:
        raise ValueError("ebooklib wrote a package document without a <package> element")
    return opf


def deterministic_archive(data: bytes, ncx_depth: int, language: str) -> bytes:
    """Rewrite the archive: mimetype first and stored, fixed order and timestamps, the
    NCX's real depth, and the package document's language."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    if names[0] != "mimetype":
        raise ValueError("ebooklib wrote an EPUB whose first entry is not mimetype")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            content = source.read(name)
            if name.endswith(".ncx"):
                content = re.sub(rb'content="0" name="dtb:depth"',
                                 f'content="{ncx_depth}" name="dtb:depth"'.encode(), content)
            elif name.endswith(".opf"):
                content = _package_with_language(content, language)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            stored = name == "mimetype"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            target.writestr(info, content, compresslevel=None if stored else 9)
    return out.getvalue()
