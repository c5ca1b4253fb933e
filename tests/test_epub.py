"""The EPUB 3, built for real and read back: EPUBCheck, package, navigation, text, tables."""
from __future__ import annotations

import re
import zipfile
from pathlib import PurePosixPath

import pytest
from lxml import etree
from readback import EPUBCHECK_SEVERITIES_THAT_FAIL, epubcheck, pdf_pages_text, squeeze

from publish.build import output_name
from publish.kinds.ocindex.epub import identifier
from publish.kinds.ocindex.figures import Standings
from publish.kinds.ocindex.html import page_for

NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "ncx": "http://www.daisy.org/z3986/2005/ncx/",
      "epub": "http://www.idpf.org/2007/ops"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class Epub:
    """An EPUB opened for reading: its package document and its files, parsed as XML."""

    def __init__(self, path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.find(".//{*}rootfile").get("full-path")
        self.base = PurePosixPath(self.opf_path).parent
        self.opf = etree.fromstring(self.zip.read(self.opf_path))
        self.manifest = {item.get("id"): item for item in self.opf.iterfind(".//opf:item", NS)}

    def read(self, href: str) -> bytes:
        return self.zip.read(str(self.base / href.split("#")[0]))

    def xml(self, href: str):
        return etree.fromstring(self.read(href))

    @property
    def spine(self) -> list[str]:
        return [self.manifest[ref.get("idref")].get("href")
                for ref in self.opf.iterfind(".//opf:spine/opf:itemref", NS)]

    def metadata(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.iterfind(f".//opf:meta[@property='{prop}']", NS)]

    def item_with(self, prop: str):
        return [i for i in self.manifest.values() if prop in (i.get("properties") or "").split()]


@pytest.fixture(scope="session")
def epub_path(dist, publication):
    path = dist / output_name(publication, ".epub", draft=False)
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def book(epub_path):
    return Epub(epub_path)


@pytest.fixture(scope="session")
def page(publication):
    figures = Standings(publication.edition).figures(publication.country.iso2)
    return page_for(publication, figures)


def _nav_entries(book) -> list[tuple[int, str, str]]:
    (nav,) = book.item_with("nav")
    toc = book.xml(nav.get("href")).find(".//x:nav[@epub:type='toc']", NS)
    entries = []

    def walk(ol, depth):
        for li in ol.iterfind("x:li", NS):
            link = li.find("x:a", NS)
            entries.append((depth, "".join(link.itertext()).strip(), link.get("href")))
            child = li.find("x:ol", NS)
            if child is not None:
                walk(child, depth + 1)

    walk(toc.find("x:ol", NS), 1)
    return entries


def _ncx_entries(book) -> list[tuple[int, str, str]]:
    ncx_id = book.opf.find(".//opf:spine", NS).get("toc")
    ncx = book.xml(book.manifest[ncx_id].get("href"))
    entries = []

    def walk(parent, depth):
        for point in parent.iterfind("ncx:navPoint", NS):
            entries.append((depth, point.findtext("ncx:navLabel/ncx:text", namespaces=NS),
                            point.find("ncx:content", NS).get("src")))
            walk(point, depth + 1)

    walk(ncx.find("ncx:navMap", NS), 1)
    return entries


def _outline_entries(entries, outline):
    """The navigation entries that stand for the outline's headings (cover etc. left out)."""
    keys = {heading.key for heading in outline.headings}
    return [(depth, title) for depth, title, href in entries
            if "#" in href and href.split("#")[1] in keys]


def test_epubcheck_reports_no_error_and_no_warning(epub_path, tmp_path):
    messages = epubcheck(epub_path, tmp_path / "report.json")
    failing = [m for m in messages if m["severity"] in EPUBCHECK_SEVERITIES_THAT_FAIL]
    assert failing == []


def test_spine_follows_the_outline(book, publication):
    pillars = [f"{pillar.key}.xhtml" for pillar in publication.edition.outline.pillars]
    assert book.spine == ["cover.xhtml", "scores.xhtml", *pillars, "notes.xhtml"]


def test_nav_and_ncx_mirror_the_outline(book, publication):
    expected = [(h.level, h.title) for h in publication.edition.outline.headings]
    assert _outline_entries(_nav_entries(book), publication.edition.outline) == expected
    assert _outline_entries(_ncx_entries(book), publication.edition.outline) == expected
    assert [e[1:] for e in _nav_entries(book)] == [e[1:] for e in _ncx_entries(book)]


def test_ncx_states_its_real_depth(book):
    ncx_id = book.opf.find(".//opf:spine", NS).get("toc")
    ncx = book.xml(book.manifest[ncx_id].get("href"))
    depth = ncx.find(".//ncx:meta[@name='dtb:depth']", NS).get("content")
    assert int(depth) == max(d for d, _, _ in _ncx_entries(book))


def test_nav_targets_exist(book):
    for _, title, href in _nav_entries(book):
        document, _, fragment = href.partition("#")
        tree = book.xml(document)
        if fragment:
            assert tree.find(f".//*[@id='{fragment}']") is not None, title


def _paragraphs(book, documents) -> list[str]:
    return [squeeze("".join(p.itertext())) for document in documents
            for p in book.xml(document).iterfind(".//x:body//x:p", NS)]


def test_every_paragraph_appears_once_in_order(book, publication):
    pillars = [f"{pillar.key}.xhtml" for pillar in publication.edition.outline.pillars]
    expected = [squeeze(p.text) for p in publication.profile.narrative.paragraphs]
    assert _paragraphs(book, pillars) == expected
    assert _paragraphs(book, ["notes.xhtml"]) == [squeeze(publication.profile.funding_note.text)]


def test_every_indicator_score_is_in_the_tables(book, page):
    rows = {}
    for row in book.xml("scores.xhtml").iterfind(".//x:table[@class]//x:tbody/x:tr", NS):
        header = "".join(row.find("x:th", NS).itertext()).strip()
        rows[header] = ["".join(cell.itertext()).strip() for cell in row.iterfind("x:td", NS)]
    for indicator in page.outline.indicators:
        figure = page.figures.indicators[indicator.key]
        assert rows[indicator.title] == [figure.score_text, figure.change_text]


def test_tables_have_headers_and_captions(book):
    tables = book.xml("scores.xhtml").findall(".//x:table", NS)
    assert tables
    for table in tables:
        assert table.find("x:caption", NS) is not None
        for header in table.iterfind(".//x:th", NS):
            assert header.get("scope") in ("row", "col")


def test_the_dashboard_figures_are_there(book, page):
    text = squeeze("".join(book.xml("scores.xhtml").itertext()))
    for heading in page.outline.headings:
        if heading.ranked:
            figure = page.figures.headings[heading.key]
            assert squeeze(f"{figure.score_text} {figure.change_text}") in text
            for rank in page.figures.ranks[heading.key]:
                assert f"of{rank.of}" in text
    facts = page.profile.facts
    assert f"{facts.population:,}" in text and facts.capital in text


def test_epub_and_pdf_carry_the_same_text(book, pdf_path, publication):
    pillars = [f"{pillar.key}.xhtml" for pillar in publication.edition.outline.pillars]
    epub_text = "".join("".join(book.xml(document).find(".//x:body", NS).itertext())
                        for document in [*pillars, "notes.xhtml"])
    running = {publication.country.name.upper(), publication.edition.title}
    pdf_lines = [line for page in pdf_pages_text(pdf_path)[1:] for line in page.splitlines()
                 if line.strip() not in running and not re.fullmatch(r"Page \d+ of \d+", line)
                 and line.strip() != f"{publication.country.name.upper()} {publication.edition.title}"]
    assert squeeze(epub_text).casefold() == squeeze("\n".join(pdf_lines)).casefold()


def test_every_document_is_well_formed_with_its_language(book, publication):
    language = publication.edition.language
    documents = [i.get("href") for i in book.manifest.values()
                 if i.get("media-type") == "application/xhtml+xml"]
    assert len(documents) >= 5
    for document in documents:
        root = book.xml(document)  # raises on anything not well-formed
        assert root.get("lang") == language and root.get(XML_LANG) == language, document


def test_images_carry_text_alternatives(book):
    images = [img for document in book.spine for img in book.xml(document).iterfind(".//x:img", NS)]
    assert len(images) >= 7
    for image in images:
        assert (image.get("alt") or "").strip()


def test_package_metadata(book, page):
    dc = lambda name: [e.text for e in book.opf.iterfind(f".//dc:{name}", NS)]  # noqa: E731
    assert dc("language") == [page.edition.language]
    assert dc("title") == [page.publication.title]
    assert dc("identifier") == [identifier(page)]
    assert "random" not in identifier(page) and identifier(page).startswith("urn:uuid:")
    assert set(book.metadata("schema:accessMode")) == {"textual", "visual"}
    assert book.metadata("schema:accessModeSufficient") == ["textual,visual", "textual"]
    assert {"structuralNavigation", "tableOfContents", "alternativeText"} <= set(
        book.metadata("schema:accessibilityFeature"))
    assert book.metadata("schema:accessibilityHazard") == ["none"]
    assert book.metadata("schema:accessibilitySummary")[0]
    assert book.metadata("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert book.opf.get(XML_LANG) == page.edition.language
    assert book.item_with("cover-image")


def test_the_fonts_the_stylesheets_use_are_embedded_and_no_other(book, project):
    fonts = {i.get("href") for i in book.manifest.values() if i.get("media-type") == "font/ttf"}
    css = b"".join(book.read(i.get("href")) for i in book.manifest.values()
                   if i.get("media-type") == "text/css").decode()
    used = {f"fonts/{f.name}" for f in (project / "fonts").glob("*.ttf") if f.name in css}
    assert fonts == used
    for font in fonts:
        assert f"url(../{font})" in css
    # Open Sans in the weights and styles a profile asks for: no semibold (600), which only
    # the print stylesheets use; not the books' monospaced font.
    assert fonts == {f"fonts/OpenSans-{face}.ttf"
                     for face in ("Regular", "Italic", "Bold", "BoldItalic")}


def test_archive_is_deterministic_in_form(epub_path):
    with zipfile.ZipFile(epub_path) as archive:
        first, *rest = archive.infolist()
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_fonts_are_cut_to_the_characters_the_book_shows(book, project):
    """Every character of every document has its glyph in the embedded fonts, which are a
    fraction of the files in fonts/."""
    import html as html_module
    import io

    from fontTools.ttLib import TTFont
    fonts = {i.get("href"): book.read(i.get("href")) for i in book.manifest.values()
             if i.get("media-type") == "font/ttf"}
    documents = [i.get("href") for i in book.manifest.values()
                 if i.get("media-type") == "application/xhtml+xml"]
    text = set("".join(html_module.unescape("".join(book.xml(href).itertext()))
                       for href in documents)) - set("\n\t\r")
    for href, data in fonts.items():
        covered = set(map(chr, TTFont(io.BytesIO(data)).getBestCmap()))
        assert text <= covered, (href, sorted(text - covered))
        assert len(data) < (project / href).stat().st_size / 4, href
