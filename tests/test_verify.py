"""The verification every output passes before dist/, each check shown to fail on a file broken
on purpose: a page without the review mark, a released file with one, a font left out, a
damaged structure; EPUBCheck's verdicts through the long-lived server equal its command line's.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf
import pytest
from conftest import PROJECT
from readback import epubcheck

from publish.core import verify
from publish.core.pdf import render_pdf
from publish.core.sources import Project
from publish.core.verify import verify_epub, verify_pdf

MARK = "EMBARGOED UNTIL 2027-01-01 - REVIEW COPY"

PAGES = """<!DOCTYPE html><html lang="en"><head><title>Three pages</title><style>
@font-face { font-family: Sans; src: url(fonts/OpenSans-Regular.ttf); }
@page { size: A6; margin: 15mm; }
body { font: 10pt Sans; }
p + p { break-before: page; }
</style></head><body><p>One</p><p>Two</p><p>Three</p></body></html>"""


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """The same three pages as a review copy (marked) and as a released file (unmarked)."""
    project = Project.at(PROJECT)
    return {"marked": render_pdf(PAGES, project, b"0" * 16, strict=True, mark=MARK),
            "released": render_pdf(PAGES, project, b"0" * 16, strict=True)}


def messages(problems) -> list[str]:
    return [problem.message for problem in problems]


def edited(data: bytes, change) -> bytes:
    """The PDF with change(pdf) made to it by pikepdf, saved again."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def test_sound_pdfs_pass(pdfs):
    assert verify_pdf(pdfs["marked"], MARK) == []
    assert verify_pdf(pdfs["released"], None) == []


def test_a_review_copy_page_without_its_mark_is_found(pdfs):
    def drop_mark_of_page_two(pdf):
        with pikepdf.open(io.BytesIO(pdfs["released"])) as plain:
            pdf.pages[1] = plain.pages[1]

    found = verify_pdf(edited(pdfs["marked"], drop_mark_of_page_two), MARK)
    # (The page, taken from another file, is also content its structure tree does not reach:
    # R006, which tests/test_pdfua.py shows.)
    assert messages(p for p in found if p.code == "R002") == [f"page 2 lacks the mark '{MARK}'"]


def test_a_released_file_carrying_a_mark_is_found(pdfs):
    found = messages(verify_pdf(pdfs["marked"], None))
    assert found == [f"page {n} of a released file carries an embargo mark" for n in (1, 2, 3)]


def test_a_font_left_out_is_found(pdfs):
    def unembed(pdf):
        for thing in pdf.objects:
            if isinstance(thing, pikepdf.Dictionary) and "/FontFile2" in thing:
                del thing["/FontFile2"]

    found = verify_pdf(edited(pdfs["released"], unembed), None)
    assert found and all(problem.code == "R006" and problem.message.startswith("fonts: font ")
                         and problem.message.endswith(" is not embedded") for problem in found)


def test_a_damaged_stream_is_found(pdfs):
    def damage(pdf):
        stream = pdf.pages[0].Contents
        stream.write(b"\x00not deflated at all\xff" * 8, filter=pikepdf.Name.FlateDecode)

    found = messages(verify_pdf(edited(pdfs["released"], damage), None))
    assert any(message.startswith("qpdf check: ") for message in found), found


def test_a_truncated_file_is_found(pdfs):
    data = pdfs["released"]
    found = messages(verify_pdf(data[: len(data) // 2], None))
    assert any(message.startswith("qpdf check: ") for message in found), found


# -- EPUBCheck ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def epub(tmp_path_factory) -> Path:
    """A sound EPUB: the manual's, as the build makes it."""
    from conftest import run_cli
    dist = tmp_path_factory.mktemp("manual") / "dist"
    code, _, err = run_cli("--project", str(PROJECT), "build", "content/manual", "--dist",
                           str(dist), "--cache", str(dist.parent / "cache"))
    assert code == 0, err
    return next(dist.rglob("*.epub"))


def broken(epub: Path, folder: Path) -> Path:
    """The EPUB with its mimetype stored last and its navigation document gone."""
    with zipfile.ZipFile(epub) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    path = folder / "broken.epub"
    with zipfile.ZipFile(path, "w") as target:
        for info, data in [*entries[1:], entries[0]]:
            if not info.filename.endswith("nav.xhtml"):
                target.writestr(info, data)
    return path


def test_the_server_gives_epubchecks_own_verdicts(epub, tmp_path):
    bad = broken(epub, tmp_path)
    expected = epubcheck(bad, tmp_path / "report.json")
    assert expected, "the broken EPUB should have problems"
    found = messages(verify._verify_epub_file(bad, bad))  # the same file, for the same paths
    assert sorted(found) == sorted(
        f"EPUBCheck {m['severity'].lower()} {m['ID']}: {m['message']}"
        f" ({', '.join(location['path'] for location in m.get('locations', [])[:2])})"
        for m in expected if m["severity"] in ("FATAL", "ERROR", "WARNING"))
    assert verify_epub(epub.read_bytes()) == []


def test_one_server_checks_epub_after_epub(epub):
    verify_epub(epub.read_bytes())
    server = verify._EpubCheckServer._current
    assert server is not None and server.process.poll() is None
    assert verify_epub(epub.read_bytes()) == []
    assert verify._EpubCheckServer._current is server


def test_without_a_server_each_epub_gets_a_jvm(epub, tmp_path, monkeypatch):
    """Where the server cannot run (a Java without its compiler, here a source that does not
    compile), EPUBCheck still runs, a JVM per EPUB, with the same verdicts."""
    source = tmp_path / "EpubCheckServer.java"
    source.write_text("this is not Java\n")
    monkeypatch.setattr(verify, "SERVER_SOURCE", source)
    monkeypatch.setattr(verify._EpubCheckServer, "_current", None)
    monkeypatch.setattr(verify._EpubCheckServer, "_unavailable", False)
    assert verify_epub(epub.read_bytes()) == []
    assert verify._EpubCheckServer._unavailable
    bad = broken(epub, tmp_path)
    assert any("PKG-006" in message for message in messages(verify_epub(bad.read_bytes())))
