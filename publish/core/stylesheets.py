"""Stylesheets: the project's own, else its kind's; checked before rendering.

A publication names its stylesheets by their path in the project ("styles/print.css"). Where
the project has no such file, the kind's file of the same name stands in, read as if it lay
there: its url()s resolve against the project's styles/, so a kind's stylesheet uses the
project's fonts/. A project overrides a kind's stylesheet by giving the file.

Every url() and @import must stay in the project. The renderer's fetcher refuses anything else
anyway (:mod:`publish.core.fetch`); checking first names the stylesheet and line, which the
renderer cannot.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import tinycss2

from .problems import ContentError, Problems, excerpt
from .sources import ALLOWED_FOLDERS, Fields, Project

STYLES = "styles"


def kind_stand_in(project: Project, path: Path, kind_styles: Path | None) -> Path | None:
    """The kind's file that stands in for `path`, a file of the project's styles/ that the
    project does not have; None if the project has it or the kind has none of that name."""
    if kind_styles is None or project.exists(path):
        return None
    try:
        relative = Path(path).relative_to(project.root / STYLES)
    except ValueError:
        return None
    candidate = kind_styles / relative
    return candidate if ".." not in relative.parts and candidate.is_file() else None


def read_stylesheet(project: Project, href: str, kind_styles: Path | None) -> str:
    """A stylesheet's text: the project's file, else the kind's of the same name."""
    path = project.root / href
    stand_in = kind_stand_in(project, path, kind_styles)
    if stand_in is not None:  # part of the installed kind, not the author's: read plainly
        return stand_in.read_text(encoding="utf-8")
    return project.read_text(path)


@lru_cache(maxsize=32)  # the same stylesheets serve every publication of a kind
def referenced_files(project: Project, text: str) -> frozenset[Path]:
    """The files of the project a stylesheet of styles/ refers to (url(), @import), resolved
    as the renderer resolves them: for the EPUB, which must carry them."""
    found = set()
    for url, _ in _references(tinycss2.parse_stylesheet(text, skip_comments=True,
                                                        skip_whitespace=True)):
        parts = urlsplit(url)
        if not parts.scheme and parts.path:
            found.add(Path(os.path.normpath(project.root / STYLES / unquote(parts.path))))
    return frozenset(found)


def stylesheets_field(project: Project, fields: Fields, problems: Problems,
                      defaults: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The stylesheets of each medium a configuration chooses (`stylesheets: {print: [...],
    epub: [...]}`), else the kind's `defaults`: paths of files in the project's styles/."""
    chosen = dict(defaults)
    if "stylesheets" not in fields.values:
        return chosen
    media = Fields(fields.get("stylesheets"), problems, fields.file, what="'stylesheets'",
                   required={}, optional={medium: list for medium in defaults})
    for medium, paths in media.values.items():
        line = media.line(medium)
        if not paths or not all(isinstance(p, str) and p for p in paths):
            problems.add("L006", f"'{medium}' must list the paths of stylesheets, such as "
                                 f"{defaults[medium][-1]}", fields.file, line)
            continue
        for relative in paths:
            try:
                project.confine(Path(relative), within=(project.root / STYLES,),
                                named_at=(fields.file, line))
            except ContentError as error:
                problems.extend(error.problems)
        chosen[medium] = tuple(paths)
    return chosen


def check_stylesheets(project: Project, stylesheets: tuple[str, ...],
                      kind_styles: Path | None = None) -> Problems:
    problems = Problems()
    allowed = tuple(project.root / folder for folder in ALLOWED_FOLDERS)
    for href in dict.fromkeys(stylesheets):
        path = project.root / href
        try:
            text = read_stylesheet(project, href, kind_styles)
        except ContentError as error:  # missing, too large, not UTF-8
            problems.extend(error.problems)
            continue
        rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
        stand_in = kind_stand_in(project, path, kind_styles)
        whose = f" (the kind's own {path.name}: the project has none)" if stand_in else ""
        for url, line in _references(rules):
            reason = _refused(project, url, path.parent, allowed)
            if reason:
                problems.add("V020", f"'{excerpt(url)}' {reason}{whose}", path, line)
    return problems


def _references(nodes):
    """Every URL a stylesheet refers to, with its line."""
    for node in nodes:
        if node.type == "url":
            yield node.value, node.source_line
        elif node.type == "function" and node.lower_name in ("url", "src"):
            for argument in node.arguments:
                if argument.type == "string":
                    yield argument.value, argument.source_line
        elif node.type == "at-rule" and node.lower_at_keyword == "import":
            for token in node.prelude:
                if token.type == "string":
                    yield token.value, token.source_line
        for attribute in ("prelude", "content", "arguments"):
            children = getattr(node, attribute, None)
            if children:
                if node.type in ("at-rule", "qualified-rule") and attribute == "content":
                    children = tinycss2.parse_blocks_contents(children) \
                        if node.type == "at-rule" else tinycss2.parse_declaration_list(children)
                yield from _references(children)
        if node.type == "declaration":
            yield from _references(node.value)


def _refused(project: Project, url: str, base: Path, allowed: tuple[Path, ...]) -> str | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return None
    if scheme and scheme != "file":
        return f"uses {scheme}:, and a build may not use the network"
    path = Path(unquote(parts.path))
    try:
        resolved = project.confine(path if path.is_absolute() else base / path, within=allowed)
    except ContentError:
        return "is outside the project's " + ", ".join(ALLOWED_FOLDERS)
    if not resolved.is_file():
        return "does not exist"
    return None
