"""The fonts a process's renders share (publish/core/pdf.py, SharedFonts): a render on them
gives what a render on fresh fonts gives, however many documents the process rendered before."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pikepdf
import pytest
from conftest import PROJECT

from publish.core import pdf
from publish.core.pdf import render_pdf
from publish.core.sources import Project


def page(declared: bool) -> str:
    """A document in the family Face, which it declares with an @font-face rule or not."""
    face = '@font-face { font-family: Face; src: url("fonts/Face.ttf"); }' if declared else ""
    return f"""<!DOCTYPE html><html lang="en"><head><title>Fonts</title><style>{face}
body {{ font-family: Face, serif; }}</style></head><body><p>Hello</p></body></html>"""


def render(html: str, project: Project) -> bytes:
    return render_pdf(html, project, b"shared-fonts", strict=False)


def fonts_of(data: bytes) -> set[str]:
    """The fonts a PDF embeds, by name without the subset's tag."""
    with pikepdf.open(io.BytesIO(data)) as document:
        return {str(font.BaseFont).split("+")[-1] for page in document.pages
                for font in page.Resources.Font.values()}


@pytest.fixture
def project(tmp_path) -> Project:
    (tmp_path / "fonts").mkdir()
    shutil.copy(PROJECT / "fonts/OpenSans-Regular.ttf", tmp_path / "fonts/Face.ttf")
    return Project.at(tmp_path)


FRESH = """
import sys
from pathlib import Path
from publish.core.pdf import render_pdf
from publish.core.sources import Project
html, project, out = sys.argv[1:]
Path(out).write_bytes(render_pdf(Path(html).read_text(), Project.at(project), b"shared-fonts",
                                 strict=False))
"""


def rendered_fresh(html: str, project: Project, tmp_path) -> bytes:
    """The PDF a process of its own renders, on fresh fonts."""
    (tmp_path / "page.html").write_text(html)
    subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "page.html"), str(project.root),
                    str(tmp_path / "fresh.pdf")], check=True, timeout=120)
    return (tmp_path / "fresh.pdf").read_bytes()


def test_a_font_file_changed_between_renders_is_read_again(project, tmp_path):
    html = page(declared=True)
    regular = render(html, project)
    shutil.copy(PROJECT / "fonts/OpenSans-Bold.ttf", project.root / "fonts/Face.ttf")
    bold = render(html, project)
    assert bold != regular and bold == rendered_fresh(html, project, tmp_path)


def test_a_face_another_document_declared_stands_for_nothing(project, monkeypatch):
    """Documents that declare their stylesheets alike share fonts; should two that share them
    declare different faces all the same, the later one is laid out again on fresh fonts."""
    monkeypatch.setattr(pdf, "_declared_stylesheets", lambda html: ())
    alone = render(page(declared=False), project)
    assert fonts_of(alone) != {"Face"}  # not declared: the family falls back to a serif
    assert fonts_of(render(page(declared=True), project)) == {"Face"}
    assert render(page(declared=False), project) == alone


def test_documents_declared_alike_share_their_fonts(project, monkeypatch):
    made = []

    class Counted(pdf.SharedFonts):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(pdf, "SharedFonts", Counted)
    for _ in range(3):
        render(page(declared=True), project)
    assert len(made) == 1
