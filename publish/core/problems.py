"""Problems found in content: stable codes, where they are, and how to fix them.

Every stage reports what is wrong as a :class:`Problem` instead of raising at the first one, so
that an author sees every problem of a run at once. A stage that cannot go on raises
:class:`ContentError` carrying all the problems found so far.

Codes are stable: a code once published keeps its meaning, and a retired code is never reused.
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
    "L010": ("malformed dataset", "give every row the dataset's columns, in order"),
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
    # O: the outline
    "O001": ("malformed outline", "give every heading a key, a title and either sections or indicators"),
    "O002": ("duplicate key in the outline", "give every heading and indicator its own key"),
    # V: validating content
    "V001": ("section missing from the narrative", "add a '## <section>' heading with its paragraphs"),
    "V002": ("section duplicated in the narrative", "merge the two parts under one heading"),
    "V003": ("section out of outline order", "move the section to its place in the outline's order"),
    "V004": ("unknown section", "use the title or key of a section of the outline"),
    "V005": ("unknown indicator", "use the title or key of an indicator of the outline"),
    "V006": ("indicator under the wrong section", "move the paragraph under its indicator's section"),
    "V007": ("indicator with no narrative", "add a '### <indicator>' heading and a paragraph on it"),
    "V008": ("indicator treated twice", "treat each indicator in one place"),
    "V009": ("score missing", "give every indicator a score in the dataset"),
    "V010": ("score out of range", "scores run from 1 to 10"),
    "V011": ("score not in half points", "round the score to a half point (1, 1.5, ... 10)"),
    "V012": ("country not in the dataset", "use the ISO 3166 alpha-2 code of a country in the dataset"),
    "V013": ("empty text", "write the text, or remove the entry"),
    "V014": ("text outside an indicator", "put a '### <indicator>' heading above the text"),
    "V015": ("indicator out of outline order", "move the paragraph to its place in the outline's order"),
    "V016": ("unsupported Markdown", "write plain paragraphs with inline emphasis and links only"),
    "V017": ("invalid value", "correct the value as the message says"),
    "V018": ("link not allowed", "link to an http(s) or mailto address, or to #an-anchor"),
    "V019": ("image not allowed", "put the image file in the publication's folder and name it "
                                  "by its relative path"),
    "V020": ("stylesheet reference not allowed",
             "refer only to data: URLs and files under content/, styles/ or fonts/"),
    "V021": ("two profiles for one country", "keep one profile folder for each country"),
    "V022": ("folder name contradicts the country code",
             "name the profile's folder after its country, as its outputs are named, or "
             "correct the code"),
    "V023": ("two publications would write the same files",
             "give each country of the dataset a name of its own; names are compared as they "
             "appear in file names (lower case, accents and punctuation dropped)"),
    # B: books
    "B001": ("chapter file missing", "create the chapter, or correct its name in the book's list "
                                     "of chapters"),
    "B002": ("footnote without its note", "add the note ('[^label]: text') in the same chapter, "
                                          "or remove the reference"),
    "B003": ("footnote never referred to", "refer to the note in the text ('[^label]'), or "
                                           "remove it"),
    "B004": ("cross-reference to nothing", "link to the id of a heading, figure or table of "
                                           "the book ('#its-id'); the message lists near ones"),
    "B005": ("heading out of order", "start each chapter with one '#' heading, and go down "
                                     "one level at a time (## then ###)"),
    "B006": ("the same id twice", "give each heading, figure and table its own id "
                                  "({#an-id} after it)"),
    "B007": ("figure without a description", "describe the image for readers who cannot see "
                                             "it: ![what it shows](file.svg \"Caption\")"),
    "B008": ("unsupported Markdown", "write Markdown without raw HTML; the message says what "
                                     "was found"),
    # R: rendering
    "R001": ("the renderer reported a problem", "correct the template, stylesheet or content it names"),
    "R002": ("output failed its check", "see the message; this is a bug in publish or its templates"),
    "R003": ("rendering exceeded its limits",
             "look for what makes the document huge or slow: an image, an SVG, a stylesheet; "
             "or raise the limit with --time-limit or --memory-limit"),
    "R004": ("a worker process died",
             "run again; if it happens again, report it with the output of -v"),
    "R005": ("template error", "correct the template at the place shown"),
    # D: putting outputs in place
    "D001": ("the output folder is not publish's",
             "name an empty folder, or one that publish made (it holds manifest.json)"),
    "D002": ("uncommitted changes", "commit the changes, or pass --allow-dirty to release them "
                                    "anyway (the manifest will say so)"),
    "D003": ("cannot write the outputs",
             "make room or give write access where the message says, then run again"),
}

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
