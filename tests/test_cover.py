"""Covers: each kind's cover.svg drawn as a PNG with the project's fonts, carried by every EPUB
as its cover-image, and every text of it inside the margins, however long a name."""
from __future__ import annotations

import io
import itertools
import shutil
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import PROJECT, copy_index_project
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image

from publish.build import select
from publish.core.cover import draw_cover, fit, text_boxes, text_width, thumbnail
from publish.core.kind import Rendering
from publish.core.problems import ContentError
from publish.core.sources import Project
from publish.kinds.book import BookPublication
from publish.kinds.book.html import Page as BookPage
from publish.kinds.book.html import render as render_book
from publish.kinds.ocindex.figures import Standings
from publish.kinds.ocindex.html import page_for, render

NS = {"opf": "http://www.idpf.org/2007/opf", "x": "http://www.w3.org/1999/xhtml",
      "epub": "http://www.idpf.org/2007/ops"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The cover's width and its margins, in the viewBox's units (1200 wide, 100 each side).
LEFT, RIGHT, HEIGHT = 100, 1100, 1800
# How far a glyph's ink may stand past its advance: Open Sans Bold's J hooks 9 units left of
# its origin at 120 units (JAMAICA), as it would in any SVG renderer.
OVERHANG = 10
LONGEST = ("Democratic Republic of the Congo", "Saint Vincent and the Grenadines",
           "Bosnia and Herzegovina", "Central African Republic", "São Tomé and Príncipe")
WORD = "Hamburgefonstiv"


def svg_text(body: str, extra: str = "") -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 1800" '
            f'font-family="Publish Sans, sans-serif"{extra}>'
            f'<rect width="1200" height="1800" fill="#1d2a38"/>{body}</svg>')


@pytest.fixture(scope="session")
def index_project() -> Project:
    return Project.at(PROJECT)


@pytest.fixture(scope="session")
def pages(loaded):
    """Every country's page of the edition, by country name."""
    (entry,) = loaded
    publications = entry.publications()
    standings = Standings(publications[0].edition)
    return {p.country.name: page_for(p, standings.figures(p.country.iso2)) for p in publications}


@pytest.fixture(scope="session")
def kyrgyzstan_svg(pages) -> str:
    return render(pages["Kyrgyzstan"], "cover.svg")


@pytest.fixture(scope="session")
def manual_publication(index_project) -> BookPublication:
    (publication,) = [p for source in select(PROJECT).sources for p in source.publications()
                      if isinstance(p, BookPublication) and p.slug == "manual"]
    return publication


def book_cover_svg(publication: BookPublication, project: Project, **changes) -> str:
    book = replace(publication.book, config=replace(publication.book.config, **changes))
    page = BookPage(book, Rendering(project, None, datetime(2026, 1, 1, tzinfo=UTC)))
    return render_book(publication.kind, page, "cover.svg")


def epub_cover(path: Path) -> tuple[etree._Element, dict, bytes]:
    """An EPUB's package document, its manifest by id, and its cover-image's bytes."""
    archive = zipfile.ZipFile(path)
    opf = etree.fromstring(archive.read("EPUB/content.opf"))
    manifest = {item.get("id"): item for item in opf.iterfind(".//opf:item", NS)}
    (cover,) = [item for item in manifest.values()
                if "cover-image" in (item.get("properties") or "").split()]
    return opf, manifest, archive.read(f"EPUB/{cover.get('href')}")


# -- the image ---------------------------------------------------------------------------------

def test_a_cover_is_a_palette_png_1800_pixels_high(kyrgyzstan_svg, index_project):
    png = draw_cover(kyrgyzstan_svg, index_project)
    image = Image.open(io.BytesIO(png))
    assert png.startswith(PNG_SIGNATURE)
    assert (image.format, image.mode, image.size) == ("PNG", "P", (1200, 1800))
    assert len(png) < 50_000
    # Nothing but the image: no time, no text (a chunk's type is the 4 bytes after its length).
    assert not {b"tIME", b"tEXt", b"zTXt", b"iTXt"} & {png[i + 4:i + 8]
                                                       for i in _chunk_offsets(png)}


def _chunk_offsets(png: bytes):
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        yield offset
        offset += 12 + int.from_bytes(png[offset:offset + 4], "big")


def test_the_same_svg_gives_the_same_bytes(kyrgyzstan_svg, index_project):
    first, second = draw_cover(kyrgyzstan_svg, index_project), draw_cover(kyrgyzstan_svg,
                                                                           index_project)
    assert first == second
    assert thumbnail(first) == thumbnail(second)


def test_a_thumbnail_is_400_pixels_on_its_long_side(kyrgyzstan_svg, index_project):
    small = Image.open(io.BytesIO(thumbnail(draw_cover(kyrgyzstan_svg, index_project))))
    assert (small.format, small.size) == ("PNG", (267, 400))
    assert Image.open(io.BytesIO(thumbnail(draw_cover(kyrgyzstan_svg, index_project),
                                           200))).size == (133, 200)


def test_the_cover_is_drawn_with_the_projects_open_sans(index_project, tmp_path):
    """The widths drawn are Open Sans Bold's own advances (read from the font file by
    fontTools), and a project whose font file is another font draws other pixels."""
    font = TTFont(PROJECT / "fonts/OpenSans-Bold.ttf")
    cmap, metrics, em = font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm
    advances = sum(metrics[cmap[ord(char)]][0] for char in WORD) * 100 / em
    # Letter-spaced, so each glyph is placed by its own advance (hinting rounds each to a
    # whole pixel: half a unit at most).
    assert abs(text_width(index_project, WORD, 100, letter_spacing=1)
               - (advances + len(WORD) - 1)) <= len(WORD) / 2
    other = Path(tmp_path / "other")
    shutil.copytree(PROJECT / "fonts", other / "fonts")
    shutil.copy(PROJECT / "fonts/DejaVuSansMono.ttf", other / "fonts/OpenSans-Bold.ttf")
    svg = svg_text(f'<text x="100" y="400" font-size="100" font-weight="bold" '
                   f'fill="#ffffff">{WORD}</text>')
    assert draw_cover(svg, index_project) != draw_cover(svg, Project.at(other))
    assert text_width(Project.at(other), WORD, 100) != text_width(index_project, WORD, 100)


# -- text that fits --------------------------------------------------------------------------

def assert_every_text_fits(svg: str, project: Project) -> None:
    """Every line of text inside the margins by its advance (what fit() measures, and where
    the next text would begin), its ink inside them but for a glyph's overhang, and no two
    lines' ink overlapping."""
    drawn = text_boxes(svg, project)
    for line in drawn:
        left, top, right, bottom = line.ink
        assert LEFT <= line.start and line.end <= RIGHT, (line.text, line.start, line.end)
        assert LEFT - OVERHANG <= left and right <= RIGHT + OVERHANG, (line.text, left, right)
        assert 0 <= top and bottom <= HEIGHT, line.text
    for one, other in itertools.combinations(drawn, 2):
        a, b = one.ink, other.ink
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, (one.text, other.text)


def test_every_countrys_cover_text_fits(pages, index_project):
    assert len(pages) == 193 and set(LONGEST) <= set(pages)
    for page in pages.values():
        assert_every_text_fits(render(page, "cover.svg"), index_project)


def test_a_long_name_takes_two_lines_and_the_region_moves_down(pages, index_project):
    lines = {line.text: line.ink for line in text_boxes(render(pages[LONGEST[0]], "cover.svg"),
                                                         index_project)}
    assert "DEMOCRATIC REPUBLIC" in lines and "OF THE CONGO" in lines
    assert lines["OF THE CONGO"][3] < lines["Central Africa"][1]
    short = {line.text: line.ink
             for line in text_boxes(render(pages["Chad"], "cover.svg"), index_project)}
    assert short["Central Africa"][1] < lines["Central Africa"][1]


def test_fit_keeps_a_short_text_whole_and_shrinks_a_long_word(index_project):
    assert fit(index_project, "CHAD", 1000, 120) == fit(index_project, "CHAD", 1000, 120, lines=1)
    assert fit(index_project, "CHAD", 1000, 120).lines == ("CHAD",)
    assert fit(index_project, "CHAD", 1000, 120).size == 120
    long = fit(index_project, "W" * 40, 1000, 120, min_size=84)
    assert long.lines == ("W" * 40,) and long.size < 84
    assert text_width(index_project, "W" * 40, long.size) <= 1000
    assert text_width(index_project, "W" * 40, long.size + 1) > 1000


def test_the_manuals_cover_and_a_long_books_fit(manual_publication, index_project):
    assert_every_text_fits(book_cover_svg(manual_publication, index_project), index_project)
    long = book_cover_svg(
        manual_publication, index_project,
        title="A Very Long Title About Publishing Structured Content Everywhere",
        subtitle="With a subtitle long enough to need two lines on the cover, surely",
        authors=["Ada Lovelace", "Charles Babbage", "Grace Hopper", "Margaret Hamilton"],
        publisher="The Society for the Diffusion of Useful Knowledge and Its Friends")
    assert_every_text_fits(long, index_project)


# -- the EPUBs -------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["profile_epub", "factsheet_epub", "book_epub"])
def test_every_epub_carries_the_png_as_its_cover(which, request):
    path = request.getfixturevalue(which)
    opf, manifest, png = epub_cover(path)
    assert png.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(png)).size == (1200, 1800)
    (item,) = [i for i in manifest.values() if i.get("href") == "images/cover.png"]
    assert (item.get("id"), item.get("media-type")) == ("cover-image", "image/png")
    assert [m.get("content") for m in opf.iterfind(".//opf:meta[@name='cover']", NS)] \
        == ["cover-image"]
    first = manifest[opf.find(".//opf:spine/opf:itemref", NS).get("idref")].get("href")
    assert first == "cover.xhtml"
    document = etree.fromstring(zipfile.ZipFile(path).read("EPUB/cover.xhtml"))
    (section,) = document.iterfind(".//x:section[@epub:type='cover']", NS)
    (image,) = section.iterfind("x:img", NS)
    assert image.get("src") == "images/cover.png" and len(image.get("alt")) > 20
    nav = etree.fromstring(zipfile.ZipFile(path).read("EPUB/nav.xhtml"))
    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    assert "cover.xhtml" in [a.get("href") for a in landmarks.iterfind(".//x:a", NS)]


MARK_RED = (176, 0, 32)


def band_pixels(png: bytes) -> set[tuple[int, int, int]]:
    """The colours at the left edge of the band where a review copy's mark is drawn."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {image.getpixel((x, y)) for x in (2, 20) for y in (60, 120, 170)}


def test_a_review_copys_cover_carries_its_mark_and_a_released_one_none(factsheet_epub,
                                                                       profile_epub):
    assert band_pixels(epub_cover(factsheet_epub)[2]) == {MARK_RED}
    assert MARK_RED not in band_pixels(epub_cover(profile_epub)[2])


def test_no_cover_template_can_leave_the_mark_out(index_project):
    """The core draws the mark after the template, whatever the template draws: here, one
    that paints its whole cover white over where the mark would be."""
    bare = svg_text('<rect width="1200" height="1800" fill="#ffffff"/>')
    mark = "EMBARGOED - NOT FOR DISTRIBUTION UNTIL 2025-11-25T09:00:00+01:00"
    marked = draw_cover(bare, index_project, mark=mark)
    assert band_pixels(marked) == {MARK_RED}
    assert band_pixels(draw_cover(bare, index_project)) == {(255, 255, 255)}
    # Its words are drawn white on the band: the middle of the band is not all red.
    image = Image.open(io.BytesIO(marked)).convert("RGB")
    assert any(min(image.getpixel((x, y))) > 230 for x in range(300, 900, 3)
               for y in range(60, 170, 3))


def test_the_profiles_cover_is_its_design_drawn(profile_epub, kyrgyzstan_svg, index_project):
    assert epub_cover(profile_epub)[2] == draw_cover(kyrgyzstan_svg, index_project)


def test_the_manuals_cover_says_what_book_yaml_says(book_epub, manual_publication, index_project):
    svg = book_cover_svg(manual_publication, index_project)
    assert epub_cover(book_epub)[2] == draw_cover(svg, index_project)
    assert [line.text for line in text_boxes(svg, index_project)] == [
        "THE PUBLISH TEAM", "publish", "The manual", "The publish project"]
    alt = etree.fromstring(zipfile.ZipFile(book_epub).read("EPUB/cover.xhtml")).find(
        ".//x:img", NS).get("alt")
    assert alt == "publish. The manual. By The publish team. The publish project."


# -- what a cover cannot be ------------------------------------------------------------------

@pytest.mark.parametrize("svg, code, quoted", [
    (svg_text('<circle cx="10" cy="10" r="5"/>'), "R009", "<circle> is not drawn on a cover"),
    (svg_text('<rect width="10" height="10" style="fill:red"/>'), "R009", "attribute style"),
    (svg_text('<rect width="10" height="10" fill="red"/>'), "R009", "is not #rgb or #rrggbb"),
    (svg_text('<text x="1" y="1" font-family="Times">x</text>'), "R009", "font family"),
    (svg_text('<text x="1" y="1" font-weight="300">x</text>'), "R009", "font-weight"),
    (svg_text('<text x="1" y="1">x<tspan>y</tspan></text>'), "R009", "text or <tspan>s"),
    (svg_text('<text x="1" y="1" transform="rotate(9)">x</text>'), "R009", "transform"),
    (svg_text("", ' xmlns:xlink="http://www.w3.org/1999/xlink"').replace(
        "<rect", '<image xlink:href="x.png"/><rect'), "R009", "<image>"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>', "R009",
     "viewBox"),
    ('<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>', "R009",
     "document type"),
    ('<html xmlns="http://www.w3.org/1999/xhtml"/>', "R009", "not an SVG"),
    (svg_text("<text x='1' y='1'>a & b</text>"), "R010", "not well-formed"),
])
def test_what_a_cover_does_not_draw_is_a_coded_problem(svg, code, quoted, index_project):
    source = PROJECT / "templates/cover.svg"
    with pytest.raises(ContentError) as raised:
        draw_cover(svg, index_project, source)
    (problem,) = raised.value.problems
    assert (problem.code, problem.file) == (code, source)
    assert quoted in problem.message, problem.message
    assert "Traceback" not in problem.format()


def test_a_projects_own_cover_outside_the_subset_is_a_problem_at_its_file(tmp_path):
    """A project's templates/cover.svg overrides the kind's; what it draws must be drawable."""
    root = copy_index_project(tmp_path)
    (root / "templates").mkdir()
    own = root / "templates/cover.svg"
    own.write_text(svg_text('<circle cx="600" cy="900" r="300" fill="#ffffff"/>'))
    project = Project.at(root)
    (publication,) = [p for source in select(root).sources for p in source.publications()
                      if p.slug.endswith("kyrgyzstan")]
    publication.prepare()
    with pytest.raises(ContentError) as raised:
        publication.epub(Rendering(project, None, datetime(2026, 1, 1, tzinfo=UTC)))
    (problem,) = raised.value.problems
    assert (problem.code, problem.file) == ("R009", own)


def test_fit_measures_the_text_shown_not_its_markup(index_project):
    from markupsafe import Markup
    assert fit(index_project, Markup("Caribbean &amp; Central"), 1000, 44).lines \
        == ("Caribbean & Central",)


@pytest.mark.parametrize("arguments", [dict(width=0), dict(size=-3), dict(lines=0),
                                       dict(lines=99), dict(size="big"), dict(size=5000)])
def test_fit_given_what_it_cannot_use_is_a_template_problem(arguments, index_project):
    with pytest.raises(ContentError) as raised:
        fit(index_project, **{"text": "Chad", "width": 1000, "size": 120, **arguments})
    (problem,) = raised.value.problems
    assert problem.code == "R005" and problem.message.startswith("fit() cannot use its ")


def test_fit_breaks_a_long_text_into_the_lines_allowed(index_project):
    """Many words on many lines (broken by dynamic programming, not by trying every way)."""
    words = " ".join(f"word{number}" for number in range(120))
    fitted = fit(index_project, words, 1000, 40, lines=6)
    assert len(fitted.lines) == 6 and " ".join(fitted.lines) == words
