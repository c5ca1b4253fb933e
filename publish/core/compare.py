"""Comparing two builds: what a reviewer needs to know of two dist/ folders.

Publications are matched by their manifest's `publication` slug and file kind (pdf, epub),
never by file name, so that a review copy (`-draft`) meets its released file. Each is added,
removed, unchanged (the same bytes) or changed; for a changed PDF the comparison reads both
back and says what changed in them:

- the words: the text as poppler's pdftotext reads it, compared word by word (difflib), each
  change with a few words of context;
- the figures: a change in which only numbers differ (a score, a change since the last
  edition, a rank such as "3rd") is a figure, with the words that label it. Nothing here knows
  a kind of publication: a figure is any numeric word;
- the pages: each page drawn by pdftoppm at a modest resolution and compared pixel by pixel
  (Pillow); a changed page keeps its before, after and a difference image.

Nothing is printed: the CLI summarises a :class:`Comparison`, :mod:`.compare_report` draws it.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from .dist import MANIFEST
from .pages import draw_pages
from .problems import Problem

# Words of context shown on each side of a changed passage.
CONTEXT = 6
# Two changes this few unchanged words apart read as one change ("the" matched in between).
JOIN = 2
# Resolution of the page images: enough to read a changed word when the image is opened,
# small enough for a report of many pages (an A4 page is 621 x 877 pixels, about 30 KB).
DPI = 75
# A figure: a number, signed or not, maybe a percentage or an ordinal ("3rd", "+0.50", "12%").
_FIGURE = re.compile(r"[+\-\u2212\u2013]?\d[\d,.]*(%|st|nd|rd|th)?")
# Dot leaders of a table of contents: their length follows the title's, they say nothing.
_LEADERS = re.compile(r"(\. ?){4,}|\u2026{2,}")
# Punctuation around a number in running text ("(2023)", "2024,") that is not part of it.
_AROUND = "()[]{}.,;:\u201c\u201d\"'"


class CompareError(Exception):
    """One side of a comparison is not something to compare: a folder that is not a dist/
    of publish's, a file its manifest lists and that is missing."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.format())


@dataclass(frozen=True)
class Side:
    """One build: a dist/ folder, named as the user named it, and its outputs by
    (publication, kind); `revision` is the commit it was built from, if diff built it."""
    folder: Path
    label: str
    files: dict[tuple[str, str], dict]
    revision: str | None = None

    def path(self, key: tuple[str, str]) -> Path:
        return self.folder / self.files[key]["path"]


def read_side(folder: Path, label: str, revision: str | None = None) -> Side:
    """A dist/ folder of publish's, by its manifest; the sha256 of each file is its bytes',
    not what the manifest says, since "unchanged" must mean the same bytes."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
        files = {(entry["publication"], entry["kind"]): dict(entry) for entry in entries}
    except FileNotFoundError:
        raise CompareError(Problem("D005", "it holds no manifest.json", folder)) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CompareError(Problem("D005", f"its manifest.json cannot be read: {error}",
                                   manifest_path)) from None
    for key, entry in files.items():
        try:
            entry["sha256"] = hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest()
        except OSError:
            raise CompareError(Problem("D005", f"its manifest lists {entry['path']} for {key[0]}, "
                                               "which is not there", folder)) from None
    return Side(folder, label, files, revision)


@dataclass(frozen=True)
class WordChange:
    """Words removed and added at one place, with the unchanged words around them."""
    page: int                      # in the new file (the old one's, for a removal at its end)
    before: tuple[str, ...]
    removed: tuple[str, ...]
    added: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class FigureChange:
    """A number that changed, with the words before and after it (its label)."""
    page: int
    before: tuple[str, ...]
    old: str
    new: str
    after: tuple[str, ...]

    @property
    def label(self) -> str:
        return " ".join(self.before)

    @property
    def delta(self) -> str | None:
        """new - old, when both are plain decimal numbers; None otherwise (ranks, years)."""
        old, new = _decimal(self.old), _decimal(self.new)
        if old is None or new is None:
            return None
        places = max(_places(self.old), _places(self.new))
        return f"{new - old:+.{places}f}"


@dataclass(frozen=True)
class PageChange:
    """A page whose pixels differ: images under the comparison's image folder (None for a
    page only one side has), and the share of its pixels that changed."""
    page: int
    before: Path | None
    after: Path | None
    difference: Path | None
    share: float


@dataclass
class PublicationDiff:
    slug: str
    status: str                                  # added, removed, unchanged or changed
    kinds: dict[str, str] = field(default_factory=dict)   # kind -> added/removed/same/changed
    paths: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    words: list[WordChange] = field(default_factory=list)
    figures: list[FigureChange] = field(default_factory=list)
    pages: list[PageChange] = field(default_factory=list)
    pages_compared: tuple[int, int] = (0, 0)     # pages of the old and the new PDF

    @property
    def pages_named(self) -> str:
        """The changed pages, as a reader names them: "page 2", "pages 1, 2", or, when many
        changed, "35 pages from 3 to 50"."""
        numbers = [change.page for change in self.pages]
        if len(numbers) == 1:
            return f"page {numbers[0]}"
        if len(numbers) <= 6:
            return "pages " + ", ".join(map(str, numbers))
        return f"{len(numbers)} pages from {numbers[0]} to {numbers[-1]}"

    @property
    def summary(self) -> str:
        """What changed, in a few words: ': 2 text changes, 3 figures, page 4'."""
        if self.status != "changed":
            return ""
        parts = []
        if self.words:
            parts.append(f"{len(self.words)} text change{'s' if len(self.words) != 1 else ''}")
        if self.figures:
            parts.append(f"{len(self.figures)} figure{'s' if len(self.figures) != 1 else ''}")
        if self.pages:
            parts.append(self.pages_named)
        if not parts:
            kinds = [kind for kind, state in sorted(self.kinds.items()) if state != "same"]
            parts.append(f"{', '.join(kinds)} bytes differ")
        return ": " + ", ".join(parts)


@dataclass
class Comparison:
    old: Side
    new: Side
    publications: list[PublicationDiff]

    def having(self, status: str) -> list[PublicationDiff]:
        return [p for p in self.publications if p.status == status]

    @property
    def differs(self) -> bool:
        return any(p.status != "unchanged" for p in self.publications)

    def only_built(self) -> Comparison:
        """With PATHs, a revision builds only some publications: the other side's others are
        not removed or added, they were not asked for."""
        asked = {slug for side in (self.old, self.new) if side.revision is not None
                 for slug, _ in side.files}
        if not asked:  # two dist/ folders: PATHs build nothing, every publication is compared
            return self
        return Comparison(self.old, self.new, [p for p in self.publications if p.slug in asked])


def compare(old: Side, new: Side, images: Path) -> Comparison:
    """Compare two builds publication by publication; page images of changed pages are
    written under `images`."""
    slugs = sorted({slug for slug, _ in old.files} | {slug for slug, _ in new.files})
    return Comparison(old, new, [_publication(old, new, slug, Path(images)) for slug in slugs])


def _publication(old: Side, new: Side, slug: str, images: Path) -> PublicationDiff:
    kinds = sorted({kind for s, kind in [*old.files, *new.files] if s == slug})
    diff = PublicationDiff(slug, "changed")
    for kind in kinds:
        key = (slug, kind)
        before, after = old.files.get(key), new.files.get(key)
        diff.paths[kind] = (before and before["path"], after and after["path"])
        if before is None:
            diff.kinds[kind] = "added"
        elif after is None:
            diff.kinds[kind] = "removed"
        else:
            diff.kinds[kind] = "same" if before["sha256"] == after["sha256"] else "changed"
    states = set(diff.kinds.values())
    if states == {"added"}:
        diff.status = "added"
    elif states == {"removed"}:
        diff.status = "removed"
    elif states == {"same"}:
        diff.status = "unchanged"
    if diff.kinds.get("pdf") == "changed":
        _read_pdfs(diff, old.path((slug, "pdf")), new.path((slug, "pdf")), images / _safe(slug))
    return diff


def _read_pdfs(diff: PublicationDiff, old: Path, new: Path, images: Path) -> None:
    diff.words, diff.figures = text_changes(_pages_text(old), _pages_text(new))
    diff.pages, diff.pages_compared = page_changes(old, new, images)


# -- the text: words and figures -------------------------------------------------------------

def _pages_text(pdf: Path) -> list[str]:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stdout.split("\f")[:-1] or [result.stdout]


def _words(pages: list[str]) -> tuple[list[str], list[int]]:
    """The words of the pages, and the page (from 1) of each."""
    words, where = [], []
    for number, text in enumerate(pages, start=1):
        for word in _LEADERS.sub(" ", text).split():
            words.append(word)
            where.append(number)
    return words, where


def text_changes(old_pages: list[str], new_pages: list[str]
                 ) -> tuple[list[WordChange], list[FigureChange]]:
    """The words and the figures that changed from one text to the other, page by page."""
    old, old_page = _words(old_pages)
    new, new_page = _words(new_pages)
    matcher = difflib.SequenceMatcher(None, [_key(word) for word in old],
                                      [_key(word) for word in new], autojunk=False)
    words, figures = [], []
    for i1, i2, j1, j2 in _joined(matcher.get_opcodes()):
        page = new_page[min(j1, len(new) - 1)] if new else old_page[min(i1, len(old) - 1)]
        if _only_figures_differ(old[i1:i2], new[j1:j2]):
            figures.extend(_figures(old, new, i1, i2, j1, j2, new_page))
            continue
        words.append(WordChange(page, tuple(new[max(0, j1 - CONTEXT):j1]), tuple(old[i1:i2]),
                                tuple(new[j1:j2]), tuple(new[j2:j2 + CONTEXT])))
    return words, figures


def _key(word: str) -> str:
    """A word as compared: without hyphens. pdftotext joins a word broken at the end of a
    line and drops its hyphen, even a real one ("anti-trafficking" becomes "antitrafficking"
    when the line breaks there), so an edit that moves line breaks would otherwise change
    words it did not touch. A hyphen added or removed alone is not seen: the pages show it.
    A figure keeps its sign."""
    if is_figure(word):
        return word
    return word.replace("-", "").replace("\u2010", "").replace("\u00ad", "")


def _joined(opcodes) -> list[tuple[int, int, int, int]]:
    """The changed spans (i1, i2, j1, j2), a span and the next joined when only a few
    unchanged words part them: a reworded sentence reads as one change, not five."""
    spans: list[list[int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        if spans and i1 - spans[-1][1] <= JOIN and j1 - spans[-1][3] <= JOIN:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    return [(i1, i2, j1, j2) for i1, i2, j1, j2 in spans]


def is_figure(word: str) -> bool:
    return _FIGURE.fullmatch(word.strip(_AROUND)) is not None


def _only_figures_differ(removed: list[str], added: list[str]) -> bool:
    """Whether the two spans have the same words in the same places, numbers apart."""
    if len(removed) != len(added) or not removed:
        return False
    for old, new in zip(removed, added, strict=True):
        if old != new and not (is_figure(old) and is_figure(new)):
            return False
    return True


def _figures(old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int,
             new_page: list[int]) -> list[FigureChange]:
    changes = []
    for offset in range(i2 - i1):
        before, after = old[i1 + offset], new[j1 + offset]
        if before == after:
            continue
        at = j1 + offset
        changes.append(FigureChange(new_page[at], tuple(new[max(0, at - CONTEXT):at]),
                                    before.strip(_AROUND), after.strip(_AROUND),
                                    tuple(new[at + 1:at + 1 + CONTEXT // 2])))
    return changes


def _decimal(word: str) -> float | None:
    text = word.replace("\u2212", "-").replace("\u2013", "-").replace(",", "")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return None
    return float(text)


def _places(word: str) -> int:
    return len(word.rsplit(".", 1)[1]) if "." in word else 0


# -- the pages --------------------------------------------------------------------------------

def page_changes(old: Path, new: Path, images: Path) -> tuple[list[PageChange], tuple[int, int]]:
    """The pages whose pixels differ, with their images written under `images`; and how many
    pages each PDF has."""
    with tempfile.TemporaryDirectory(prefix="publish-pages-") as scratch:
        before = draw_pages(old, DPI, Path(scratch) / "old")
        after = draw_pages(new, DPI, Path(scratch) / "new")
        changes = []
        for index in range(max(len(before), len(after))):
            change = _page(index + 1, before[index] if index < len(before) else None,
                           after[index] if index < len(after) else None, images)
            if change is not None:
                changes.append(change)
    return changes, (len(before), len(after))


def _page(number: int, old: Path | None, new: Path | None, images: Path) -> PageChange | None:
    images.mkdir(parents=True, exist_ok=True)
    before = Image.open(old).convert("RGB") if old else None
    after = Image.open(new).convert("RGB") if new else None
    if before is not None and after is not None and before.size == after.size:
        mask = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v else 0)
        if mask.getbbox() is None:
            return None
        share = mask.histogram()[255] / (mask.width * mask.height)
    else:
        mask, share = None, 1.0
    names = {}
    if before is not None:
        names["before"] = images / f"page-{number}-before.png"
        _save(before, names["before"])
    if after is not None:
        names["after"] = images / f"page-{number}-after.png"
        _save(after, names["after"])
    if mask is not None:
        names["difference"] = images / f"page-{number}-difference.png"
        _save(_highlight(before, after, mask), names["difference"])
    return PageChange(number, names.get("before"), names.get("after"),
                      names.get("difference"), share)


def _save(image: Image.Image, path: Path) -> None:
    """A page image, in a palette of 64 colours: a third of the bytes of full colour, and a
    page of text and flat colour looks the same."""
    image.quantize(64).save(path)


REMOVED, ADDED, ALTERED, BOX = (214, 32, 60), (18, 150, 70), (240, 150, 20), (60, 90, 200)
# How much darker a pixel must turn (of 255) to count as ink added, or lighter as ink removed;
# less is the edge of a glyph that moved a little, or a colour that changed.
INK = 48


def _highlight(old: Image.Image, new: Image.Image, mask: Image.Image) -> Image.Image:
    """The new page faded, with the ink that is gone in red and the ink that is new in green
    (as the words are shown), other changed pixels in orange and a box around each changed
    region: a reflowed paragraph still reads, and a change of one figure is seen at a glance."""
    old_grey, new_grey = old.convert("L"), new.convert("L")
    added = ImageChops.subtract(old_grey, new_grey).point(lambda v: 255 if v > INK else 0)
    removed = ImageChops.subtract(new_grey, old_grey).point(lambda v: 255 if v > INK else 0)
    faded = Image.blend(new_grey.convert("RGB"), Image.new("RGB", new.size, "white"), 0.75)
    for colour, where in ((ALTERED, mask), (REMOVED, removed), (ADDED, added)):
        faded.paste(Image.new("RGB", new.size, colour), mask=where)
    draw = ImageDraw.Draw(faded)
    for left, top, right, bottom in _regions(mask):
        draw.rectangle((left - 4, top - 4, right + 3, bottom + 3), outline=BOX, width=2)
    return faded


def _regions(mask: Image.Image, band: int = 12) -> list[tuple[int, int, int, int]]:
    """Boxes around the changed pixels, one per run of changed horizontal bands: a change
    at the top and one at the bottom get two boxes, not one box over the whole page."""
    runs, start = [], None
    for top in range(0, mask.height, band):
        changed = mask.crop((0, top, mask.width, min(mask.height, top + band))).getbbox()
        if changed and start is None:
            start = top
        elif not changed and start is not None:
            runs.append((start, top))
            start = None
    if start is not None:
        runs.append((start, mask.height))
    boxes = []
    for upper, lower in runs:
        left, top, right, bottom = mask.crop((0, upper, mask.width, lower)).getbbox()
        boxes.append((left, top + upper, right, bottom + upper))
    return boxes


def _safe(slug: str) -> str:
    """A folder name for a publication's images: its slug, with nothing a path could use."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", slug)
