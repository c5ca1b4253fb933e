"""publish's own manual, a book of content/manual/, released once through the command line
like any publication, and read back: its chapters, and a reference of every problem code
with its hint that is generated from the catalogue, never typed."""
from __future__ import annotations

import html
import importlib
import re
import zipfile

import pytest
import yaml
from conftest import PROJECT
from lxml import etree
from readback import pdf_outline, pdf_pages_text, squeeze

from publish.core.problems import CODES
from publish.kinds import BUILTIN

MANUAL = PROJECT / "content/manual"


@pytest.fixture(scope="session")
def every_code() -> dict[str, tuple[str, str]]:
    for source in BUILTIN.values():  # each kind registers its codes when imported
        importlib.import_module(source.partition(":")[0])
    return dict(CODES)


def chapter_titles() -> list[str]:
    """The titles of the chapters book.yaml lists, in its order: each file's '# ' heading
    (without an id), and the generated reference's."""
    titles = []
    for entry in yaml.safe_load((MANUAL / "book.yaml").read_text())["chapters"]:
        if isinstance(entry, dict):
            titles.append("Problem codes")
            continue
        heading = next(line for line in (MANUAL / entry).read_text().splitlines()
                       if line.startswith("# "))
        titles.append(re.sub(r"\s*\{#[^}]*\}\s*$", "", heading[2:]).strip())
    return titles


def test_the_manual_has_six_chapters_or_more_in_the_order_of_book_yaml(manual):
    titles = chapter_titles()
    assert len(titles) >= 6 and titles[-1] == "Problem codes"
    bookmarks = [title for depth, title in pdf_outline(manual / "manual.pdf") if depth == 1]
    assert bookmarks == ["Contents", *titles]
    with zipfile.ZipFile(manual / "manual.epub") as archive:
        nav = archive.read("EPUB/nav.xhtml").decode()
    places = [nav.find(f">{html.escape(title, quote=False)}<") for title in titles]
    assert all(place > 0 for place in places) and places == sorted(places), places


def test_the_manual_documents_every_problem_code_with_its_hint(manual, every_code):
    assert {"B004", "L014", "V021", "R005", "D002"} <= set(every_code)  # every kind's too
    printed = squeeze("".join(pdf_pages_text(manual / "manual.pdf")))
    with zipfile.ZipFile(manual / "manual.epub") as archive:
        epub = squeeze("".join("".join(etree.fromstring(archive.read(name)).itertext())
                               for name in archive.namelist() if name.endswith(".xhtml")))
    for code, (what, hint) in every_code.items():
        for text in (code, what, hint):
            assert squeeze(text) in printed, (code, text)
            assert squeeze(text) in epub, (code, text)
