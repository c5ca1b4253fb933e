"""The faces of its fonts an EPUB carries (publish/core/faces.py): those some text can ask
for, matched as CSS Fonts 4 matches them; a face nothing asks for is left out with its rule."""
from __future__ import annotations

import zipfile

import pytest

from publish.core.faces import faces_of, matched_weight, requests, shown_faces, without_faces

FONTS_CSS = """/* a family of six faces */
@font-face { font-family: "Sans"; font-style: normal; font-weight: 400; src: url(../fonts/R.ttf); }
@font-face { font-family: "Sans"; font-style: italic; font-weight: 400; src: url(../fonts/I.ttf); }
@font-face { font-family: "Sans"; font-style: normal; font-weight: 600; src: url(../fonts/S.ttf); }
@font-face { font-family: "Sans"; font-style: italic; font-weight: 600; src: url(../fonts/SI.ttf); }
@font-face { font-family: "Sans"; font-style: normal; font-weight: 700; src: url(../fonts/B.ttf); }
@font-face { font-family: "Sans"; font-style: italic; font-weight: 700; src: url(../fonts/BI.ttf); }
"""
FACES = faces_of("styles/fonts.css", FONTS_CSS)


def shown(stylesheet: str = "", document: str = "<p>text</p>", image: str = "") -> set[str]:
    asked = requests([FONTS_CSS, stylesheet], [document], [image] if image else [])
    return {face.file.removeprefix("fonts/").removesuffix(".ttf")
            for face in shown_faces(FACES, asked)}


def test_the_rules_name_their_files_as_the_epub_holds_them():
    assert [(f.family, f.weight, f.italic, f.file) for f in FACES[:3]] == [
        ("Sans", 400, False, "fonts/R.ttf"), ("Sans", 400, True, "fonts/I.ttf"),
        ("Sans", 600, False, "fonts/S.ttf")]


@pytest.mark.parametrize("desired, available, chosen", [
    (400, [400, 600, 700], 400),
    (500, [400, 600, 700], 400),   # 400 to 500: up to 500, then below, then above
    (450, [300, 500, 700], 500),
    (300, [400, 700], 400),        # under 400: below, then above
    (300, [200, 400], 200),
    (800, [400, 600, 700], 700),   # over 500: above, then below
    (600, [400, 700], 700),
])
def test_a_weight_is_matched_as_css_fonts_4_matches_it(desired, available, chosen):
    assert matched_weight(desired, available) == chosen


def test_plain_text_asks_for_the_regular_face_alone():
    assert shown() == {"R"}


@pytest.mark.parametrize("stylesheet, document, image, faces", [
    (".a { font-weight: bold }", "<p/>", "", {"R", "B"}),
    (".a { font-weight: 600 }", "<p/>", "", {"R", "S"}),
    (".a { font-weight: 500 }", "<p/>", "", {"R"}),
    (".a { font-style: italic }", "<p/>", "", {"R", "I"}),
    (".a { font: italic 600 1em/1.2 \"Sans\" }", "<p/>", "", {"R", "I", "S", "SI"}),
    ("", "<h2>A heading</h2>", "", {"R", "B"}),
    ("", "<p><em>stress</em></p>", "", {"R", "I"}),
    ("", "<p><strong>strong</strong></p>", "", {"R", "B"}),     # bolder than 400
    (".a { font-weight: 600 } .b { font-weight: bolder }", "<p/>", "", {"R", "S", "B"}),
    ("", "<p style=\"font-weight: 700\">x</p>", "", {"R", "B"}),
    ("", "<p/>", "<svg><text font-weight=\"600\">1</text></svg>", {"R", "S"}),
    (".a { font-weight: var(--w) }", "<p/>", "", {"R", "I", "S", "SI", "B", "BI"}),
    ("/* .a { font-weight: 700 } */", "<p/>", "", {"R"}),   # a comment asks nothing
])
def test_what_asks_for_a_face(stylesheet, document, image, faces):
    assert shown(stylesheet, document, image) == faces


def test_a_rule_describing_a_face_asks_for_none():
    """The @font-face rules' own weights and styles are descriptions, not requests."""
    assert shown(FONTS_CSS) == {"R"}


def test_the_rules_of_faces_left_out_go_and_the_rest_stays_as_written():
    css = without_faces(FONTS_CSS, frozenset({"fonts/S.ttf", "fonts/SI.ttf"}), "styles/fonts.css")
    assert "S.ttf" not in css and "SI.ttf" not in css
    assert css.replace("\n", "") == "".join(line for line in FONTS_CSS.splitlines()
                                            if "600" not in line)
    assert without_faces(FONTS_CSS, frozenset({"fonts/other.ttf"}), "styles/fonts.css") is FONTS_CSS


def test_a_factsheet_carries_no_semibold_and_a_book_that_asks_for_it_does(factsheet_epub,
                                                                          book_epub):
    for path, semibold in ((factsheet_epub, False), (book_epub, True)):
        with zipfile.ZipFile(path) as archive:
            fonts = {name for name in archive.namelist() if name.endswith(".ttf")}
            css = archive.read("EPUB/styles/fonts.css").decode()
        assert ("EPUB/fonts/OpenSans-Semibold.ttf" in fonts) is semibold, path
        assert ("OpenSans-Semibold.ttf" in css) is semibold, path
        assert {"EPUB/fonts/OpenSans-Regular.ttf", "EPUB/fonts/OpenSans-Bold.ttf"} <= fonts
