"""Writing the press PDF: the print document as PDF/X-4, for a printer.

The same print HTML as the screen PDF (core/pdf.py), laid out with a stylesheet of the press
added (a bleed beyond the trim on every side, printer's marks in it), written as PDF/X-4 with an
output intent: the characterized printing condition FOGRA39 (offset, coated paper), whose
output profile publish ships (core/icc/, see its README for where it comes from).

Colour: WeasyPrint writes CSS colours and RGB images as DeviceRGB. PDF/X-4 accepts
device-dependent colour only where it matches the output intent (CMYK, or gray), unless a
default colour space makes it device-independent: the finisher adds DefaultRGB, an ICCBased
sRGB space, to the resources every page, form and pattern share, so that every RGB colour is
sRGB, converted to the press's CMYK by the RIP through the output intent. Release copies are
never marked, so the press PDF has no review mark; it is not tagged (PDF/X asks for no
structure, and the screen PDF is the accessible one).

Dates: WeasyPrint's PDF/X writer reads the wall clock for the creation and modification dates
unless the document's metadata has them: they are set from the release date, so that the same
input gives the same bytes at any time and in any time zone.
"""
from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from functools import partial
from importlib.resources import files
from pathlib import Path

import pikepdf
import pydyf
from pikepdf.models.metadata import decode_pdf_date
from weasyprint.css import ColorProfile

from .clock import utc_text
from .kind import Press
from .pdf import page_objects, render_with, resolver
from .problems import Problem
from .sources import Project

PRESS_VARIANT = "pdf/x-4"
PRESS_OPTIONS = {"pdf_variant": PRESS_VARIANT, "optimize_images": True}

# The output intent: the profile, and the printing condition as the ICC's registry of
# characterized printing conditions names it.
PROFILE = Path(__file__).parent / "icc" / "FOGRA39L-coated.icc"
CONDITION = "FOGRA39"
CONDITION_TEXT = ("Offset printing, ISO 12647-2:2004/Amd 1, paper type 1 or 2 (coated art), "
                  "FOGRA39L characterization data")
REGISTRY = "http://www.color.org"

# The RGB space that DeviceRGB stands for: WeasyPrint's own copy of the ICC's sRGB profile
# (the file its PDF/A variants embed), so publish ships no second one.
SRGB = files("weasyprint.pdf") / "sRGB2014.icc"
SRGB_KEY = "--publish-srgb"

MM = 72 / 25.4   # PDF points in a millimetre
# Between the bleed box and the marks: the marks are never printed into the bleed.
MARK_GAP_MM = 3.0


def press_stylesheet(press: Press) -> str:
    """The press's own stylesheet, applied after the document's: the area beyond the trim,
    and the marks in it. WeasyPrint paints the page's background over all of that area, and
    draws the marks from its outer edge halfway to the trim (weasyprint/draw/__init__.py):
    with marks, the area is twice the bleed and a gap, so that the marks lie wholly outside
    the bleed box (:func:`finish_press` sets it to the bleed asked for)."""
    return f"@page {{ bleed: {_beyond_trim_mm(press):g}mm; marks: {press.marks}; }}"


def _beyond_trim_mm(press: Press) -> float:
    """How far the media box reaches beyond the trim, in millimetres."""
    if press.marks == "none":
        return press.bleed_mm
    return 2 * press.bleed_mm + MARK_GAP_MM


def render_press_pdf(html: str, project: Project, identifier: bytes, *, press: Press,
                     date: datetime, strict: bool, source: Path | None = None,
                     kind_styles: Path | None = None) -> bytes:
    """The press PDF (PDF/X-4) of a print document, or a ContentError (R001) listing what the
    renderer reported. `date`: the instant it carries as its creation and modification date
    (the release's, never the clock); `identifier`: the publication's, as for the screen
    PDF."""
    stamp = utc_text(date)  # XMP's form of it

    def write(document, renderer) -> bytes:
        # WeasyPrint 70's PDF/X writer (weasyprint/pdf/pdfx.py) reads the local time for any
        # date the metadata lacks.
        document.metadata.created = document.metadata.modified = stamp
        # Set on the document, not by an @color-profile rule: the profiles are publish's
        # files, which the project's fetcher rightly refuses.
        document.color_profiles["device-cmyk"] = _profile(PROFILE, ("c", "m", "y", "k"))
        document.color_profiles[SRGB_KEY] = _profile(SRGB, ("r", "g", "b"))
        # A printed page has no use for links, and PDF/X keeps annotations out of the
        # bleed box: none are written.
        for page in document.pages:
            page.links.clear()
        return document.write_pdf(pdf_identifier=identifier,
                                  finisher=partial(finish_press, press=press,
                                                   identifier=identifier),
                                  **PRESS_OPTIONS)

    return render_with(html, project, write, strict=strict, source=source,
                       kind_styles=kind_styles, stylesheets=(press_stylesheet(press),))


def _profile(path, components: tuple[str, ...]) -> ColorProfile:
    """An ICC profile as WeasyPrint 70 keeps one (weasyprint/css/__init__.py ColorProfile:
    a file, its name, a rendering intent, its components as lists)."""
    with path.open("rb") as file:
        data = file.read()
    return _ExactProfile(data, str(path.name), [[name] for name in components])


class _ExactProfile(ColorProfile):
    """A profile embedded as its file is. WeasyPrint 70 embeds what Pillow's ImageCms writes
    of it back (`content`: tobytes()), which LittleCMS rewrites: twice the size for the
    FOGRA39 profile, and not the file its README describes."""

    def __init__(self, data: bytes, name: str, components: list[list[str]]):
        super().__init__(io.BytesIO(data), name, "relative-colorimetric", components)
        self.data = data

    @property
    def content(self) -> bytes:
        return self.data


def finish_press(document, pdf, *, press: Press, identifier: bytes) -> None:
    """WeasyPrint's finisher for the press PDF: name the printing condition in the output
    intent, make DeviceRGB stand for sRGB, set each page's bleed box to the bleed asked for,
    and give the XMP a document ID of the publication's."""
    resolve = resolver(pdf)
    (intent,) = pdf.catalog["OutputIntents"]
    # WeasyPrint names the condition after the profile's description; PDF/X wants the
    # registered name of the characterized printing condition.
    intent["OutputConditionIdentifier"] = pydyf.String(CONDITION)
    intent["OutputCondition"] = pydyf.String(CONDITION_TEXT)
    intent["RegistryName"] = pydyf.String(REGISTRY)
    intent["Info"] = pydyf.String(CONDITION_TEXT)
    srgb = document.color_profiles[SRGB_KEY].pdf_reference
    for page in page_objects(pdf):
        # One resources dictionary, and one colour space dictionary, serve every page, form
        # and pattern of a WeasyPrint 70 document (weasyprint/pdf/stream.py add_group).
        spaces = resolve(resolve(page["Resources"])["ColorSpace"])
        spaces["DefaultRGB"] = pydyf.Array(("/ICCBased", srgb))
        # WeasyPrint puts the bleed box at most 10 pt beyond the trim, whatever the bleed.
        left, top, right, bottom = page["TrimBox"]
        bleed = press.bleed_mm * MM
        page["BleedBox"] = pydyf.Array((left - bleed, top - bleed, right + bleed, bottom + bleed))
    _identify(resolve(pdf.catalog["Metadata"]), identifier)


def _identify(metadata, identifier: bytes) -> None:
    """Replace the random xmpMM:DocumentID WeasyPrint 70 writes in a PDF/X-4's XMP (a
    uuid4(), weasyprint/pdf/metadata.py) by one made from the publication's identifier: the
    same input gives the same bytes. The stream is uncompressed there, for PDF/X-4."""
    document_id = uuid.uuid5(uuid.NAMESPACE_OID, identifier.hex())
    (data,) = metadata.stream
    data, count = DOCUMENT_ID.subn(f"xmp.did:{document_id}".encode(), data)
    if count != 1:
        raise RuntimeError(f"the press PDF's XMP holds {count} document IDs, not 1: "
                           "WeasyPrint's PDF/X writer changed")
    metadata.stream = [data]


DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")


# -- checking a press PDF ---------------------------------------------------------------------
# What veraPDF would check of PDF/X-4 that matters for what publish writes; each rule is
# shown to fail on a PDF broken on purpose for it (tests/test_press.py).

# How far apart two lengths in points may be and still be equal.
TOLERANCE = 0.01
XMP_PDFXID = "{http://www.npes.org/pdfx/ns/id/}GTS_PDFXVersion"
XMP_TRAPPED = "{http://ns.adobe.com/pdf/1.3/}Trapped"
XMP_DATES = {"/CreationDate": "{http://ns.adobe.com/xap/1.0/}CreateDate",
             "/ModDate": "{http://ns.adobe.com/xap/1.0/}ModifyDate"}
# Operators that paint the current path, and those of them that stroke it.
PAINTING = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"}
STROKING = {"S", "s", "B", "B*", "b", "b*"}


def check_press(pdf: bytes, bleed_mm: float, *, crop_marks: bool = True,
                file: Path | None = None) -> list[Problem]:
    """What breaks PDF/X-4, or the press PDF asked for, in a press PDF: a problem (R008) for
    each, naming its rule. `bleed_mm`: the bleed asked for (Press.bleed_mm); `crop_marks`:
    whether crop marks were asked for (Press.crop_marks); `file`: the file to name."""
    try:
        document = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PdfError as error:
        return [Problem("R008", f"structure: qpdf cannot read it: {error}", file)]
    with document:
        # What `qpdf --check` finds, warnings included, as for every PDF publish writes.
        found = [("structure", f"qpdf check: {line}") for line in document.check_pdf_syntax()]
        found += [*_encryption(document), *_version(document), *_identification(document),
                 *_output_intent(document), *_boxes(document, bleed_mm * MM),
                 *_fonts(document), *_trapped(document), *_dates(document)]
        if crop_marks:
            found += _crop_marks(document)
    return [Problem("R008", f"{rule}: {message}", file) for rule, message in found]


def _encryption(pdf) -> list[tuple[str, str]]:
    return [("encryption", "the PDF is encrypted")] if pdf.is_encrypted else []


def _version(pdf) -> list[tuple[str, str]]:
    major, minor = (int(part) for part in pdf.pdf_version.split("."))
    if (major, minor) < (1, 6):
        return [("version", f"PDF {pdf.pdf_version}; PDF/X-4 needs 1.6 or later")]
    return []


def _identification(pdf) -> list[tuple[str, str]]:
    version = pdf.open_metadata().get(XMP_PDFXID)
    if version != "PDF/X-4":
        return [("identification", f"the XMP's pdfxid:GTS_PDFXVersion is {version!r}, "
                                   "not 'PDF/X-4'")]
    return []


def _output_intent(pdf) -> list[tuple[str, str]]:
    """One output intent for PDF/X, whose profile is embedded and is an output device's."""
    intents = [intent for intent in pdf.Root.get("/OutputIntents", [])
               if intent.get("/S") == pikepdf.Name("/GTS_PDFX")]
    if len(intents) != 1:
        return [("output intent", f"{len(intents)} output intents of subtype /GTS_PDFX, "
                                  "not 1")]
    (intent,) = intents
    if not str(intent.get("/OutputConditionIdentifier", "")):
        return [("output intent", "no OutputConditionIdentifier")]
    profile = intent.get("/DestOutputProfile")
    if not isinstance(profile, pikepdf.Stream):
        return [("output intent", "no embedded DestOutputProfile")]
    header = profile.read_bytes()[:40]
    device_class, space = header[12:16], header[16:20]
    if header[36:40] != b"acsp" or device_class != b"prtr":
        return [("output intent", f"the DestOutputProfile is no output device's ICC profile "
                                  f"(class {device_class!r})")]
    if space not in (b"CMYK", b"GRAY", b"RGB "):
        return [("output intent", f"the output profile's colour space is {space!r}")]
    return []


def _boxes(pdf, bleed: float) -> list[tuple[str, str]]:
    """Each page: a trim box inside its bleed box inside its media box, the bleed box `bleed`
    points beyond the trim on every side, and no art box beside the trim box."""
    found = []
    for number, page in enumerate(pdf.pages, start=1):
        where = f"page {number}"
        if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj:
            found.append(("boxes", f"{where} has no TrimBox or no BleedBox"))
            continue
        if "/ArtBox" in page.obj:
            found.append(("boxes", f"{where} has both an ArtBox and a TrimBox"))
        media, bleed_box, trim = (_box(page.obj[key])
                                  for key in ("/MediaBox", "/BleedBox", "/TrimBox"))
        if not (_inside(trim, bleed_box) and _inside(bleed_box, media)):
            found.append(("boxes", f"{where}: the TrimBox {trim} is not inside the BleedBox "
                                   f"{bleed_box} inside the MediaBox {media}"))
            continue
        sides = (trim[0] - bleed_box[0], trim[1] - bleed_box[1],
                 bleed_box[2] - trim[2], bleed_box[3] - trim[3])
        if any(abs(side - bleed) > TOLERANCE for side in sides):
            shown = ", ".join(f"{side:.2f}" for side in sides)
            found.append(("boxes", f"{where}: a bleed of {shown} pt (left, bottom, right, top), "
                                   f"not {bleed:.2f} pt on each side"))
    return found


def _box(array) -> tuple[float, float, float, float]:
    left, bottom, right, top = (float(value) for value in array)
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


def _inside(inner, outer) -> bool:
    return (inner[0] >= outer[0] - TOLERANCE and inner[1] >= outer[1] - TOLERANCE
            and inner[2] <= outer[2] + TOLERANCE and inner[3] <= outer[3] + TOLERANCE)


def _fonts(pdf) -> list[tuple[str, str]]:
    """Every font any page, form or pattern uses has its program embedded (Type 3 fonts are
    drawn by the PDF itself)."""
    found, seen = [], set()
    for font in _all_fonts(pdf):
        if font.objgen in seen:
            continue
        seen.add(font.objgen)
        if font.get("/Subtype") == pikepdf.Name("/Type3"):
            continue
        described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = described.get("/FontDescriptor")
        if descriptor is None or not any(key in descriptor
                                         for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            found.append(("fonts", f"the font {font.get('/BaseFont')} is not embedded"))
    return found


def _all_fonts(pdf):
    """Every font dictionary the pages' resources reach, through forms and patterns."""
    pending, seen = [page.obj.get("/Resources") for page in pdf.pages], set()
    while pending:
        resources = pending.pop()
        if resources is None:
            continue
        # Resources shared by pages and forms are read once; a direct dictionary (no object
        # number, (0, 0)) belongs to its one owner.
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        yield from resources.get("/Font", {}).values()
        for group in ("/XObject", "/Pattern"):
            for item in resources.get(group, {}).values():
                if "/Resources" in item:
                    pending.append(item.Resources)


def _trapped(pdf) -> list[tuple[str, str]]:
    trapped = pdf.docinfo.get("/Trapped")
    if trapped not in (pikepdf.Name("/True"), pikepdf.Name("/False")):
        return [("trapped", f"Info /Trapped is {trapped}, not /True or /False")]
    if pdf.open_metadata().get(XMP_TRAPPED) != str(trapped)[1:]:
        return [("trapped", "the XMP's pdf:Trapped differs from Info /Trapped")]
    return []


def _dates(pdf) -> list[tuple[str, str]]:
    """The XMP's creation and modification dates are the Info dictionary's."""
    metadata, found = pdf.open_metadata(), []
    for key, xmp_key in XMP_DATES.items():
        info, xmp = pdf.docinfo.get(key), metadata.get(xmp_key)
        if info is None or xmp is None:
            found.append(("dates", f"{key[1:]} is missing from the Info dictionary or the XMP"))
            continue
        try:
            same = decode_pdf_date(str(info)) == datetime.fromisoformat(xmp.replace("Z", "+00:00"))
        except ValueError:
            same = False
        if not same:
            found.append(("dates", f"Info {key[1:]} {info} is not the XMP's {xmp}"))
    return found


def _crop_marks(pdf) -> list[tuple[str, str]]:
    """Each page has a crop mark at each corner of its trim box: a stroked line along each
    trim edge, drawn wholly outside the bleed box (so never printed into the bleed)."""
    found = []
    for number, page in enumerate(pdf.pages, start=1):
        if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj:
            continue  # the boxes' rule says so
        trim, bleed_box = _box(page.obj.TrimBox), _box(page.obj.BleedBox)
        lines = list(_stroked_lines(page.obj, page.obj.get("/Resources")))
        missing = [corner for corner in _corners(trim, bleed_box)
                   if not any(_matches(line, corner) for line in lines)]
        if missing:
            found.append(("marks", f"page {number}: {len(missing)} of the 8 crop marks "
                                   "missing outside the bleed box"))
    return found


def _corners(trim, bleed_box):
    """The 8 crop marks as (axis, position on that axis, interval the line must lie in)."""
    left, bottom, right, top = trim
    outer_left, outer_bottom, outer_right, outer_top = bleed_box
    beyond_left, beyond_right = (-float("inf"), outer_left), (outer_right, float("inf"))
    beyond_bottom, beyond_top = (-float("inf"), outer_bottom), (outer_top, float("inf"))
    return [("y", top, beyond_left), ("y", top, beyond_right), ("y", bottom, beyond_left),
            ("y", bottom, beyond_right), ("x", left, beyond_top), ("x", left, beyond_bottom),
            ("x", right, beyond_top), ("x", right, beyond_bottom)]


def _matches(line, corner) -> bool:
    """Whether a stroked line is the crop mark `corner` describes."""
    (x0, y0), (x1, y1) = line
    axis, position, (low, high) = corner
    if axis == "y":  # a horizontal line at the trim edge y = position
        along = (x0, x1)
        on_edge = abs(y0 - position) <= TOLERANCE and abs(y1 - position) <= TOLERANCE
    else:
        along = (y0, y1)
        on_edge = abs(x0 - position) <= TOLERANCE and abs(x1 - position) <= TOLERANCE
    return on_edge and all(low <= value <= high for value in along)


def _stroked_lines(content, resources, matrix=(1, 0, 0, 1, 0, 0), depth=0):
    """The straight segments a content stream strokes, in the page's space: its path
    operators read with the transformation matrix, through the forms it draws."""
    stack, path, current = [], [], None
    for operands, operator in pikepdf.parse_content_stream(content):
        operator = str(operator)
        if operator == "q":
            stack.append(matrix)
        elif operator == "Q" and stack:
            matrix = stack.pop()
        elif operator == "cm":
            matrix = _multiply([float(value) for value in operands], matrix)
        elif operator == "m":
            current = _apply(matrix, *operands)
        elif operator == "l" and current is not None:
            point = _apply(matrix, *operands)
            path.append((current, point))
            current = point
        elif operator in PAINTING:
            if operator in STROKING:
                yield from path
            path, current = [], None
        elif operator == "Do" and resources is not None and depth < 8:
            form = resources.get("/XObject", {}).get(operands[0])
            if form is not None and form.get("/Subtype") == pikepdf.Name("/Form"):
                inner = [float(value) for value in form.get("/Matrix", (1, 0, 0, 1, 0, 0))]
                yield from _stroked_lines(form, form.get("/Resources"),
                                          _multiply(inner, matrix), depth + 1)


def _multiply(first, second):
    """The matrix product first × second, as PDF writes matrices (a b c d e f)."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = second
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _apply(matrix, x, y):
    a, b, c, d, e, f = matrix
    x, y = float(x), float(y)
    return (a * x + c * y + e, b * x + d * y + f)
