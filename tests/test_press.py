"""The press PDF (publish.core.press): the manual's and the Kyrgyzstan profile's, rendered once
and read back (boxes, output intent, XMP, fonts, reproducibility in any time zone); each rule of
check_press shown to fail on a PDF broken on purpose for it; and the `press:` key of a
configuration, its wrong values reported by `publish check` at their line."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from conftest import KYRGYZSTAN, MANUAL, PROJECT, run_cli

from publish.build import identifier as build_identifier
from publish.build import release_date, select
from publish.core.kind import Press
from publish.core.press import MM, PROFILE, check_press, render_press_pdf
from publish.core.sources import Project

DATE = datetime(2026, 11, 27, tzinfo=UTC)
IDENTIFIER = b"press-test-0001"
BLEED = 3 * MM                 # the bleed both publications ask for, in points
BEYOND = (2 * 3 + 3) * MM      # how far the media box reaches: twice the bleed and the gap


def publication_of(path):
    """The one publication `path` names that asks for a press PDF."""
    (publication,) = [p for p in select(PROJECT, [Path(path)]).publications() if p.press]
    return publication


@pytest.fixture(scope="session")
def manual_press(manual) -> bytes:
    """The manual's press PDF, as its release wrote it (conftest.py's `manual`)."""
    return (manual / "manual-press.pdf").read_bytes()


@pytest.fixture(scope="session")
def profile_press(dist) -> bytes:
    """The Kyrgyzstan profile's press PDF, as its release wrote it (conftest.py's `dist`)."""
    return (dist / "gocindex-2025/kyrgyzstan-press.pdf").read_bytes()


@pytest.fixture(params=["manual", "profile"])
def press(request, manual_press, profile_press) -> bytes:
    return {"manual": manual_press, "profile": profile_press}[request.param]


def test_the_manual_and_the_kyrgyzstan_profile_ask_for_a_press_pdf_and_factsheets_do_not():
    asked = {p.slug: p.press for p in select(PROJECT).publications() if p.press}
    assert asked == {"manual": Press(3.0, "crop"),
                     "gocindex-2025-kyrgyzstan": Press(3.0, "crop")}


def test_a_good_press_pdf_breaks_no_rule(press):
    assert check_press(press, 3.0) == []


@pytest.mark.parametrize("which, size", [("manual", (170, 240)), ("profile", (210, 297))])
def test_every_page_has_its_trim_bleed_and_media_boxes(manual_press, profile_press, which,
                                                         size):
    data = {"manual": manual_press, "profile": profile_press}[which]
    width, height = (length * MM for length in size)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            trim, bleed, media = ([float(v) for v in page.obj[key]]
                                  for key in ("/TrimBox", "/BleedBox", "/MediaBox"))
            assert trim == pytest.approx([0, 0, width, height], abs=0.01)
            assert bleed == pytest.approx([-BLEED, -BLEED, width + BLEED, height + BLEED],
                                          abs=0.01)
            assert media == pytest.approx([-BEYOND, -BEYOND, width + BEYOND, height + BEYOND],
                                          abs=0.01)
            assert "/ArtBox" not in page.obj and "/Annots" not in page.obj


def test_pdfinfo_reads_the_boxes(profile_press, tmp_path):
    path = tmp_path / "press.pdf"
    path.write_bytes(profile_press)
    info = subprocess.run(["pdfinfo", "-box", str(path)], capture_output=True, text=True,
                          check=True).stdout
    boxes = {line.split(":")[0]: line.split(":")[1].split() for line in info.splitlines()
             if "Box:" in line}
    assert boxes["TrimBox"] == ["0.00", "0.00", "595.28", "841.89"]
    assert boxes["BleedBox"] == ["-8.50", "-8.50", "603.78", "850.39"]
    assert boxes["MediaBox"] == ["-25.51", "-25.51", "620.79", "867.40"]
    assert "PDF version:     1.6" in info


def test_the_output_intent_is_fogra39_with_its_profile_embedded(press):
    with pikepdf.open(io.BytesIO(press)) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name("/GTS_PDFX")
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        assert str(intent.RegistryName) == "http://www.color.org"
        assert intent.DestOutputProfile.read_bytes() == PROFILE.read_bytes()
        assert intent.DestOutputProfile.N == 4


def test_rgb_colour_is_srgb_through_a_default_colour_space(press):
    """DeviceRGB (every CSS colour, every RGB image) stands for sRGB on every page."""
    with pikepdf.open(io.BytesIO(press)) as pdf:
        for page in pdf.pages:
            space = page.Resources.ColorSpace.DefaultRGB
            assert space[0] == pikepdf.Name("/ICCBased")
            assert space[1].N == 3
            assert space[1].read_bytes()[12:20] == b"mntrRGB "


@pytest.mark.parametrize("path", [MANUAL, KYRGYZSTAN], ids=["manual", "profile"])
def test_the_xmp_identifies_pdf_x4_and_carries_the_release_date(manual_press, profile_press,
                                                                 path):
    press = manual_press if path == MANUAL else profile_press
    publication = publication_of(path)
    date = release_date(publication)
    with pikepdf.open(io.BytesIO(press)) as pdf:
        xmp = pdf.open_metadata()
        assert xmp.get("{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion") == "PDF/X-4"
        assert xmp.get("xmp:CreateDate") == xmp.get("xmp:ModifyDate") == \
            date.strftime("%Y-%m-%dT%H:%M:%SZ")
        document_id = uuid.uuid5(uuid.NAMESPACE_OID, build_identifier(publication).hex())
        assert xmp.get("xmpMM:DocumentID") == f"xmp.did:{document_id}"
        assert str(pdf.docinfo.CreationDate) == str(pdf.docinfo.ModDate) == \
            date.strftime("D:%Y%m%d%H%M%SZ")
        assert pdf.docinfo.Trapped == pikepdf.Name("/False")
        assert not pdf.is_encrypted


def test_pdffonts_finds_every_font_embedded(press, tmp_path):
    path = tmp_path / "press.pdf"
    path.write_bytes(press)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert listing
    # name, type (two words), encoding, then emb sub uni
    assert all(line.split()[4:7] == ["yes", "yes", "yes"] for line in listing), listing


def test_qpdf_finds_the_press_pdf_sound(press, tmp_path):
    path = tmp_path / "press.pdf"
    path.write_bytes(press)
    subprocess.run(["qpdf", "--check", str(path)], capture_output=True, check=True)


# -- the same bytes at any time, in any time zone -------------------------------------------

SMALL = """<!DOCTYPE html><html lang="en"><head><title>Press</title><style>
@font-face { font-family: Sans; src: url(fonts/OpenSans-Regular.ttf); }
@page { size: A6; margin: 10mm; }
body { font: 9pt Sans; } h1 { background: #1d2a38; color: white; }
</style></head><body><h1>A heading on a dark band</h1><p>Text.</p></body></html>"""

RENDER_SMALL = f"""
import sys
from datetime import datetime, UTC
from publish.core.kind import Press
from publish.core.press import render_press_pdf
from publish.core.sources import Project
sys.path.insert(0, {str(PROJECT / "tests")!r})
from test_press import SMALL
data = render_press_pdf(SMALL, Project.at({str(PROJECT)!r}), b"small", press=Press(),
                        date=datetime(2026, 11, 27, tzinfo=UTC), strict=True)
sys.stdout.buffer.write(data)
"""


def small_press(press: Press = Press()) -> bytes:
    return render_press_pdf(SMALL, Project.at(PROJECT), b"small", press=press, date=DATE,
                            strict=True)


def test_the_same_bytes_in_any_time_zone():
    """WeasyPrint's PDF/X writer reads localtime() for a date it lacks: none is lacking."""
    outputs = []
    for zone in ("Pacific/Kiritimati", "UTC"):
        environment = {**os.environ, "TZ": zone, "PYTHONPATH": str(PROJECT)}
        outputs.append(subprocess.run([sys.executable, "-c", RENDER_SMALL], env=environment,
                                      capture_output=True, check=True).stdout)
    assert outputs[0] == outputs[1] == small_press()
    assert check_press(outputs[0], 3.0) == []


def test_inside_the_trim_the_press_pdf_is_the_screen_pdf(profile_press, pdf_path, tmp_path):
    """The press adds a bleed and marks around the pages, and changes nothing on them: the
    same pages, with the same text as the released PDF's."""
    screen = pdf_path.read_bytes()
    texts = []
    for name, data in (("screen", screen), ("press", profile_press)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        texts.append(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                    text=True, check=True).stdout)
    # Word by word, page by page: pdftotext's reading order of the two may differ where
    # boxes sit side by side, since the pages are not at the same place on the media.
    screen_pages, press_pages = ([sorted(page.split()) for page in text.split("\f")]
                                 for text in texts)
    assert len(screen_pages) == 8  # 7 pages, and what follows the last form feed
    assert screen_pages == press_pages


# -- check_press on PDFs broken on purpose --------------------------------------------------

def broken(data: bytes, change, **save) -> list[str]:
    """check_press's messages for the PDF after change(pdf) made to it by pikepdf."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out, **save)
    return [problem.message for problem in check_press(out.getvalue(), 3.0)]


def set_xmp(key: str, value: str):
    def change(pdf):
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp[key] = value
    return change


def profile_class(device_class: bytes):
    def change(pdf):
        profile = pdf.Root.OutputIntents[0].DestOutputProfile
        data = bytearray(profile.read_bytes())
        data[12:16] = device_class
        profile.write(bytes(data))
    return change


def move_box(key: str, index: int, delta: float, page: int = 1):
    def change(pdf):
        box = [float(v) for v in pdf.pages[page].obj[key]]
        box[index] += delta
        pdf.pages[page].obj[key] = pikepdf.Array(box)
    return change


def unembed_fonts(pdf):
    for page in pdf.pages:
        for font in page.Resources.Font.values():
            descriptor = font.DescendantFonts[0].FontDescriptor
            if "/FontFile2" in descriptor:
                del descriptor["/FontFile2"]


def page_two(key: str, value=None):
    def change(pdf):
        if value is None:
            del pdf.pages[1].obj[key]
        else:
            pdf.pages[1].obj[key] = value
    return change


BREAKS = [
    ("version", lambda pdf: None, {"force_version": "1.4"},
     ["version: PDF 1.4; PDF/X-4 needs 1.6 or later"]),
    ("encryption", lambda pdf: None,
     {"encryption": pikepdf.Encryption(owner="owner", user="", R=4)},
     ["encryption: the PDF is encrypted"]),
    ("identification", set_xmp("{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion", "PDF/X-3"),
     {}, ["identification: the XMP's pdfxid:GTS_PDFXVersion is 'PDF/X-3', not 'PDF/X-4'"]),
    ("no output intent", lambda pdf: pdf.Root.OutputIntents[0].__setitem__(
        "/S", pikepdf.Name("/GTS_PDFA1")), {},
     ["output intent: 0 output intents of subtype /GTS_PDFX, not 1"]),
    ("no profile", lambda pdf: pdf.Root.OutputIntents[0].__delitem__("/DestOutputProfile"),
     {}, ["output intent: no embedded DestOutputProfile"]),
    ("a display's profile", profile_class(b"mntr"), {},
     ["output intent: the DestOutputProfile is no output device's ICC profile "
      "(class b'mntr')"]),
    ("no trim box", page_two("/TrimBox"), {}, ["boxes: page 2 has no TrimBox or no BleedBox"]),
    ("an art box", page_two("/ArtBox", pikepdf.Array([0, 0, 10, 10])), {},
     ["boxes: page 2 has both an ArtBox and a TrimBox"]),
    ("a narrow bleed", move_box("/BleedBox", 0, 1.0), {},
     ["boxes: page 2: a bleed of 7.50, 8.50, 8.50, 8.50 pt (left, bottom, right, top), "
      "not 8.50 pt on each side"]),
    ("a bleed box past the media box", move_box("/BleedBox", 2, 20.0), {},
     ["boxes: page 2: the TrimBox (0.0, 0.0, 595.275591, 841.889764) is not inside the "
      "BleedBox (-8.503937, -8.503937, 623.779528, 850.393701) inside the MediaBox "
      "(-25.511811, -25.511811, 620.787402, 867.401575)",
      # and the two marks on the right now lie in the bleed box
      "marks: page 2: 2 of the 8 crop marks missing outside the bleed box"]),
    ("fonts not embedded", unembed_fonts, {},
     ["fonts: the font /ITOEOP+Publish-Sans-Bold is not embedded",
      "fonts: the font /RROBOV+Publish-Sans is not embedded",
      "fonts: the font /DSCFPU+Publish-Sans-Semi-Bold is not embedded",
      "fonts: the font /DWSYJP+Publish-Sans-Italic is not embedded"]),
    ("trapping unknown", lambda pdf: pdf.docinfo.__setitem__("/Trapped",
                                                              pikepdf.Name("/Unknown")), {},
     ["trapped: Info /Trapped is /Unknown, not /True or /False"]),
    ("dates that differ", lambda pdf: pdf.docinfo.__setitem__(
        "/ModDate", pikepdf.String("D:20261128000000Z")), {},
     ["dates: Info ModDate D:20261128000000Z is not the XMP's 2025-11-25T08:00:00Z"]),
]


@pytest.mark.parametrize("name, change, save, expected", BREAKS, ids=[b[0] for b in BREAKS])
def test_each_rule_finds_a_pdf_broken_for_it(profile_press, name, change, save, expected):
    assert sorted(broken(profile_press, change, **save)) == sorted(expected)


def test_missing_crop_marks_are_found():
    data = small_press(Press(3.0, "none"))
    assert [p.message for p in check_press(data, 3.0)] == [
        "marks: page 1: 8 of the 8 crop marks missing outside the bleed box"]
    assert check_press(data, 3.0, crop_marks=False) == []


def test_crop_marks_inside_the_bleed_box_are_found():
    """Marks that a wider bleed box would cover are printed into the bleed: refused."""
    def widen(pdf):
        pdf.pages[0].obj.BleedBox = pdf.pages[0].obj.MediaBox
    with pikepdf.open(io.BytesIO(small_press())) as pdf:
        widen(pdf)
        out = io.BytesIO()
        pdf.save(out)
    messages = [p.message for p in check_press(out.getvalue(), 9.0)]
    assert messages == ["marks: page 1: 8 of the 8 crop marks missing outside the bleed box"]


def test_a_problem_of_check_press_has_its_code_and_hint(profile_press):
    problems = check_press(profile_press, 2.0)
    assert len(problems) == 7  # one for each page
    problem = problems[0]
    assert problem.code == "R008"
    assert problem.format().startswith("R008 the press PDF breaks a rule of PDF/X-4: boxes: "
                                       "page 1: a bleed of 8.50")


# -- the configuration ----------------------------------------------------------------------

PROFILE_YAML = Path("content/gocindex-2025/profiles/kyrgyzstan/profile.yaml")
BOOK_YAML = Path("content/manual/book.yaml")
ASKED = "press: {bleed: 3mm, marks: crop}"

CONFIGURATIONS = [
    ("a bleed of banana", "press: {bleed: banana}", "V024",
     "bleed: 'banana' is not a length in millimetres"),
    ("a negative bleed", "press: {bleed: -3mm}", "V024", "bleed: -3mm is out of range"),
    ("a bleed over 10 mm", "press: {bleed: 11mm}", "V024", "bleed: 11mm is out of range"),
    ("a bleed without its unit", "press: {bleed: 3}", "V024", "bleed: 3 has no unit"),
    ("unknown marks", "press: {marks: stars}", "V024",
     "marks: 'stars' is not a kind of printer's marks"),
    ("an unknown key", "press: {blead: 3mm}", "L004", "'blead' is not a key of 'press'"),
    ("neither true nor settings", "press: often", "L006",
     "'press' must be true or false or a mapping, not text"),
]


def book_project(root: Path) -> Path:
    for folder in (Path("content/manual"), Path("styles"), Path("fonts")):
        shutil.copytree(PROJECT / folder, root / folder)
    return root


def replace_in(root: Path, relative: Path, old: str, new: str) -> int:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


@pytest.mark.parametrize("name, written, code, message", CONFIGURATIONS,
                         ids=[c[0] for c in CONFIGURATIONS])
def test_check_reports_wrong_press_settings_at_their_line(broken_project, name, written, code,
                                                         message):
    line = replace_in(broken_project, PROFILE_YAML, ASKED, written)
    status, _, err = run_cli("--project", str(broken_project), "check")
    assert status == 1
    assert f"{PROFILE_YAML}:{line}: {code} " in err, err
    assert message in err, err
    assert "hint:" in err and "Traceback" not in err


def test_the_book_kind_reads_its_press_settings_too(tmp_path):
    root = book_project(tmp_path)
    line = replace_in(root, BOOK_YAML, ASKED, "press: {bleed: banana}")
    status, _, err = run_cli("--project", str(root), "check")
    assert status == 1
    assert (f"{BOOK_YAML}:{line}: V024 invalid press settings: bleed: 'banana' is not a "
            "length in millimetres\n    hint: write the bleed in millimetres, more than 0 and "
            "at most 10, such as 3mm") in err, err


def test_press_true_asks_for_the_defaults_and_false_for_none(tmp_path):
    root = book_project(tmp_path)
    replace_in(root, BOOK_YAML, ASKED, "press: true")
    (publication,) = select(root).publications()
    assert publication.press == Press(3.0, "crop")
    replace_in(root, BOOK_YAML, "press: true", "press: false")
    (publication,) = select(root).publications()
    assert publication.press is None


def test_a_press_pdf_qpdf_finds_damaged_is_refused(profile_press):
    """A cross-reference table that is not where the trailer says: qpdf reads the file by
    reconstructing it, and warns; `qpdf --check` fails on that, and so does check_press."""
    found = re.search(rb"startxref\s+(\d+)", profile_press)
    damaged = (profile_press[:found.start(1)] + str(int(found.group(1)) + 7).encode()
               + profile_press[found.end(1):])
    problems = check_press(damaged, 3.0)
    assert problems and all(p.code == "R008" for p in problems)
    assert any(p.message.startswith("structure: qpdf check: WARNING") and "damaged" in p.message
               for p in problems), problems


def test_what_is_not_a_pdf_is_one_problem_not_a_traceback():
    (problem,) = check_press(b"%PDF-1.6 not really", 3.0)
    assert problem.message.startswith("structure: qpdf cannot read it: ")
