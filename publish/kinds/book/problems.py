"""The problem codes of books."""
from __future__ import annotations

from ...core.problems import register

CODES: dict[str, tuple[str, str]] = {
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
}

register(CODES)
