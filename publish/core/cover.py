"""Covers: a kind's cover.svg drawn as a PNG with the project's own fonts.

A cover is designed once, as an SVG template (a project may override it under templates/),
and shipped as a PNG: an SVG shown as an image cannot use the book's fonts, so a reading
system draws its text in whatever it has, and clips it. The PNG is drawn here, with Pillow,
from the small part of SVG a cover needs (:data:`ELEMENTS`); anything else in the SVG is a
coded problem (R009), never a guess at what it would look like.

Text is drawn with the fonts of the project's fonts/ (Open Sans, as styles/fonts.css names it
"Publish Sans"), and measured with the same files by :func:`fit`, which templates call to
make a long name fit: so what a template measures is what is drawn.

The same SVG gives the same PNG bytes: Pillow's basic text layout (not Raqm, which a machine
may lack), a palette quantized without dithering, fixed compression, no time or text chunks.
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont

from .problems import ContentError, Problem, excerpt
from .sources import MAX_ASSET_BYTES, Project

SVG_NS = "{http://www.w3.org/2000/svg}"
# The project's fonts a cover's text is drawn with, by weight: the files styles/fonts.css
# declares as "Publish Sans" for the normal style.
FONT_FILES = {400: "OpenSans-Regular.ttf", 600: "OpenSans-Semibold.ttf", 700: "OpenSans-Bold.ttf"}
WEIGHTS = {"normal": 400, "400": 400, "600": 600, "bold": 700, "700": 700}
# The families a cover may name: the project's fonts are all a cover is drawn with.
FAMILIES = {"publish sans", "open sans", "sans-serif"}
# Presentation attributes, inherited from an element by those inside it, as in SVG.
INHERITED = ("fill", "font-size", "font-weight", "font-family", "letter-spacing", "text-anchor")
# The elements a cover may hold and the attributes each may have; `title` and `desc` are
# the image's text alternative, not drawn.
ELEMENTS = {
    "svg": {"viewBox", "width", "height", "role", "aria-labelledby", "aria-label", *INHERITED},
    "title": {"id"},
    "desc": {"id"},
    "g": {"id", *INHERITED},
    "rect": {"id", "x", "y", "width", "height", "fill"},
    "text": {"id", "x", "y", *INHERITED},
    "tspan": {"x", "y", "dy", *INHERITED},
}
ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}   # Pillow's anchors on the baseline
COLOUR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
# The drawing's pixels per unit of the viewBox: 1, so that a 1200x1800 cover is 1200x1800
# pixels (its long side over the 1600 reading systems ask for), and a size a template
# measures with fit() is the size drawn.
SCALE = 1
# Colours of the PNG's palette: a cover is a few flat colours and their antialiased edges.
PALETTE_COLOURS = 64
DEFAULT_SIZE = 16.0   # SVG's initial font size
MAX_SIZE = 1000       # the largest font size a cover draws or fits, in the viewBox's units
MAX_UNITS = 4000      # the largest viewBox a cover may have, each way
MAX_LINES = 6         # the most lines fit() breaks a text into


# A review copy's mark: a band from 2% to 10.5% of the cover's height, its text within these
# margins (a share of the width), white on the red of the PDF's marks.
MARK_BAND = (0.02, 0.105)
MARK_MARGIN = 0.06
MARK_COLOURS = ((176, 0, 32), (255, 255, 255))


class CoverProblem(ContentError):
    """A cover SVG that cannot be drawn: R009 (outside what is drawn) or R010 (not XML)."""


@dataclass(frozen=True)
class Fitted:
    """A text made to fit a width: the font size to draw it at, and its lines."""
    size: int
    lines: tuple[str, ...]


def draw_cover(svg: str, project: Project, source: Path | None = None,
               mark: str | None = None) -> bytes:
    """The PNG of a cover SVG, drawn with the project's fonts. `source`: the file problems
    point at (the template). `mark`: a review copy's mark, drawn across the cover's top."""
    root = _parse(svg, source)
    width, height = _view_box(root, source)
    image = Image.new("RGB", (round(width * SCALE), round(height * SCALE)))
    drawing = ImageDraw.Draw(image)
    fonts = _Fonts(project)
    _draw(drawing, _shapes(root, _presentation(root, {}, source), source), fonts)
    if mark:
        _draw_mark(drawing, mark, width, height, fonts)
    return _png(image)


def _draw_mark(drawing: ImageDraw.ImageDraw, mark: str, width: float, height: float,
               fonts: _Fonts) -> None:
    """A review copy's mark in a band across the top of its cover, over whatever the
    template drew: publish draws it, after the template, so that no cover template can leave
    it out, hide or shrink it (as no stylesheet can on the PDF's pages). A review copy's
    cover travels alone, in catalogs and on landing pages: it must say what it is."""
    top, bottom = height * MARK_BAND[0], height * MARK_BAND[1]
    margin = width * MARK_MARGIN
    size = (bottom - top) * 0.3
    text = _fit_text(fonts, mark, width - 2 * margin, size, lines=2)
    drawing.rectangle((0, top * SCALE, width * SCALE, bottom * SCALE), fill=MARK_COLOURS[0])
    leading = text.size * 1.25
    first = (top + bottom) / 2 - leading * (len(text.lines) - 1) / 2 + text.size * 0.36
    for index, line in enumerate(text.lines):
        shape = _Run(line, width / 2, first + index * leading, text.size, WEIGHTS["bold"], 0.0,
                     ANCHORS["middle"], MARK_COLOURS[1])
        _draw(drawing, [shape], fonts)


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    return Image.open(io.BytesIO(png)).size


def thumbnail(png: bytes, long_side: int = 400) -> bytes:
    """A smaller PNG of a cover, `long_side` pixels on its long side (for a catalogue or a
    landing page); the same PNG gives the same bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    scale = long_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Halved by whole pixels first, then Lanczos: a third of the time of Lanczos alone on the
    # whole cover, for a thumbnail that differs by at most 11 levels in a few pixels.
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _png(small)


def fit(project: Project, text: str, width: float, size: float, weight: str = "bold",
        lines: int = 2, min_size: float | None = None, letter_spacing: float = 0) -> Fitted:
    """`text` at the largest font size up to `size` at which it fits `width` on at most
    `lines` lines, broken between words. It keeps to fewer lines while that allows
    `min_size` or more (by default three quarters of `size`); a text that fits nowhere at
    `min_size` gets the size at which it does fit, however small: a cover never clips."""
    _check_fit(width, size, lines, min_size, letter_spacing)
    # What is drawn, not its markup: a value a template marked safe comes escaped.
    shown = text.unescape() if isinstance(text, Markup) else str(text)
    return _fit_text(_Fonts(project), shown, width, size, lines, min_size,
                     _weight(weight, None), letter_spacing)


def _fit_text(fonts: _Fonts, shown: str, width: float, size: float, lines: int = 2,
              min_size: float | None = None, font_weight: int = WEIGHTS["bold"],
              letter_spacing: float = 0) -> Fitted:
    """:func:`fit`, with the fonts given and its arguments checked."""
    words = shown.split() or [""]
    floor = size * 0.75 if min_size is None else min_size
    options = []

    @cache
    def measured(line: str) -> float:  # each line a break can make, measured once
        return fonts.width(line, size, font_weight, letter_spacing)

    for count in range(1, min(lines, len(words)) + 1):
        split = _balanced(tuple(words), count, measured)
        fitting = _fitting_size(split, width, size, font_weight, letter_spacing, fonts)
        if fitting >= floor:
            return Fitted(fitting, split)
        options.append(Fitted(fitting, split))
    return max(options, key=lambda option: option.size)  # the first, of fewest lines, on a tie


def _check_fit(width, size, lines, min_size, spacing) -> None:
    """fit()'s arguments, as a template gives them: a mistake is the template's problem."""
    numbers = {"width": width, "size": size, "letter_spacing": spacing,
               **({"min_size": min_size} if min_size is not None else {})}
    wrong = [name for name, value in numbers.items()
             if isinstance(value, bool) or not isinstance(value, int | float)
             or not -MAX_UNITS <= value <= MAX_UNITS]
    if not isinstance(lines, int) or not 1 <= lines <= MAX_LINES:
        wrong.append("lines")
    if not wrong and (width <= 0 or not 0 < size <= MAX_SIZE):
        wrong.append("width" if width <= 0 else "size")
    if wrong:
        raise ContentError([Problem(
            "R005", f"fit() cannot use its {', '.join(wrong)}",
            hint=f"give fit() a width over 0, a size over 0 and at most {MAX_SIZE}, and "
                 f"1 to {MAX_LINES} lines, in the cover's units")])


def text_width(project: Project, text: str, size: float, weight: str = "bold",
               letter_spacing: float = 0) -> float:
    """How wide `text` is drawn at `size`, in the viewBox's units, with the project's fonts."""
    return _Fonts(project).width(str(text), size, _weight(weight, None), letter_spacing)


def _balanced(words: tuple[str, ...], count: int, width) -> tuple[str, ...]:
    """`words` on `count` lines whose widest is narrowest: of the ways to break the words
    from each one on, the best is found once (a long text takes many words' widths, not
    every way to break it)."""
    @cache
    def best(start: int, left: int) -> tuple[float, tuple[str, ...]]:
        if left == 1:
            line = " ".join(words[start:])
            return width(line), (line,)
        found = None
        for end in range(start + 1, len(words) - left + 2):
            line = " ".join(words[start:end])
            if found is not None and width(line) >= found[0]:
                break  # a longer first line is only wider
            widest, rest = best(end, left - 1)
            candidate = (max(width(line), widest), (line, *rest))
            if found is None or candidate[0] < found[0]:
                found = candidate
        return found

    return best(0, count)[1]


def _fitting_size(lines: tuple[str, ...], width: float, size: float, weight: int,
                  spacing: float, fonts: _Fonts) -> int:
    """The largest whole font size up to `size` at which every line is at most `width` wide:
    estimated in proportion, then measured either way, since hinting makes widths not quite
    proportional to the size."""
    def fits(candidate: int) -> bool:
        return max(fonts.width(line, candidate, weight, spacing) for line in lines) <= width

    widest = max(fonts.width(line, size, weight, spacing) for line in lines)
    fitting = max(1, int(min(size, size * width / widest)) if widest > 0 else int(size))
    while fitting + 1 <= size and fits(fitting + 1):
        fitting += 1
    while fitting > 1 and not fits(fitting):
        fitting -= 1
    return fitting


class _Fonts:
    """The project's cover fonts, read through its confinement, at the sizes asked."""

    def __init__(self, project: Project):
        self.project = project
        self.data: dict[int, bytes] = {}

    def font(self, weight: int, size: float) -> ImageFont.FreeTypeFont:
        if weight not in self.data:
            path = self.project.root / "fonts" / FONT_FILES[weight]
            self.data[weight] = self.project.read_bytes(path, MAX_ASSET_BYTES)
        return _font(self.data[weight], size * SCALE)

    def width(self, text: str, size: float, weight: int, spacing: float) -> float:
        """The advance of `text` in the viewBox's units, as :func:`_draw_text` places it."""
        return _advance(self.font(weight, size), text, spacing * SCALE) / SCALE

    def drawn(self, run: _Run) -> DrawnText:
        """Where a line of text is drawn: its advance and its glyphs' ink, in the viewBox's
        units."""
        font = self.font(run.weight, run.size)
        advance = _advance(font, run.text, run.spacing * SCALE)
        start = _start(run.x * SCALE, advance, run.anchor)
        boxes = [(left + start + offset, top, right + start + offset, bottom)
                 for char, offset in _placed(font, run.text, run.spacing * SCALE)
                 if char.strip()
                 for left, top, right, bottom in [font.getbbox(char, anchor="ls")]]
        baseline = run.y * SCALE
        ink = (min(box[0] for box in boxes) / SCALE, (baseline + min(box[1] for box in boxes)) / SCALE,
               max(box[2] for box in boxes) / SCALE, (baseline + max(box[3] for box in boxes)) / SCALE)
        return DrawnText(run.text, start / SCALE, (start + advance) / SCALE, ink)


# Kept for the process: an edition's covers use a few fonts at a few sizes. Keyed by the
# font's bytes, so a changed file is a new font.
@lru_cache(maxsize=128)
def _font(data: bytes, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(data), size, layout_engine=ImageFont.Layout.BASIC)


def _placed(font: ImageFont.FreeTypeFont, text: str, spacing: float):
    """Each character of `text` and its offset from the text's start. Letter-spaced text is
    placed a character at a time, as SVG spaces it; other text as one run, kerned."""
    if not spacing:
        yield text, 0.0
        return
    offset = 0.0
    for char in text:
        yield char, offset
        offset += font.getlength(char) + spacing


def _advance(font: ImageFont.FreeTypeFont, text: str, spacing: float) -> float:
    if not spacing:
        return font.getlength(text)
    return sum(font.getlength(char) for char in text) + spacing * max(0, len(text) - 1)


def _start(x: float, advance: float, anchor: str) -> float:
    return {"ls": x, "ms": x - advance / 2, "rs": x - advance}[anchor]


def _png(image: Image.Image) -> bytes:
    """The image as a palette PNG whose bytes depend on the pixels alone: quantized without
    dithering by the octree method (deterministic, and four times as fast as median cut on
    a cover), no time or text chunk, fixed compression (zlib's default level: 9 costs five
    times as long, 70 ms a cover, for files 12% smaller)."""
    palette = image.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE,
                             dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _problem(message: str, source: Path | None) -> CoverProblem:
    """R009: what the SVG asks for is outside what a cover draws; the hint lists what is."""
    return CoverProblem([Problem(
        "R009", message, source,
        hint="a cover may hold svg (with a viewBox), title, desc, g, rect and text with tspan, "
             "with the attributes x, y, dy, width, height, fill (#rgb or #rrggbb), font-size, "
             "font-weight, font-family, letter-spacing and text-anchor")])


def _parse(svg: str, source: Path | None) -> ElementTree.Element:
    # A document type may declare entities, and a few nested ones make a huge document
    # ("billion laughs"); a cover needs none.
    if "<!DOCTYPE" in svg or "<!ENTITY" in svg:
        raise _problem("a cover SVG may not declare a document type or entities", source)
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        line, column = error.position
        raise CoverProblem([Problem("R010", f"the cover SVG is not well-formed XML: {error}",
                                    source, line, column)]) from None
    if root.tag != f"{SVG_NS}svg":
        raise _problem(f"the cover's root element is {excerpt(_name(root))}, not an SVG <svg>",
                       source)
    return root


def _name(element: ElementTree.Element) -> str:
    return element.tag.removeprefix(SVG_NS) if isinstance(element.tag, str) else "?"


def _view_box(root: ElementTree.Element, source: Path | None) -> tuple[float, float]:
    values = (root.get("viewBox") or "").replace(",", " ").split()
    if len(values) != 4 or any(not NUMBER.fullmatch(value) for value in values) \
            or float(values[0]) != 0 or float(values[1]) != 0 \
            or not 0 < float(values[2]) <= MAX_UNITS or not 0 < float(values[3]) <= MAX_UNITS:
        raise _problem("the cover's <svg> needs a viewBox \"0 0 width height\" (each at "
                       f"most {MAX_UNITS}), not {excerpt(repr(root.get('viewBox')))}", source)
    return float(values[2]), float(values[3])


def _check(element: ElementTree.Element, source: Path | None) -> str:
    """The element's name, if a cover may hold it with its attributes; else a problem."""
    if not isinstance(element.tag, str) or not element.tag.startswith(SVG_NS):
        raise _problem(f"<{excerpt(str(element.tag))}> is not an SVG element a cover draws",
                       source)
    name = _name(element)
    if name not in ELEMENTS:
        raise _problem(f"<{excerpt(name)}> is not drawn on a cover", source)
    for attribute in element.attrib:
        if attribute not in ELEMENTS[name]:
            raise _problem(f"<{name}> has the attribute {excerpt(attribute)}, which a cover "
                           "does not draw", source)
    return name


def _presentation(element: ElementTree.Element, inherited: dict, source: Path | None) -> dict:
    """The element's presentation attributes: its own, else those it inherits."""
    own = {key: element.get(key) for key in INHERITED if element.get(key) is not None}
    if "font-family" in own:
        families = {family.strip().strip("'\"").lower() for family in own["font-family"].split(",")}
        if not families & FAMILIES or families - FAMILIES:
            raise _problem(f"the font family {excerpt(own['font-family'])} is not the "
                           "project's: a cover is drawn with Publish Sans (Open Sans)", source)
    return {**inherited, **own}


def _shapes(parent: ElementTree.Element, style: dict, source: Path | None) -> list:
    """What the elements inside `parent` draw, in document order (later over earlier):
    rectangles and lines of text."""
    shapes = []
    for element in parent:
        name = _check(element, source)
        if name in ("title", "desc"):
            continue
        if name == "g":
            shapes += _shapes(element, _presentation(element, style, source), source)
        elif name == "rect":
            shapes += _rect(element, style, source)
        elif name == "text":
            shapes += _runs(element, _presentation(element, style, source), source)
        else:
            raise _problem(f"<{name}> may only be inside a <text>", source)
    return shapes


def _number(element: ElementTree.Element, attribute: str, default: float | None,
            source: Path | None) -> float:
    value = element.get(attribute)
    if value is None and default is not None:
        return default
    if value is None or not NUMBER.fullmatch(value.strip()):
        raise _problem(f"<{_name(element)}> needs {attribute} as a number in the viewBox's "
                       f"units, not {excerpt(repr(value))}", source)
    return float(value)


def _colour(value: str | None, source: Path | None) -> tuple[int, int, int]:
    if value is None:
        return (0, 0, 0)   # SVG's initial fill
    match = COLOUR.fullmatch(value.strip())
    if match is None:
        raise _problem(f"the colour {excerpt(repr(value))} is not #rgb or #rrggbb", source)
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


@dataclass(frozen=True)
class _Rect:
    """A rectangle, as it is drawn: its pixels, edges included, and its colour."""
    box: tuple[int, int, int, int]
    fill: tuple[int, int, int]


def _rect(element: ElementTree.Element, style: dict, source: Path | None) -> list[_Rect]:
    if element.text and element.text.strip() or len(element):
        raise _problem("a <rect> holds nothing", source)
    x, y = _number(element, "x", 0, source), _number(element, "y", 0, source)
    width, height = _number(element, "width", None, source), _number(element, "height", None, source)
    if width <= 0 or height <= 0:
        return []  # SVG draws nothing for an empty rectangle
    fill = _colour(element.get("fill", style.get("fill")), source)
    # The pixels the rectangle covers, edges rounded: every rectangle of a cover lies on the
    # grid, and a hairline must not vanish.
    box = (round(x * SCALE), round(y * SCALE),
           max(round(x * SCALE), round((x + width) * SCALE) - 1),
           max(round(y * SCALE), round((y + height) * SCALE) - 1))
    return [_Rect(box, fill)]


@dataclass(frozen=True)
class _Run:
    """A line of a <text>, as it is drawn: its text, where, and how."""
    text: str
    x: float
    y: float
    size: float
    weight: int
    spacing: float
    anchor: str
    fill: tuple[int, int, int]


def text_runs(svg: str, source: Path | None = None) -> list[_Run]:
    """The lines of text a cover SVG draws (for measuring what a cover shows)."""
    root = _parse(svg, source)
    return [shape for shape in _shapes(root, _presentation(root, {}, source), source)
            if isinstance(shape, _Run)]


@dataclass(frozen=True)
class DrawnText:
    """A line of a cover's text as drawn, in the viewBox's units: from `start` to `end` by
    its advance (what :func:`fit` measures), and the box its glyphs' ink covers (left, top,
    right, bottom), which a glyph's overhang, such as a J's hook, may take a little past."""
    text: str
    start: float
    end: float
    ink: tuple[float, float, float, float]


def text_boxes(svg: str, project: Project) -> list[DrawnText]:
    """Each line of text of a cover SVG, as it is drawn."""
    fonts = _Fonts(project)
    return [fonts.drawn(run) for run in text_runs(svg)]


def _runs(element: ElementTree.Element, style: dict, source: Path | None) -> list[_Run]:
    """A <text>'s lines: its own text, or each of its <tspan>s (which inherit its position:
    a tspan's y, or its dy from the line before, makes a new line)."""
    x, y = _number(element, "x", 0, source), _number(element, "y", 0, source)
    spans = list(element)
    if not spans:
        return [_run(element.text, x, y, style, source)] if _collapsed(element.text) else []
    if _collapsed(element.text) or any(_collapsed(span.tail) for span in spans):
        raise _problem("a <text> holds either text or <tspan>s, not both", source)
    runs = []
    for span in spans:
        if _check(span, source) != "tspan":
            raise _problem(f"<{_name(span)}> may not be inside a <text>", source)
        if len(span):
            raise _problem("a <tspan> holds text only", source)
        x = _number(span, "x", x, source)
        y = _number(span, "y", y, source) + _number(span, "dy", 0, source)
        if _collapsed(span.text):
            runs.append(_run(span.text, x, y, _presentation(span, style, source), source))
    return runs


def _collapsed(text: str | None) -> str:
    """Text as SVG shows it by default: runs of white space as one space, none at the ends."""
    return " ".join((text or "").split())


def _run(text: str | None, x: float, y: float, style: dict, source: Path | None) -> _Run:
    anchor = style.get("text-anchor", "start")
    if anchor not in ANCHORS:
        raise _problem(f"text-anchor {excerpt(repr(anchor))} is not start, middle or end", source)
    size = _style_number(style, "font-size", DEFAULT_SIZE, source)
    if not 0 < size <= MAX_SIZE:
        raise _problem(f"font-size {size:g} is not between 0 and {MAX_SIZE}", source)
    return _Run(_collapsed(text), x, y, size, _weight(style.get("font-weight", "normal"), source),
                _style_number(style, "letter-spacing", 0, source), ANCHORS[anchor],
                _colour(style.get("fill"), source))


def _style_number(style: dict, key: str, default: float, source: Path | None) -> float:
    value = style.get(key)
    if value is None:
        return default
    if not NUMBER.fullmatch(value.strip()):
        raise _problem(f"{key} {excerpt(repr(value))} is not a number in the viewBox's units",
                       source)
    return float(value)


def _weight(value: str, source: Path | None) -> int:
    if str(value) not in WEIGHTS:
        raise _problem(f"font-weight {excerpt(repr(value))} is not one of "
                       f"{', '.join(WEIGHTS)}: the weights the project's fonts have", source)
    return WEIGHTS[str(value)]


def _draw(drawing: ImageDraw.ImageDraw, shapes: list, fonts: _Fonts) -> None:
    for shape in shapes:
        if isinstance(shape, _Rect):
            drawing.rectangle(shape.box, fill=shape.fill)
            continue
        font = fonts.font(shape.weight, shape.size)
        spacing = shape.spacing * SCALE
        start = _start(shape.x * SCALE, _advance(font, shape.text, spacing), shape.anchor)
        for text, offset in _placed(font, shape.text, spacing):
            drawing.text((start + offset, shape.y * SCALE), text, fill=shape.fill, font=font,
                         anchor="ls")
