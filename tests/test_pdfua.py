"""The PDF/UA-1 checks (publish.core.pdfua), each shown to fail on a PDF broken on purpose for
its rule, and to pass on a sound one; and the real publications read in their tagged order,
as a screen reader reads them."""
from __future__ import annotations

import io
import re

import pikepdf
import pytest
import weasyprint
from conftest import PROJECT
from readback import squeeze

from publish.core.pdf import PDF_OPTIONS, render_pdf
from publish.core.pdfua import RULES, check_pdfua, tagged_text
from publish.core.sources import Project

# A document of every kind of thing the rules look at: running heads and folios (margin
# boxes), headings, paragraphs, a list, a table with header cells, an image with its
# alternative text.
SOUND = """<!DOCTYPE html><html lang="en"><head><title>Rules</title><style>
@font-face { font-family: Sans; src: url(fonts/OpenSans-Regular.ttf); }
@page { size: A6; margin: 15mm;
  @top-center { content: "A running head"; font: 7pt Sans; }
  @bottom-center { content: "Page " counter(page); font: 7pt Sans; } }
body { font: 9pt Sans; }
</style></head><body>
<h1>Title</h1><p>A paragraph.</p>
<h2>Section</h2><p>Another.</p><ul><li>An item</li></ul>
<table><tr><th scope="col">Head</th></tr><tr><td>Cell</td></tr></table>
<img alt="A grey square" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='20' height='20'%3E%3Crect width='20' height='20' fill='grey'/%3E%3C/svg%3E">
<h2 style="break-before: page">Second page</h2><p>The end.</p>
</body></html>"""

BASE_URL = f"{PROJECT.as_uri()}/"


@pytest.fixture(scope="module")
def sound() -> bytes:
    return render_pdf(SOUND, Project.at(PROJECT), b"0" * 16, strict=True)


def breaches(data: bytes, change=None) -> list[tuple[str, str]]:
    """The breaches of the PDF, after change(pdf) made to it by pikepdf."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if change is not None:
            change(pdf)
            out = io.BytesIO()
            pdf.save(out)
            return breaches(out.getvalue())
        return [(breach.rule, breach.message) for breach in check_pdfua(pdf)]


def elements(pdf, role: str) -> list[pikepdf.Dictionary]:
    found, pending = [], list(pdf.Root.StructTreeRoot.K)
    while pending:
        node = pending.pop(0)
        if isinstance(node, pikepdf.Dictionary) and "/S" in node:
            if node.S == pikepdf.Name("/" + role):
                found.append(node)
            kids = node.get("/K")
            pending.extend(kids if isinstance(kids, pikepdf.Array) else [kids])
    return found


def rules_of(found) -> set[str]:
    return {rule for rule, _ in found}


def test_a_sound_pdf_breaks_no_rule(sound):
    assert breaches(sound) == []


def test_weasyprint_alone_leaves_margin_boxes_neither_tagged_nor_artifacts():
    """What publish's finisher mends (WeasyPrint's issue #1836): the check sees it."""
    data = weasyprint.HTML(string=SOUND, base_url=BASE_URL).write_pdf(**PDF_OPTIONS)
    found = breaches(data)
    assert rules_of(found) == {"content"}
    assert [message.split(":")[0] for _, message in found] == ["page 1", "page 2"]


def test_content_painted_outside_any_marked_content_is_found(sound):
    def paint(pdf):
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"0 0 10 10 re f"), prepend=False)

    assert breaches(sound, paint) == [
        ("content", "page 1: 1 pieces of content neither tagged nor an artifact, in 0 "
                    "marked-content sequences that the structure tree does not reach")]


def test_an_untagged_document_is_found(sound):
    assert rules_of(breaches(sound, lambda pdf: pdf.Root.MarkInfo.__setitem__(
        "/Marked", False))) == {"tagged"}


def test_a_role_neither_standard_nor_mapped_is_found_and_a_mapped_one_is_not(sound):
    def rename(pdf):
        for paragraph in elements(pdf, "P"):
            paragraph.S = pikepdf.Name("/Paragraph")

    assert breaches(sound, rename) == [
        ("roles", "structure type /Paragraph is neither standard nor role-mapped to a "
                  "standard type")]

    def rename_and_map(pdf):
        rename(pdf)
        pdf.Root.StructTreeRoot.RoleMap = pikepdf.Dictionary(Paragraph=pikepdf.Name("/P"))

    assert breaches(sound, rename_and_map) == []


def test_headings_that_skip_a_level_or_do_not_start_at_h1_are_found(sound):
    def demote(level_from, level_to, index=0):
        def change(pdf):
            elements(pdf, level_from)[index].S = pikepdf.Name("/" + level_to)
        return change

    assert breaches(sound, demote("H2", "H3")) == [
        ("headings", "H3 follows H1: a heading level is skipped")]
    assert breaches(sound, demote("H1", "H2")) == [
        ("headings", "the first heading is H2, not H1")]


def test_a_figure_without_alternative_text_is_found(sound):
    def drop_alt(pdf):
        del elements(pdf, "Figure")[0]["/Alt"]

    assert breaches(sound, drop_alt) == [
        ("figures", "a Figure on page 1 has no alternative text (an <img> without alt, an <svg> "
                    "without <title>)")]


def test_a_table_without_header_cells_is_found(sound):
    def headers_to_data(pdf):
        for cell in elements(pdf, "TH"):
            cell.S = pikepdf.Name("/TD")

    assert breaches(sound, headers_to_data) == [("tables", "table 1 has no header cell (TH)")]


def test_data_cells_tied_to_no_header_are_found(sound):
    def untie(pdf):
        for cell in elements(pdf, "TD"):
            cell.A.Headers = pikepdf.Array()

    def untie_and_unscope(pdf):
        untie(pdf)
        for cell in elements(pdf, "TH"):
            del cell.A["/Scope"]

    assert breaches(sound, untie) == []  # the header's scope ties them
    assert breaches(sound, untie_and_unscope) == [
        ("tables", "table 1: 1 data cell(s) tied to no header, by Headers or by a header's "
                   "Scope")]


def test_a_document_without_language_is_found(sound):
    assert breaches(sound, lambda pdf: pdf.Root.__delitem__("/Lang")) == [
        ("language", "the catalog gives no /Lang")]


def test_a_title_not_shown_or_missing_is_found(sound):
    def hide(pdf):
        pdf.Root.ViewerPreferences.DisplayDocTitle = False

    def untitle(pdf):
        del pdf.docinfo["/Title"]

    assert rules_of(breaches(sound, hide)) == {"title"}
    assert rules_of(breaches(sound, untitle)) == {"title"}


def test_fonts_not_embedded_or_without_unicode_are_found(sound):
    def unmap(pdf):
        for thing in pdf.objects:
            if isinstance(thing, pikepdf.Dictionary) and "/ToUnicode" in thing:
                del thing["/ToUnicode"]

    def unembed(pdf):
        for thing in pdf.objects:
            if isinstance(thing, pikepdf.Dictionary) and "/FontFile2" in thing:
                del thing["/FontFile2"]

    for change, ending in ((unmap, "maps no glyph to Unicode (no /ToUnicode)"),
                           (unembed, "is not embedded")):
        found = breaches(sound, change)
        assert found and all(rule == "fonts" and message.endswith(ending)
                             for rule, message in found)


def test_xmp_without_the_pdfua_identifier_is_found(sound):
    def drop_identifier(pdf):
        xmp = pdf.Root.Metadata.read_bytes().replace(b'pdfuaid:part="1"', b"")
        pdf.Root.Metadata.write(xmp)

    assert breaches(sound, drop_identifier) == [
        ("identifier", "the XMP metadata do not say PDF/UA-1 (pdfuaid:part 1)")]


def test_header_cells_say_their_scope(sound):
    """WeasyPrint ties data cells to headers by /Headers; publish adds each header's scope,
    from its HTML (the sound document's header heads a column)."""
    with pikepdf.open(io.BytesIO(sound)) as pdf:
        assert [cell.A.Scope for cell in elements(pdf, "TH")] == ["/Column"]


def test_every_rule_is_shown_to_fail():
    """A rule added to the checker gets its broken PDF here too."""
    shown = {"tagged", "content", "roles", "headings", "figures", "tables", "language",
             "title", "fonts", "identifier"}
    assert set(RULES) == shown


# -- the real publications ---------------------------------------------------------------------

def test_the_sound_document_reads_in_order_without_its_margins(sound):
    with pikepdf.open(io.BytesIO(sound)) as pdf:
        read = [(role, text.strip()) for role, text in tagged_text(pdf)]
    assert read == [("H1", "Title"), ("P", "A paragraph."), ("H2", "Section"),
                    ("P", "Another."), ("Lbl", "•"), ("LI", "An item"), ("TH", "Head"),
                    ("TD", "Cell"), ("H2", "Second page"), ("P", "The end.")]


@pytest.fixture(scope="session")
def profile_read(pdf_path) -> list[tuple[str, str]]:
    """The released Kyrgyzstan profile as a screen reader reads it: (block, text) in the
    structure tree's order."""
    with pikepdf.open(pdf_path) as pdf:
        assert check_pdfua(pdf) == []
        return tagged_text(pdf)


def test_the_profile_keeps_every_rule(profile_read):
    assert profile_read  # the check itself ran in the fixture


def test_the_profile_reads_without_running_heads_page_numbers_or_marks(profile_read,
                                                                      publication):
    running = {publication.country.name.upper(), publication.edition.title}
    # The running head's words are read once: the title, on the first page.
    assert [(block, text) for block, text in profile_read if text.strip() in running] \
        == [("H1", publication.country.name.upper())]
    for _, text in profile_read:
        assert not re.fullmatch(r"Page \d+ of \d+", text.strip()), text
        assert "EMBARGOED" not in text


def test_the_profile_reads_dashboard_then_each_heading_with_its_paragraphs(profile_read,
                                                                          publication):
    outline = publication.edition.outline.headings
    headings = [(index, block, squeeze(text)) for index, (block, text)
                in enumerate(profile_read) if re.fullmatch(r"H[1-6]", block)]
    # The dashboard comes first: the country's name as H1, then its panels' headings.
    assert headings[0][1:] == ("H1", squeeze(publication.country.name.upper()))
    narrative = headings[-len(outline):]
    assert [text for _, _, text in narrative] == [squeeze(h.title.upper()) for h in outline]
    # Each at its outline level, one below the title's.
    assert [int(block[1]) - h.level for (_, block, _), h in zip(narrative, outline, strict=True)] \
        == [1] * len(outline)
    assert narrative[0][0] > headings[1][0] > 0
    # Under each heading, its own paragraphs, whole and in order, before the next heading.
    starts = {text: index for index, _, text in narrative}
    ends = [index for index, _, _ in narrative[1:]] + [len(profile_read)]
    spans = {text: squeeze(" ".join(t for _, t in profile_read[start + 1:end]))
             for (start, _, text), end in zip(narrative, ends, strict=True)}
    for section in publication.profile.narrative.sections:
        title = squeeze(section.section.title.upper())
        assert title in starts
        paragraphs = [squeeze(p.text) for passage in section.passages for p in passage.paragraphs]
        under = "".join(spans[t] for t in list(spans)[list(spans).index(title):])
        positions = [under.find(paragraph) for paragraph in paragraphs]
        assert -1 not in positions and positions == sorted(positions), title
