"""The book kind: a test book built through the kind and the core, and read back.

tests/books/good is a complete, clean book (three chapters and the generated chapter of
problem codes); it is rendered once per session, to a PDF and an EPUB, with the real
WeasyPrint and ebooklib, and the outputs are read back with poppler, pypdf and lxml. Each
folder of tests/books/broken holds only the files that differ from the good book, and
expected.txt, the problems it must give (PUBLISH_REGENERATE_GOLDEN=1 rewrites them).
"""
from __future__ import annotations

import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_cli
from lxml import etree
from pypdf import PdfReader
from readback import pdf_outline, pdfinfo, run, squeeze
from readback import pdf_pages_text as pdf_pages

from publish.core.kind import Rendering
from publish.core.sources import Project
from publish.core.verify import verify_epub, verify_pdf
from publish.kinds.book import KIND, BookPublication

MAIN = Path(__file__).resolve().parent.parent
BOOKS = Path(__file__).resolve().parent / "books"
GOOD = BOOKS / "good"
BROKEN = BOOKS / "broken"
FOLDER = "content/guide"
MADE = datetime(2025, 3, 14, tzinfo=UTC)
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"

# The book's bookmarks: (depth, title), in order.
OUTLINE = [
    (1, "Contents"),
    (1, "Getting started"),
    (2, "The pipeline"),
    (3, "What the checks cover"),
    (2, "Where files go"),
    (1, "Writing chapters"),
    (2, "Headings"),
    (3, "Ids of headings"),
    (2, "Tables"),
    (2, "Code"),
    (1, "Checking the book"),
    (2, "Cross-references"),
    (2, "External links"),
    (1, "Problem codes"),
    (2, "Loading files"),
    (2, "The outline of an edition"),
    (2, "Validating content"),
    (2, "Books"),
    (2, "Rendering"),
    (2, "Putting outputs in place"),
]
# The words of the SVG image of the first chapter.
IMAGE_WORDS = ["MarkdownchecksHTMLPDFEPUB"]
DOCUMENTS = ["cover.xhtml", "title.xhtml", "chapter-1.xhtml", "chapter-2.xhtml", "chapter-3.xhtml",
             "chapter-4.xhtml"]


def make_project(root: Path, overlay: Path | None = None) -> Project:
    """A project holding the good book (as content/guide), changed by `overlay`'s files."""
    (root / "styles").mkdir(parents=True)
    shutil.copy(MAIN / "styles/fonts.css", root / "styles")
    shutil.copytree(MAIN / "fonts", root / "fonts")
    shutil.copytree(GOOD, root / FOLDER)
    if overlay is not None:
        shutil.copytree(overlay, root / FOLDER, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("expected.txt"))
    return Project.at(root)


@dataclass
class Built:
    project: Project
    publication: BookPublication
    html: str
    pdf: Path
    epub: Path

    @property
    def book(self):
        return self.publication.book

    def reader(self) -> PdfReader:
        return PdfReader(str(self.pdf))

    def epub_file(self, name: str) -> bytes:
        with zipfile.ZipFile(self.epub) as archive:
            return archive.read(f"EPUB/{name}")

    def epub_tree(self, name: str):
        return etree.fromstring(self.epub_file(name))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """The good book, released once through the command line, as its publisher would:
    strict, verified, EPUBCheck included."""
    root = tmp_path_factory.mktemp("book")
    project = make_project(root)
    code, out, err = run_cli("--project", str(root), "release", "--allow-dirty", "--now",
                             "2026-01-01T00:00:00Z", "--dist", str(root / "dist"))
    assert code == 0, err
    selected = KIND.select(project, project.root / FOLDER / "book.yaml", None)
    (publication,) = selected.publications()
    html = publication.print_html(Rendering(project, None, MADE))
    return Built(project, publication, html, root / "dist/guide/guide.pdf",
                 root / "dist/guide/guide.epub")


def bookmark_pages(built: Built) -> list[tuple[int, str, int]]:
    """(depth, title, page) of every bookmark, pages counted from 1."""
    reader = built.reader()
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 1)
    return found


def page_texts(built: Built, *, body_only: bool = False) -> list[str]:
    """Each page's text in content order; `body_only`: without the running head and page
    number (the page's top margin, 22 mm)."""
    crop = ["-x", "0", "-y", "63", "-W", "1000", "-H", "1000"] if body_only else []
    result = run("pdftotext", "-raw", "-r", "72", *crop, "-enc", "UTF-8", str(built.pdf), "-")
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\f")[:-1]


def chapter_pages(built: Built) -> list[range]:
    """The pages of each chapter (page numbers from 1), from the bookmarks."""
    starts = [page for depth, title, page in bookmark_pages(built)
              if depth == 1 and title != "Contents"]
    count = len(built.reader().pages)
    return [range(start, end) for start, end in zip(starts, [*starts[1:], count + 1],
                                                    strict=True)]


# -- the PDF ---------------------------------------------------------------------------------

def test_bookmarks_are_the_chapters_and_their_headings_in_order(built):
    assert pdf_outline(built.pdf) == OUTLINE


def test_every_chapter_opens_on_a_right_hand_page(built):
    opening = [page for depth, title, page in bookmark_pages(built) if depth == 1]
    assert opening == [3, 5, 7, 11, 13]
    assert all(page % 2 == 1 for page in opening)


def test_the_printed_contents_give_the_pages_of_the_bookmarks(built):
    contents_page = bookmark_pages(built)[0][2]
    result = run("pdftotext", "-layout", "-f", str(contents_page), "-l", str(contents_page),
                 "-enc", "UTF-8", str(built.pdf), "-")
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[:2] == [str(contents_page), "Contents"]
    printed = []
    for line in lines[2:]:
        match = re.fullmatch(r"(.+?)[\s.]+(\d+)", line)
        assert match, line
        printed.append((match.group(1), int(match.group(2))))
    expected = [(title, page) for depth, title, page in bookmark_pages(built)
                if depth <= 2 and title != "Contents"]
    assert printed == expected


def test_running_heads_and_page_numbers(built):
    """The chapter's title and the page's number in the top margin: no head where a chapter
    opens, nothing on the title page and the pages left blank."""
    result = run("pdftotext", "-raw", "-r", "72", "-x", "0", "-y", "0", "-W", "1000", "-H",
                 "62", "-enc", "UTF-8", str(built.pdf), "-")
    heads = [" ".join(page.split()) for page in result.stdout.split("\f")[:-1]]
    assert heads == ["", "", "3", "", "5", "6 Getting started", "7", "8 Writing chapters",
                     "Writing chapters 9", "", "11", "", "13", "14 Problem codes",
                     "Problem codes 15", "16 Problem codes", "Problem codes 17",
                     "18 Problem codes"]


def test_every_footnote_is_at_the_foot_of_the_page_that_calls_it(built):
    pages = [squeeze(text) for text in page_texts(built, body_only=True)]
    checked = 0
    for chapter, pages_of in zip(built.book.chapters, chapter_pages(built), strict=True):
        for note, before in first_calls(chapter):
            note_text = f"{note.number}{squeeze(note_words(note))}"
            holding = [page for page in pages_of if note_text in pages[page - 1]]
            assert len(holding) == 1, (chapter.title, note.label)
            call = f"{squeeze(before)[-10:]}{note.number}"
            assert call in pages[holding[0] - 1], (chapter.title, note.label, call)
            checked += 1
    assert checked == 6


def first_calls(chapter):
    """Each note of a chapter with the words right before its first call."""
    for token in chapter.tokens:
        children = token.children or []
        for index, child in enumerate(children):
            if child.type == "footnote_ref" and child.meta["subId"] == 0:
                before = "".join(c.content for c in children[:index] if c.type == "text")
                yield chapter.notes[child.meta["label"]], before


def note_words(note) -> str:
    return " ".join(child.content for token in note.tokens
                    for child in token.children or [] if child.type in ("text", "code_inline"))


def test_every_cross_reference_leads_to_its_target_and_prints_its_page(built):
    reader = built.reader()
    targets = {name: reader.get_destination_page_number(destination) + 1
               for name, destination in reader.named_destinations.items()}
    pages = [squeeze(text) for text in page_texts(built)]
    wanted = {xref.target for chapter in built.book.chapters for xref in chapter.xrefs}
    linked = set()
    for number, page in enumerate(reader.pages, start=1):
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            name = annotation.get("/Dest")
            if annotation["/Subtype"] != "/Link" or name is None or number == 3:
                continue  # external links, and the contents' own
            assert name in targets, name
            assert f"(page{targets[name]})" in pages[number - 1], (number, name)
            linked.add(name)
    assert linked == wanted == {"fig-pipeline", "writing-tables", "tab-keys",
                                "checking-the-book", "problem-codes", "pipeline",
                                "getting-started", "fig-square"}


def test_figures_and_tables_are_numbered_with_their_captions(built):
    text = " ".join(" ".join(page.split()) for page in page_texts(built))
    assert "Figure 1. The publishing pipeline, from Markdown to two outputs" in text
    assert "Figure 2. A square, to test images in subfolders" in text
    assert "Table 1. The keys of book.yaml, and what each one does" in text
    assert "Table 2. Codes L: loading files" in text


def test_the_long_table_repeats_its_header_on_the_next_page(built):
    pages = page_texts(built)
    header = "Key Required What it gives"
    assert [n for n, page in enumerate(pages, 1) if header in " ".join(page.split())] == [7, 8, 9]


def test_the_long_code_line_wraps_inside_the_page(built):
    result = run("pdftotext", "-bbox", "-f", "9", "-l", "9", str(built.pdf), "-")
    words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">'
                       r'([^<]*)</word>', result.stdout)
    texts = [text for _, _, text in words]
    first = texts.index("kind:")
    last = next(index for index, text in enumerate(texts) if text.endswith("on-and-on.md]"))
    # The name, longer than a line, is cut where it had to be: its end is on a line of its own.
    assert not texts[last].startswith("a-very-long-name")
    assert float(words[last][0]) > float(words[last - 1][0])
    width = float(re.search(r'<page width="([\d.]+)"', result.stdout).group(1))
    inside = width - (18 + 3) / 25.4 * 72  # the outer margin and the block's padding
    assert max(float(x) for _, x, _ in words[first:last + 1]) < inside


def test_print_metadata_and_fonts(built):
    info = pdfinfo(built.pdf)
    assert info["Title"] == "A Field Guide to Publishing"
    assert info["Author"] == "Ada Writer, Ben Editor"
    assert info["Subject"] == "A small book that exercises every feature of the book kind."
    assert info["Keywords"] == "publishing, testing"
    assert info["Creator"].startswith("publish ")
    assert info["Tagged"] == "yes"
    assert verify_pdf(built.pdf.read_bytes(), None) == []


def test_the_print_document_never_skips_a_heading_level(built):
    tree = etree.HTML(built.html.encode())
    levels = [int(element.tag[1]) for element in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


# -- the EPUB --------------------------------------------------------------------------------

def test_epubcheck_finds_nothing(built):
    assert verify_epub(built.epub.read_bytes()) == []


def test_the_spine_is_the_cover_the_title_page_then_the_chapters(built):
    opf = etree.fromstring(built.epub_file("content.opf"))
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", ns)}
    spine = [hrefs[ref.get("idref")] for ref in opf.iterfind(".//opf:itemref", ns)]
    assert spine == DOCUMENTS


def test_the_navigation_lists_chapters_and_sections(built):
    nav = built.epub_tree("nav.xhtml")
    toc = next(n for n in nav.iter(f"{XHTML}nav") if n.get(EPUB_TYPE) == "toc")

    def entries(ol, depth):
        for li in ol.findall(f"{XHTML}li"):
            link = li.find(f"{XHTML}a")
            if link is None:
                link = li.find(f"{XHTML}span")
            yield depth, link.text
            for child in li.findall(f"{XHTML}ol"):
                yield from entries(child, depth + 1)

    assert list(entries(toc.find(f"{XHTML}ol"), 1)) == OUTLINE[1:]


def test_every_epub_link_leads_to_an_element_of_its_document(built):
    ids = {name: {e.get("id") for e in built.epub_tree(name).iter() if e.get("id")}
           for name in DOCUMENTS}
    checked = 0
    for name in [*DOCUMENTS, "nav.xhtml"]:
        for link in built.epub_tree(name).iter(f"{XHTML}a"):
            href = link.get("href")
            if href.startswith(("https:", "mailto:")):
                continue
            document, _, fragment = href.partition("#")
            document = document or name
            assert document in ids, href
            assert not fragment or fragment in ids[document], (name, href)
            checked += 1
    # The navigation's 19 entries and 2 landmarks (the cover, the text), 12 cross-references,
    # 7 calls of notes and 6 notes' links back.
    assert checked == 19 + 2 + 12 + 7 + 6


def test_every_epub_footnote_is_a_note_that_links_back(built):
    for chapter in built.book.chapters:
        tree = built.epub_tree(chapter.document)
        by_id = {e.get("id"): e for e in tree.iter() if e.get("id")}
        refs = [a for a in tree.iter(f"{XHTML}a") if a.get(EPUB_TYPE) == "noteref"]
        asides = [a for a in tree.iter(f"{XHTML}aside") if a.get(EPUB_TYPE) == "footnote"]
        assert len(asides) == len(chapter.referenced_notes())
        for ref in refs:
            note = by_id[ref.get("href").removeprefix("#")]
            assert note in asides and ref.text == note.get("id").rsplit("-", 1)[1]
        for aside in asides:
            (back,) = [a for a in aside.iter(f"{XHTML}a") if a.get("role") == "doc-backlink"]
            assert by_id[back.get("href").removeprefix("#")] in refs


def test_the_epub_carries_the_figures_images_and_fonts(built):
    with zipfile.ZipFile(built.epub) as archive:
        names = set(archive.namelist())
    assert {"EPUB/media/images/pipeline.svg", "EPUB/media/images/square.png",
            "EPUB/fonts/OpenSans-Regular.ttf", "EPUB/styles/fonts.css",
            "EPUB/styles/book-epub.css"} <= names
    images = [(img.get("src"), img.get("alt")) for img in
              built.epub_tree("chapter-1.xhtml").iter(f"{XHTML}img")]
    assert images == [("media/images/pipeline.svg", "Four boxes joined by arrows: Markdown, "
                                                    "checks, HTML, then PDF and EPUB")]


def test_a_review_copys_epub_title_carries_the_mark(built):
    spec = built.publication.epub(Rendering(built.project, "REVIEW COPY", MADE))
    assert spec.title == "A Field Guide to Publishing (REVIEW COPY)"


# -- both ------------------------------------------------------------------------------------

def test_pdf_and_epub_carry_the_same_text_chapter_by_chapter(built):
    """Squeezed of white space, the PDF's pages of a chapter and its EPUB document hold the
    same characters in the same order, once the notes (at the foot of a page, or at the end
    of the chapter), the printed "(page N)" of cross-references and the header a table
    repeats on each page are taken out."""
    pages = page_texts(built, body_only=True)
    for chapter, pages_of in zip(built.book.chapters, chapter_pages(built), strict=True):
        printed = re.sub(r"\(page\d+\)", "", squeeze("".join(pages[p - 1] for p in pages_of)))
        tree = built.epub_tree(chapter.document)
        asides = [a for a in tree.iter(f"{XHTML}aside")]
        notes = [squeeze("".join(aside.itertext())) for aside in asides]
        for aside in asides:
            aside.getparent().remove(aside)
        screen = squeeze("".join(tree.find(f"{XHTML}body").itertext()))
        for note in notes:
            assert printed.count(note) == 1, note
            printed = printed.replace(note, "")
        for words in IMAGE_WORDS:  # an SVG's words are text in the PDF
            printed = printed.replace(words, "", 1)
        for header in {squeeze("".join(h.itertext())) for h in tree.iter(f"{XHTML}thead")}:
            printed = printed.replace(header, "")
            screen = screen.replace(header, "")
        assert printed == screen, chapter.title


# -- books with problems ---------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir()))
def test_a_broken_book_gives_its_problems_with_file_and_line(case, tmp_path):
    project = make_project(tmp_path, BROKEN / case)
    selected = KIND.select(project, project.root / FOLDER / "book.yaml", None)
    assert selected.publications() == []
    (problems,) = selected.failed.values()
    assert all(p.file is not None and p.line is not None for p in problems)
    found = "\n".join(p.format(project.root) for p in problems) + "\n"
    golden = BROKEN / case / "expected.txt"
    if os.environ.get("PUBLISH_REGENERATE_GOLDEN"):
        golden.write_text(found, encoding="utf-8")
    assert found == golden.read_text(encoding="utf-8")
    assert case.split("-")[0].upper() in found


# -- the same pipeline as every kind ---------------------------------------------------------

def test_a_book_is_embargoed_marked_cached_and_summed_like_any_publication(tmp_path):
    root = tmp_path / "project"
    make_project(root)
    config = root / FOLDER / "book.yaml"
    config.write_text(config.read_text() + 'embargo: "2030-01-01T09:00:00+01:00"\n')
    now = ("--now", "2029-12-31T00:00:00Z")
    code, _, err = run_cli("--project", str(root), "release", "--allow-dirty", *now)
    assert code == 3 and "guide" in err and not (root / "dist").exists()
    code, out, err = run_cli("--project", str(root), "build", *now)
    assert code == 0 and "1 built" in out, err
    mark = squeeze("EMBARGOED - NOT FOR DISTRIBUTION UNTIL 2030-01-01T09:00:00+01:00")
    pages = [squeeze(page) for page in pdf_pages(root / "dist/guide/guide-draft.pdf")]
    assert pages and all(mark in page for page in pages)
    assert run_cli("--project", str(root), "build", *now)[1].count("1 unchanged") == 1
    chapter = root / FOLDER / "chapters/writing.md"
    chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")
    code, out, _ = run_cli("--project", str(root), "build", *now)
    assert code == 0 and "1 built" in out
    check = run("sh", "-c", f"cd '{root / 'dist'}' && sha256sum --strict -c SHA256SUMS")
    assert check.returncode == 0 and check.stdout.count(": OK") == 7, check.stdout
    assert "guide/guide-draft-cover.png: OK" in check.stdout and "index.html: OK" in check.stdout
