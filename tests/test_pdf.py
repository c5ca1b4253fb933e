"""The print PDF, built for real and read back: text, order, outline, metadata, fonts."""
from __future__ import annotations

import re

import pytest
from pypdf import PdfReader
from readback import pdf_outline, pdf_pages_text, pdffonts, pdfinfo, run, squeeze

from publish.build import identifier


@pytest.fixture(scope="session")
def pages(pdf_path):
    return pdf_pages_text(pdf_path)


def _running_lines(publication):
    return {publication.country.name.upper(), publication.edition.title,
            f"{publication.country.name.upper()} {publication.edition.title}"}


@pytest.fixture(scope="session")
def narrative_text(pages, publication):
    """The narrative pages' text without running headers and footers, squeezed."""
    running = _running_lines(publication)
    kept = []
    for page in pages[1:]:
        for line in page.splitlines():
            if line.strip() in running or line.startswith("Page "):
                continue
            kept.append(line)
    return squeeze("\n".join(kept))


def _positions(haystack: str, needles: list[str]) -> list[int]:
    return [haystack.find(needle) for needle in needles]


def test_page_count_is_that_of_the_published_profile(pages):
    assert 5 <= len(pages) <= 8


def test_every_paragraph_appears_once_and_in_order(narrative_text, publication):
    paragraphs = [squeeze(p.text) for p in publication.profile.narrative.paragraphs]
    assert len(paragraphs) == 29
    for paragraph in paragraphs:
        assert narrative_text.count(paragraph) == 1, paragraph[:60]
    positions = _positions(narrative_text, paragraphs)
    assert positions == sorted(positions)


def test_funding_note_follows_the_last_section(narrative_text, publication):
    note = squeeze(publication.profile.funding_note.text)
    assert narrative_text.count(note) == 1
    last = squeeze(publication.profile.narrative.paragraphs[-1].text)
    assert narrative_text.find(note) > narrative_text.find(last)


def test_every_outline_heading_appears_once_in_order(narrative_text, publication):
    headings = [squeeze(h.title.upper()) for h in publication.edition.outline.headings]
    # Each heading is found after the previous one; "Cyber-dependent crimes" is both a
    # section and an indicator, so count headings only where they stand alone.
    cursor = 0
    for heading in headings:
        found = narrative_text.find(heading, cursor)
        assert found >= 0, f"{heading} missing or out of order"
        cursor = found + len(heading)


def test_headings_precede_their_paragraphs(narrative_text, publication):
    for section in publication.profile.narrative.sections:
        heading = narrative_text.find(squeeze(section.section.title.upper()))
        first = squeeze(section.passages[0].paragraphs[0].text)
        assert 0 <= heading < narrative_text.find(first)


def test_bookmarks_mirror_the_outline(pdf_path, publication):
    expected = [(h.level, h.title) for h in publication.edition.outline.headings]
    actual = [(depth, title.casefold()) for depth, title in pdf_outline(pdf_path)]
    assert actual == [(depth, title.casefold()) for depth, title in expected]


def test_dashboard_shows_every_indicator_score_and_change(pages, publication, loaded):
    from publish.kinds.ocindex.figures import Standings
    figures = Standings(publication.edition).figures(publication.country.iso2)
    dashboard = squeeze(pages[0])
    for indicator in publication.edition.outline.indicators:
        figure = figures.indicators[indicator.key]
        row = squeeze(f"{indicator.title} {figure.score_text} {figure.change_text}")
        assert row in dashboard, row


def test_dashboard_shows_the_derived_figures(pages, publication):
    from publish.kinds.ocindex.figures import Standings
    figures = Standings(publication.edition).figures(publication.country.iso2)
    dashboard = squeeze(pages[0])
    for heading in publication.edition.outline.headings:
        figure = figures.headings[heading.key]
        assert squeeze(f"{figure.score_text} {figure.change_text}") in dashboard, heading.title
    for ranks in figures.ranks.values():
        for rank in ranks:
            assert f"of{rank.of}" in dashboard


def test_dashboard_matches_the_check_figures_of_layout_md(pages):
    # The figures LAYOUT.md gives for Kyrgyzstan 2025, as printed on page 1.
    dashboard = squeeze(pages[0])
    for printed in ("CRIMINALITY5.25-0.07", "85thof193intheworld", "25thof46inAsia",
                    "2ndof8inCentralAsiaandtheCaucasus", "CRIMINALMARKETS4.90+0.27",
                    "CRIMINALACTORS5.60-0.40", "RESILIENCE3.79-0.04", "141stof193intheworld",
                    "Bishkek", "7,224,614", "USD17,491million", "199,950km²"):
        assert printed in dashboard, printed


def test_metadata(pdf_path, publication):
    info = pdfinfo(pdf_path)
    assert info["Title"] == publication.title
    assert info["Author"] == "Global Initiative Against Transnational Organized Crime"
    assert publication.country.name in info["Subject"]
    assert publication.country.name in info["Keywords"]
    assert info["Tagged"] == "yes"
    assert info["Page size"].startswith("595.276 x 841.89")
    reader = PdfReader(str(pdf_path))
    assert reader.trailer["/Root"]["/Lang"] == publication.edition.language
    assert str(reader.trailer["/ID"][0]) == identifier(publication).decode()


def test_pdf_ua_identification(pdf_path):
    reader = PdfReader(str(pdf_path))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfuaid:part(="1"|>1<)', xmp)
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_every_font_is_embedded_and_from_fonts_folder(pdf_path):
    fonts = pdffonts(pdf_path)
    assert fonts
    for font in fonts:
        assert font["emb"] == "yes", font
        assert "Publish-Sans" in font["name"], font


def test_qpdf_check_passes(pdf_path):
    result = run("qpdf", "--check", str(pdf_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_heading_is_stranded_at_a_page_foot(pages, publication):
    headings = {h.title.upper() for h in publication.edition.outline.headings}
    running = _running_lines(publication)
    for number, page in enumerate(pages[1:], start=2):
        lines = [line.strip() for line in page.splitlines()
                 if line.strip() and line.strip() not in running and not line.startswith("Page ")]
        assert lines and lines[-1] not in headings, f"page {number} ends on {lines[-1]!r}"


def test_command_line_and_api_give_the_same_bytes(pdf_path, project, publication, tmp_path,
                                                  embargo):
    from publish.build import build
    written = build(project, [publication.profile.dir], tmp_path / "dist", release=True, allow_dirty=True,
                    now=embargo, cache_dir=tmp_path / "cache").written
    assert [path.name for path in written] == [
        "kyrgyzstan.pdf", "kyrgyzstan.epub", "kyrgyzstan-cover.png", "kyrgyzstan-thumbnail.png",
        "kyrgyzstan-press.pdf"]
    for path in written:
        assert path.read_bytes() == (pdf_path.parent / path.name).read_bytes(), path.name
