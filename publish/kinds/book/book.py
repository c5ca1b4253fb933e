"""A book: its chapters read, then what spans chapters: numbers, ids and cross-references.

Figures and tables are numbered across the book; every heading, figure and table has an id
unique in the book (one HTML document prints it all); a cross-reference may point to any of
them, in any chapter. Every problem of every chapter is collected before the book fails.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from ...core.problems import ContentError, Problems, excerpt
from ...core.sources import Project
from .codes import GENERATED
from .config import BookConfig, ChapterSource
from .markdown import Chapter, Figure, Heading, Table, parse_chapter

Target = Heading | Figure | Table


@dataclass(eq=False)
class Book:
    config: BookConfig
    chapters: list[Chapter]
    targets: dict[str, Target]   # id -> what it names

    @property
    def images(self) -> list[Path]:
        """The image files of its figures, each once, in order."""
        return list(dict.fromkeys(figure.image for chapter in self.chapters
                                  for figure in chapter.figures))

    @property
    def files(self) -> list[Path]:
        """The project's files it is made of: book.yaml, its chapters, its images."""
        chapters = [c.file for c in self.chapters]
        return list(dict.fromkeys([self.config.file, *chapters, *self.images]))


def load_book(project: Project, config: BookConfig) -> tuple[Book, Problems]:
    """The book of a configuration, and every problem of its chapters."""
    problems = Problems()
    chapters = []
    for source in config.chapters:
        chapter = _read_chapter(project, config, source, problems)
        if chapter is not None:
            chapter.number = len(chapters) + 1
            chapter.document = f"chapter-{chapter.number}.xhtml"
            chapters.append(chapter)
    _number(chapters)
    targets = _identify(chapters, config.folder, problems)
    if len(chapters) == len(config.chapters):
        # A chapter that could not be read takes its ids with it: links to them would only
        # repeat that problem.
        _resolve(chapters, targets, problems)
    _name_notes(chapters)
    return Book(config, chapters, targets), problems


def _read_chapter(project: Project, config: BookConfig, source: ChapterSource,
                  problems: Problems) -> Chapter | None:
    if source.generated is not None:
        text, file = GENERATED[source.generated](), config.file
    else:
        file = source.path
        if not project.exists(file):
            problems.add("B001", f"'{excerpt(project.relative(file))}' does not exist",
                         config.file, source.line)
            return None
        try:
            text = project.read_text(file)
        except ContentError as error:
            problems.extend(error.problems)
            return None
    return parse_chapter(project, text, file, config.folder, problems)


def _number(chapters: list[Chapter]) -> None:
    """Figures and tables numbered across the book; everything told its EPUB document."""
    figures = tables = 0
    for chapter in chapters:
        for heading in chapter.headings:
            heading.document = chapter.document
        for figure in chapter.figures:
            figures += 1
            figure.number, figure.document = figures, chapter.document
        for table in chapter.tables:
            tables += 1
            table.number, table.document = tables, chapter.document


def _identify(chapters: list[Chapter], folder: Path, problems: Problems) -> dict[str, Target]:
    """Every target by its id. Ids authors give must be unique in the book (B006); ids made
    from a heading's words, or a figure's or table's number, give way to them."""
    targets: dict[str, Target] = {}
    places: dict[str, tuple[Path, int | None]] = {}
    every = [(chapter, target) for chapter in chapters
             for target in (*chapter.headings, *chapter.figures, *chapter.tables)]
    for chapter, target in every:
        if not target.explicit:
            continue
        if target.id in targets:
            file, line = places[target.id]
            problems.add("B006", f"the id '{excerpt(target.id)}' is also on "
                                 f"{file.relative_to(folder).as_posix()}:{line}",
                         chapter.file, target.line)
            continue
        targets[target.id] = target
        places[target.id] = (chapter.file, target.line)
    for _chapter, target in every:
        if target.explicit:
            continue
        target.id = _unique(_made_id(target), targets)
        if isinstance(target, Heading):
            target.token.attrSet("id", target.id)
        targets[target.id] = target
    return targets


def _made_id(target: Target) -> str:
    if isinstance(target, Figure):
        return f"figure-{target.number}"
    if isinstance(target, Table):
        return f"table-{target.number}"
    return target.id


def _unique(wanted: str, taken: dict[str, Target]) -> str:
    """`wanted`, or with the first free suffix (-1, -2...), as the anchors plugin does."""
    found, index = wanted, 0
    while found in taken:
        index += 1
        found = f"{wanted}-{index}"
    return found


def _resolve(chapters: list[Chapter], targets: dict[str, Target], problems: Problems) -> None:
    """Every cross-reference leads to a target of the book (B004)."""
    for chapter in chapters:
        for xref in chapter.xrefs:
            if xref.target in targets:
                continue
            near = difflib.get_close_matches(xref.target, list(targets), n=3)
            hint = f"; did you mean {', '.join('#' + n for n in near)}?" if near else ""
            problems.add("B004", f"'#{excerpt(xref.target)}' is not the id of a heading, "
                                 f"figure or table of the book{hint}", chapter.file, xref.line)


def _name_notes(chapters: list[Chapter]) -> None:
    """Notes' ids: by chapter and number, so that labels may repeat from chapter to chapter."""
    for chapter in chapters:
        for note in chapter.notes.values():
            note.id = f"fn-{chapter.number}-{note.number}"
