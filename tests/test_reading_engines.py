"""The EPUBs as a second reading engine draws them: MuPDF (mutool), whose HTML and SVG support
is partial, unlike Chromium's. Its text is read back in reading order, and must say what the
EPUB's XHTML says: labels apart from their values, a chart's label, score and change in
order and side by side, and the embedded Open Sans, not MuPDF's own serif.

mutool comes from Debian's mupdf-tools (scripts/setup.sh --test); without it these tests fail.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from publish.kinds.ocindex.figures import Standings

XHTML = {"x": "http://www.w3.org/1999/xhtml"}


def mutool(*args: str) -> str:
    mutool = shutil.which("mutool")
    assert mutool, "mutool is missing: run scripts/setup.sh --test"
    return subprocess.run([mutool, *args], capture_output=True, text=True, check=True).stdout


def text_lines(path: Path) -> list[str]:
    """The text MuPDF lays out, line by line, blank lines left out."""
    text = mutool("draw", "-F", "txt", "-o", "-", str(path))
    return [line.strip() for line in text.splitlines() if line.strip()]


def stext(path: Path):
    """MuPDF's structured text: each line with its characters' fonts and boxes."""
    return etree.fromstring(mutool("draw", "-F", "stext", "-o", "-", str(path)).encode())


def fonts(path: Path) -> set[str]:
    return {font.get("name") for font in stext(path).iterfind(".//font")}


def runs(svg: Path) -> list[tuple[str, float, float, float]]:
    """Each run of text MuPDF draws in an SVG: its text, left and right edges, and baseline."""
    found = []
    for line in stext(svg).iterfind(".//line"):
        chars = line.findall(".//char")
        left, _, right, _ = (float(v) for v in line.get("bbox").split())
        found.append(("".join(c.get("c") for c in chars), left, right, float(chars[0].get("y"))))
    return found


def xhtml(epub: Path, name: str):
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read(f"EPUB/{name}"))


def squeezed(element) -> str:
    return " ".join("".join(element.itertext()).split())


@pytest.fixture(scope="session")
def profile_figures(publication):
    return Standings(publication.edition).figures(publication.country.iso2)


def test_the_profile_separates_each_fact_from_its_label(profile_epub, publication):
    facts = publication.profile.facts
    lines = text_lines(profile_epub)
    start = lines.index(f"Capital: {facts.capital}")
    assert lines[start:start + 4] == [f"Capital: {facts.capital}",
                                      f"Population: {facts.population:,}",
                                      f"GDP: USD {facts.gdp_usd_million:,} million",
                                      f"Area: {facts.area_km2:,} km²"]


def test_the_profile_headline_follows_its_facts_in_the_reading_order(profile_epub, publication,
                                                                       profile_figures):
    lines = text_lines(profile_epub)
    (pillar, *_) = publication.edition.outline.pillars
    figure = profile_figures.headings[pillar.key]
    area = next(index for index, line in enumerate(lines) if line.startswith("Area: "))
    assert lines[area + 1:area + 3] == [
        pillar.title, f"{figure.score_text} {figure.change_text} since "
                      f"{publication.edition.previous.year}"]
    # The charts come after the headlines, as in the XHTML (MuPDF once drew them first).
    assert lines.index("Indicator scores") > area


def embedded_families(epub: Path) -> tuple[str, ...]:
    """The families of the fonts the EPUB embeds (MuPDF names a font family and style)."""
    with zipfile.ZipFile(epub) as archive:
        names = [TTFont(io.BytesIO(archive.read(name)))["name"]
                 for name in archive.namelist() if name.endswith(".ttf")]
    return tuple({(name.getDebugName(16) or name.getDebugName(1)) for name in names})


@pytest.mark.parametrize("epub", ["profile_epub", "factsheet_epub", "book_epub"])
def test_every_kind_is_drawn_in_its_embedded_fonts_alone(epub, request):
    path = request.getfixturevalue(epub)
    drawn = fonts(path)
    # Not MuPDF's own serif (Charis SIL, Noto Serif), nor any other of its fonts.
    assert "Open Sans Regular" in drawn
    assert [name for name in drawn if not name.startswith(embedded_families(path))] == []


def test_a_chart_draws_each_label_score_and_change_in_order_side_by_side(profile_epub,
                                                                          tmp_path):
    scores = xhtml(profile_epub, "scores.xhtml")
    (chart, *_) = scores.xpath("//x:div[contains(@class, 'chart')]/x:img", namespaces=XHTML)
    (table, *_) = scores.xpath("//x:table[contains(@class, 'scores-table')]", namespaces=XHTML)
    svg = tmp_path / "chart.svg"
    with zipfile.ZipFile(profile_epub) as archive:
        svg.write_bytes(archive.read(f"EPUB/{chart.get('src')}"))
    drawn = runs(svg)
    rows = table.findall(".//x:tbody/x:tr[@class='indicator']", XHTML)
    assert len(rows) >= 10
    for row in rows:
        label, score, change = (squeezed(cell) for cell in row)
        baseline = next(run[3] for run in drawn if run[0] == label)
        line = sorted((run for run in drawn if run[3] == baseline), key=lambda run: run[1])
        assert [run[0] for run in line] == [label, score, change]
        for before, after in zip(line, line[1:], strict=False):
            assert before[2] < after[1], (before, after)  # no run overlaps the next


def test_a_factsheet_reads_each_indicator_then_its_definition(factsheet_epub):
    document = xhtml(factsheet_epub, "criminality.xhtml")
    indicators = document.findall(".//x:div[@class='indicator']", XHTML)
    assert len(indicators) >= 15
    lines = text_lines(factsheet_epub)
    for indicator in indicators:
        term, definition = (squeezed(element) for element in indicator)
        at = lines.index(term)
        assert " ".join(lines[at + 1:]).startswith(definition)


def test_a_book_reads_its_chapters_in_order(book_epub):
    text = " ".join(text_lines(book_epub))
    starts = []
    for number in range(1, 7):
        chapter = xhtml(book_epub, f"chapter-{number}.xhtml")
        title = squeezed(chapter.find(".//x:h1", XHTML))
        (opening, *_) = [squeezed(p) for p in chapter.xpath("//x:h1/following-sibling::x:p",
                                                             namespaces=XHTML)]
        starts.append(text.index(f"{title} {opening[:60]}"))
    assert starts == sorted(starts)
