"""The faces of its fonts an EPUB can show: no reader is sent a face nothing asks for.

A stylesheet's @font-face rules name a file for each face of a family (its weight and style).
Which of them a reading system ever uses depends on the weights and styles the text asks for:
those the stylesheets, the documents' style attributes and the SVG images declare, and those a
browser gives elements of its own accord (bold headings and table headers, bolder <b> and
<strong>, italic <em>, <i> and a few more). Each asked-for weight and style is matched to a
face as CSS Fonts 4 (section 5.2) matches them; a face no request matches is left out, its
@font-face rule with it. The account is generous, never short: every weight asked for is taken
with every style asked for, anywhere; and a weight that cannot be known from the text (a
custom property) keeps every face.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache

import tinycss2

NORMAL, BOLD = 400, 700
# Elements a browser's own stylesheet sets in bold, bolder or italic (the HTML standard's
# rendering section).
UA_BOLD = ("h1", "h2", "h3", "h4", "h5", "h6", "th")
UA_BOLDER = ("b", "strong")
UA_ITALIC = ("i", "em", "cite", "var", "dfn", "address")

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_FONT_FACE_RULE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)  # describes, asks nothing
_DECLARATION = re.compile(r"(?<![\w-])(font-weight|font-style|font)\s*:\s*([^;}!\"]+)",
                          re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""(?<![\w-])(font-weight|font-style)\s*=\s*["']([^"']+)""",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Face:
    family: str
    weight: int
    italic: bool
    file: str          # the font's path in the EPUB, as the rule's src resolves it


@dataclass
class Requests:
    """The weights and styles text may ask for (None: cannot be known, so every weight)."""
    weights: set[int] | None
    italic: bool
    relative: set[str]  # bolder, lighter


@lru_cache(maxsize=32)  # the same stylesheets serve every publication of a kind
def faces_of(stylesheet_name: str, css: str) -> tuple[Face, ...]:
    """The @font-face rules of a stylesheet, each with the file its src names (the first url)."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return tuple(face for rule in rules if (face := _face(rule, stylesheet_name)) is not None)


def _face(rule, stylesheet_name: str) -> Face | None:
    """The face a rule describes, if it is a @font-face rule that names a file."""
    if rule.type != "at-rule" or rule.lower_at_keyword != "font-face" or not rule.content:
        return None
    descriptors = {d.lower_name: d.value for d in tinycss2.parse_blocks_contents(rule.content)
                   if d.type == "declaration"}
    url = next((token.value for token in descriptors.get("src", ())
                if token.type == "url"
                or (token.type == "function" and token.lower_name == "url")), None)
    if url is None or not isinstance(url, str):
        return None
    family = tinycss2.serialize(descriptors.get("font-family", ())).strip().strip("\"'")
    weight = _weight(tinycss2.serialize(descriptors.get("font-weight", ())).strip() or "400")
    style = tinycss2.serialize(descriptors.get("font-style", ())).strip().lower()
    return Face(family, weight or NORMAL, style in ("italic", "oblique"),
                posixpath.normpath(posixpath.join(posixpath.dirname(stylesheet_name), url)))


def requests(stylesheets: list[str], documents: list[str], images: list[str]) -> Requests:
    """What weights and styles the stylesheets, the documents and the SVG images ask for."""
    asked = Requests({NORMAL}, False, set())
    for text in stylesheets + documents:
        for name, value in _DECLARATION.findall(_FONT_FACE_RULE.sub("", _COMMENT.sub("", text))):
            _ask(asked, name.lower(), value)
    for text in documents + images:
        for name, value in _ATTRIBUTE.findall(text):
            _ask(asked, name.lower(), value)
    for text in documents:
        if _uses(text, UA_BOLD) and asked.weights is not None:
            asked.weights.add(BOLD)
        if _uses(text, UA_BOLDER):
            asked.relative.add("bolder")
        asked.italic = asked.italic or _uses(text, UA_ITALIC)
    return asked


def shown_faces(faces: list[Face], asked: Requests) -> set[Face]:
    """The faces the requests match, family by family (CSS Fonts 4, 5.2: style, then weight)."""
    if asked.weights is None:
        return set(faces)
    families: dict[str, list[Face]] = {}
    for face in faces:
        families.setdefault(face.family.lower(), []).append(face)
    weights = _with_relative(asked.weights, asked.relative)
    shown = set()
    for members in families.values():
        for italic in ({False, True} if asked.italic else {False}):
            styled = [f for f in members if f.italic == italic] or members
            available = sorted({f.weight for f in styled})
            for weight in weights:
                chosen = matched_weight(weight, available)
                shown.update(f for f in styled if f.weight == chosen)
    return shown


def matched_weight(desired: int, available: list[int]) -> int:
    """The weight of the face CSS Fonts 4 (5.2, font-weight) uses for `desired`."""
    if desired in available:
        return desired
    below = sorted((w for w in available if w < desired), reverse=True)
    above = sorted(w for w in available if w > desired)
    if 400 <= desired <= 500:
        up_to_500 = [w for w in above if w <= 500]
        return (up_to_500 + below + [w for w in above if w > 500])[0]
    return (below + above)[0] if desired < 400 else (above + below)[0]


@lru_cache(maxsize=32)
def without_faces(css: str, files: frozenset[str], stylesheet_name: str) -> str:
    """The stylesheet without the @font-face rules of these files; the same text where it
    has none of them."""
    kept, dropped = [], False
    for node in tinycss2.parse_stylesheet(css, skip_comments=False, skip_whitespace=False):
        if (face := _face(node, stylesheet_name)) is not None and face.file in files:
            dropped = True
        elif not (node.type == "whitespace" and kept and kept[-1] is None):
            kept.append(node)
            continue
        kept.append(None)  # the rule's place: the white space after it goes with it
    return tinycss2.serialize(n for n in kept if n is not None) if dropped else css


def _ask(asked: Requests, name: str, value: str) -> None:
    words = value.lower().split()
    if "var(" in value.lower():
        if name != "font-style":
            asked.weights = None
        asked.italic = True
        return
    if name in ("font-style", "font") and ({"italic", "oblique"} & set(words)):
        asked.italic = True
    if name == "font-style":
        return
    # font-weight's one value, or the shorthand's words before its size: a weight is a bare
    # number from 1 to 1000 or a keyword.
    for word in words if name == "font-weight" else words[:-1]:
        if word in ("bolder", "lighter"):
            asked.relative.add(word)
        elif (weight := _weight(word)) is not None and asked.weights is not None:
            asked.weights.add(weight)


def _weight(word: str) -> int | None:
    if word in ("normal", "bold"):
        return NORMAL if word == "normal" else BOLD
    try:
        number = float(word)
    except ValueError:
        return None
    return round(number) if 1 <= number <= 1000 else None


def _with_relative(weights: set[int], relative: set[str]) -> set[int]:
    """The weights, and those bolder and lighter make of them (CSS Fonts 4, 2.2.1)."""
    every = set(weights)
    while True:
        more = set()
        for weight in every:
            if "bolder" in relative:
                more.add(400 if weight < 350 else 700 if weight < 550 else 900)
            if "lighter" in relative:
                more.add(100 if weight < 550 else 400 if weight < 750 else 700)
        if more <= every:
            return every
        every |= more


def _uses(document: str, elements: tuple[str, ...]) -> bool:
    pattern = r"<(?:" + "|".join(elements) + r")[\s>/]"
    return re.search(pattern, document, re.IGNORECASE) is not None
