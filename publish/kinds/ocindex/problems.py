"""The problem codes of the Index's content: its outline, datasets and narratives."""
from __future__ import annotations

from ...core.problems import register

CODES: dict[str, tuple[str, str]] = {
    # L: loading files
    "L010": ("malformed dataset", "give every row the dataset's columns, in order"),
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
    "V021": ("two profiles for one country", "keep one profile folder for each country"),
    "V022": ("folder name contradicts the country code",
             "name the profile's folder after its country, as its outputs are named, or "
             "correct the code"),
    "V023": ("two publications would write the same files",
             "give each country of the dataset a name of its own; names are compared as they "
             "appear in file names (lower case, accents and punctuation dropped)"),
}

register(CODES)
