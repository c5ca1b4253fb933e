"""Problems found in content: stable codes, where they are, and how to fix them.

Every stage reports what is wrong as a :class:`Problem` instead of raising at the first one, so
that an author sees every problem of a run at once. A stage that cannot go on raises
:class:`ContentError` carrying all the problems found so far.

Codes are stable: a code once published keeps its meaning, and a retired code is never reused.
The core's codes are here; each kind registers its own (:func:`register`) when it is imported.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# code -> (what is wrong, in general; how to fix it, in general)
CODES: dict[str, tuple[str, str]] = {
    # L: loading files
    "L001": ("file missing", "create the file, or correct the path that names it"),
    "L002": ("malformed YAML", "correct the YAML syntax at the place shown"),
    "L003": ("file is not UTF-8 text", "save the file as UTF-8"),
    "L004": ("unknown key", "remove the key or correct its spelling"),
    "L005": ("missing key", "add the key"),
    "L006": ("wrong kind of value", "give the value the kind shown"),
    "L007": ("duplicate key", "keep one of the two entries"),
    "L008": ("YAML alias or anchor", "write the value out in full; anchors and aliases are refused"),
    "L009": ("file too large", "split the file or remove what does not belong in it"),
    "L011": ("invalid embargo instant",
             "write a quoted ISO 8601 date-time with an explicit UTC offset, "
             "such as \"2025-06-02T09:00:00+02:00\""),
    "L012": ("file outside the project",
             "keep every file the project uses inside its folder; a symbolic link must point "
             "inside it too"),
    "L013": ("not a regular file",
             "replace it with a plain file (not a pipe, device, folder or symbolic link loop)"),
    "L014": ("unknown kind", "name a kind publish knows (the message lists them), or install "
                             "the package that provides it (entry point group publish.kinds)"),
    "L015": ("kind failed to load", "see the message; the package that provides the kind has "
                                    "a bug or is installed wrongly"),
    "L016": ("two configurations in one folder",
             "keep one YAML file with a 'kind:' key in each folder of content/"),
    "L017": ("not something publish can build",
             "name a folder of content/ whose YAML file says 'kind:', or something inside one "
             "that its kind builds alone"),
    # V: validating content
    "V017": ("invalid value", "correct the value as the message says"),
    "V018": ("link not allowed", "link to an http(s) or mailto address, or to #an-anchor"),
    "V019": ("image not allowed", "put the image file in the publication's folder and name it "
                                  "by its relative path"),
    "V020": ("stylesheet reference not allowed",
             "refer only to data: URLs and files under content/, styles/ or fonts/"),
    "V024": ("invalid press settings",
             "write 'press: true' for the defaults (a 3 mm bleed, crop marks), or "
             "'press: {bleed: 3mm, marks: crop}'"),
    # R: rendering
    "R001": ("the renderer reported a problem", "correct the template, stylesheet or content it names"),
    "R002": ("output failed its check", "see the message; this is a bug in publish or its templates"),
    "R003": ("rendering exceeded its limits",
             "look for what makes the document huge or slow: an image, an SVG, a stylesheet; "
             "or raise the limit with --time-limit or --memory-limit"),
    "R004": ("a worker process died",
             "run again; if it happens again, report it with the output of -v"),
    "R005": ("template error", "correct the template at the place shown"),
    "R006": ("the PDF is not accessible: it breaks a rule of PDF/UA-1",
             "the message names the rule; give what it asks for in the template or the "
             "content (alternative text for an image, header cells for a table, headings "
             "that do not skip a level); if it names content publish tags itself, it is a "
             "bug in publish"),
    "R007": ("an EPUB is not accessible: Ace by DAISY found a violation, or could not check",
             "the message names Ace's rule and the file in the EPUB; correct the template or "
             "content it points at; if Ace could not run, run scripts/setup.sh --test"),
    "R008": ("the press PDF breaks a rule of PDF/X-4",
             "the message names the rule; a press PDF is publish's own construction, so "
             "this is a bug in publish (core/press.py) or in the stylesheet it adds"),
    "R009": ("the cover SVG holds what a cover's drawing does not support",
             "keep the cover template to svg (with a viewBox), title, desc, g, rect, text and "
             "tspan, with the attributes the message lists; colours as #rgb or #rrggbb and "
             "the project's font (Publish Sans)"),
    "R010": ("the cover SVG is not well-formed XML",
             "correct the cover template at the place shown (an unclosed element, or a bare "
             "'&' or '<' in a text: Jinja's autoescaping escapes values, not the template's "
             "own text)"),
    # D: putting outputs in place
    "D001": ("the output folder is not publish's",
             "name an empty folder, or one that publish made (it holds manifest.json)"),
    "D002": ("uncommitted changes", "commit the changes, or pass --allow-dirty to release them "
                                    "anyway (the manifest will say so)"),
    "D003": ("cannot write the outputs",
             "make room or give write access where the message says, then run again"),
    "D004": ("the shards do not make one whole",
             "merge shards copied whole from one run of one commit (every --shard K/N of the "
             "same build); build again any shard the message names"),
    "D005": ("not a dist/ folder of publish's",
             "name a folder that 'publish build' or 'publish release' made (it holds "
             "manifest.json and the files it lists), or a git revision of the project"),
    "D006": ("not a git revision of the project",
             "name a commit, branch or tag that 'git rev-parse' knows in the project's "
             "repository (fetch it first in a shallow clone), or a dist/ folder"),
    "D007": ("a revision could not be built",
             "build that revision on its own to see its problems; publish diff builds it "
             "with this publish, which may refuse content an older one took"),
    "D008": ("the catalog cannot be made",
             "the manifest describes a publication in a way the catalog cannot read (a date, "
             "two different descriptions): build the shards again from one commit, or report "
             "it with the manifest if publish wrote it so"),
}


def register(codes: dict[str, tuple[str, str]]) -> None:
    """Add a kind's own codes to the catalogue, when the kind is imported. A code means one
    thing: registering it again with another meaning is a bug in the kind."""
    for code, entry in codes.items():
        if CODES.setdefault(code, entry) != entry:
            raise ValueError(f"problem code {code} is already registered as {CODES[code][0]!r}")


# Longest message a problem prints: whatever it quotes, a log stays readable and bounded.
MAX_MESSAGE = 400
# Characters that would act on a terminal or reorder text instead of showing: C0 and C1
# controls (escapes), bidirectional overrides and isolates, and other invisible formatting.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def visible(text: str) -> str:
    """Text with every control, escape and bidi character shown as an escape (\\x1b, \\u202e)."""
    def escape(match: re.Match) -> str:
        char = match.group()
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return _INVISIBLE.sub(escape, str(text))


def excerpt(text: str, limit: int = 40) -> str:
    """A short, visible quotation of what an author wrote, for a message."""
    text = visible(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    file: Path | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unregistered problem code {self.code}")
        # Messages may quote content; whatever a stage quoted, what is printed is bounded
        # and cannot act on the terminal.
        message = visible(self.message)
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "\u2026"
        object.__setattr__(self, "message", message)

    @property
    def title(self) -> str:
        return CODES[self.code][0]

    def location(self, root: Path | None = None) -> str:
        if self.file is None:
            return ""
        path = self.file
        if root is not None:
            try:
                # Not resolved: a link is named as the author sees it, never by its target.
                path = Path(os.path.abspath(self.file)).relative_to(os.path.abspath(root))
            except ValueError:
                pass
        where = visible(path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def format(self, root: Path | None = None) -> str:
        where = self.location(root)
        hint = self.hint or CODES[self.code][1]
        head = f"{where}: " if where else ""
        return f"{head}{self.code} {self.title}: {self.message}\n    hint: {hint}"


class ContentError(Exception):
    """Raised by a stage that found problems it cannot go past."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class EmbargoNotLifted(Exception):
    """`publish release` was asked for publications whose embargo has not lifted."""

    def __init__(self, waiting: list[tuple[str, str, str]]):
        # (publication, embargo instant as written, time left)
        self.waiting = waiting
        super().__init__("; ".join(f"{name} is embargoed until {instant} ({left} from now)"
                                   for name, instant, left in waiting))


class Problems(list):
    """A list of problems with the helpers every stage needs."""

    def add(self, code: str, message: str, file=None, line=None, column=None, hint=None) -> None:
        self.append(Problem(code, message, Path(file) if file else None, line, column, hint))

    def raise_if_any(self) -> None:
        if self:
            raise ContentError(self)
