"""Chapters that publish writes itself, from its own data: `{generated: problem-codes}`.

A generated chapter is written as Markdown and then read like any other chapter, so that it
is numbered, checked, printed and put in the EPUB the same way. Everything it quotes is
escaped, so that a hint's `[^label]` or `|` shows as written.
"""
from __future__ import annotations

import importlib
import re

from ...core.problems import CODES

# The letter of a code -> the stage of a run whose problems it names.
GROUPS = {
    "L": "Loading files",
    "O": "The outline of an edition",
    "V": "Validating content",
    "B": "Books",
    "R": "Rendering",
    "D": "Putting outputs in place",
}

INTRO = (
    "Every problem publish finds has a code: a letter for the stage of the run that found "
    "it, and a number. A problem names its file and line, says what is wrong there, and "
    "gives a hint. Every problem of a run is reported before the run stops. A code keeps its "
    "meaning from one version of publish to the next, and a retired code is never reused."
)


def escaped(text: str) -> str:
    """Text shown as written: every ASCII punctuation character escaped (CommonMark lets a
    backslash escape any of them, and a GFM table cell a '|')."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def problem_codes() -> str:
    """The chapter on problem codes: one table for each stage, every code with its hint."""
    lines = ["# Problem codes {#problem-codes}", "", escaped(INTRO), ""]
    for letter, codes in _by_letter().items():
        group = GROUPS.get(letter, f"Other codes ({letter})")
        lines += [f"## {escaped(group)} {{#codes-{letter.lower()}}}", "",
                  f"Table: {escaped(f'Codes {letter}: {group.lower()}')} "
                  f"{{#table-codes-{letter.lower()}}}", "",
                  "| Code | What is wrong | How to fix it |",
                  "| --- | --- | --- |"]
        lines += [f"| {code} | {escaped(what)} | {escaped(fix)} |"
                  for code, (what, fix) in codes.items()]
        lines.append("")
    return "\n".join(lines)


def _catalogue() -> dict[str, tuple[str, str]]:
    """Every code of the core and of the kinds that come with publish: each kind registers
    its own codes when it is imported."""
    from .. import BUILTIN
    for source in BUILTIN.values():
        importlib.import_module(source.partition(":")[0])
    return dict(sorted(CODES.items()))


def _by_letter() -> dict[str, dict[str, tuple[str, str]]]:
    """The codes by their letter, the letters in the order of GROUPS (others after)."""
    found: dict[str, dict[str, tuple[str, str]]] = {letter: {} for letter in GROUPS}
    for code, entry in _catalogue().items():
        found.setdefault(code[0], {})[code] = entry
    return {letter: codes for letter, codes in found.items() if codes}


# name in book.yaml -> the function that writes the chapter's Markdown
GENERATED = {"problem-codes": problem_codes}
