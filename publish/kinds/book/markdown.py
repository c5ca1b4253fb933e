"""Reading a chapter: Markdown parsed by markdown-it-py, and the book's conventions checked.

CommonMark with GFM tables and footnotes (mdit-py-plugins), ids for headings, `{#id}` after an
image. The parser's tokens are the chapter: the checks read them and rendering renders them,
so that what is checked is what is printed. On top of Markdown, a chapter has:

- one '#' heading, its title, first; then '##', '###' going down one level at a time; a
  heading's id is made from its words, or given after it: `## Setting up {#setup}`;
- footnotes: `text[^label]` and, anywhere in the chapter, `[^label]: the note`;
- figures: an image alone in its paragraph, `![what it shows](images/x.svg "Caption"){#fig-x}`;
- table captions: a paragraph "Table: Caption {#tab-x}" right before the table;
- cross-references: links to `#an-id`, resolved across the book (:mod:`.book`).

Raw HTML is refused, never passed through: the Markdown parser is the only source of markup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.anchors.index import slugify  # not re-exported (mdit-py-plugins 0.7)
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from ...core.problems import Problems, excerpt
from ...core.references import local_image, walk, web_link
from ...core.sources import Project

# An id an author gives: it must work as an XML id and a URL fragment, unchanged.
ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# `{#an-id}` ending a heading or a table's caption.
TRAILING_ID = re.compile(r"\s*\{#([^{}\s]*)\}\s*$")
TABLE_CAPTION = "Table: "
# A footnote reference the parser left as text: its note is missing.
UNMATCHED_NOTE = re.compile(r"\[\^([^\]\s]+)\]")


@dataclass(eq=False)
class Heading:
    level: int
    id: str
    title: str          # its words: for the contents, bookmarks and cross-references
    line: int
    explicit: bool      # the author gave its id; otherwise it is made from its words
    token: Token        # heading_open, which carries the id
    document: str = ""  # the EPUB document it is in

    @property
    def label(self) -> str:
        """What an empty cross-reference to it prints."""
        return self.title


@dataclass(eq=False)
class Figure:
    id: str | None      # None until the book numbers its figures
    explicit: bool
    alt: str
    caption: str
    image: Path         # the file, inside the book's folder
    line: int
    number: int = 0
    document: str = ""

    @property
    def label(self) -> str:
        return f"Figure {self.number}"


@dataclass(eq=False)
class Table:
    id: str | None
    explicit: bool
    caption: list[Token]  # the caption's inline tokens, without "Table: " and its id
    line: int
    token: Token          # table_open
    number: int = 0
    document: str = ""

    @property
    def label(self) -> str:
        return f"Table {self.number}"


@dataclass(eq=False)
class Note:
    label: str
    line: int | None
    tokens: list[Token]   # its paragraphs
    number: int = 0       # its number in the chapter, in the order of first reference
    id: str = ""
    refs: int = 0         # how many times the text refers to it

    def ref_id(self, sub: int) -> str:
        """The id of its `sub`th reference (0: the first)."""
        return f"fnref-{self.id.removeprefix('fn-')}" + (f"-{sub + 1}" if sub else "")


@dataclass(eq=False)
class CrossReference:
    target: str
    line: int
    token: Token           # link_open


@dataclass(eq=False)
class Chapter:
    file: Path             # its Markdown (book.yaml for a generated chapter)
    tokens: list[Token]
    headings: list[Heading] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    xrefs: list[CrossReference] = field(default_factory=list)
    number: int = 0
    document: str = ""     # its EPUB document, such as "chapter-2.xhtml"

    @property
    def title(self) -> str:
        return self.headings[0].title if self.headings else ""

    @property
    def id(self) -> str:
        return self.headings[0].id if self.headings else ""

    def referenced_notes(self) -> list[Note]:
        return sorted((note for note in self.notes.values() if note.refs),
                      key=lambda note: note.number)


# -- the parser -----------------------------------------------------------------------------

@cache
def markdown_parser() -> MarkdownIt:
    """CommonMark, GFM tables, footnotes, ids on headings and after images.

    Raw HTML stays on in the parser so that it comes out as tokens the checks refuse by
    name; every link is let through (validateLink), so that a refused one is reported
    rather than quietly printed as text. Footnotes stay where they are written (no
    move_to_end): the chapter takes them out itself, with their lines.
    """
    md = MarkdownIt("commonmark", {"xhtmlOut": True})
    md.enable("table")
    md.validateLink = lambda url: True
    md.use(footnote_plugin, inline=False, move_to_end=False)
    md.use(attrs_plugin, after=("image",), allowed=("id",))
    md.core.ruler.before("text_join", "unmatched_notes", _unmatched_notes)
    md.core.ruler.after("text_join", "heading_ids", _heading_ids)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_slug)
    return md


def heading_slug(title: str) -> str:
    """A heading's id made from its words, as GitHub makes them; never empty, never starting
    with a digit (an XML id may not)."""
    slug = slugify(title)
    return slug if slug[:1].isalpha() else f"section-{slug}".rstrip("-")


def _heading_ids(state: StateCore) -> None:
    """`## Title {#an-id}`: the id is the heading's, and leaves its words. Runs once text_join
    has made the heading's text one token, and before the anchors plugin, which keeps an id
    a heading has and makes one for the others."""
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        given = take_trailing_id(state.tokens[index + 1].children or [])
        token.meta["explicit_id"] = given is not None
        if given is not None:
            token.attrSet("id", given)


def _unmatched_notes(state: StateCore) -> None:
    """Footnote references the parser left as text, for want of their note: env's
    "unmatched_notes", (label, line). Read before text_join merges escaped characters into
    the text, so that an escaped "\\[^x]" is not taken for one."""
    found = state.env.setdefault("unmatched_notes", [])
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child, line in _children_with_lines(token):
            if child.type == "text":
                found.extend((match.group(1), line)
                             for match in UNMATCHED_NOTE.finditer(child.content))


def take_trailing_id(children: list[Token]) -> str | None:
    """The `{#id}` ending some inline tokens, taken off their last text; None if none."""
    if not children or children[-1].type != "text":
        return None
    match = TRAILING_ID.search(children[-1].content)
    if match is None:
        return None
    children[-1].content = children[-1].content[: match.start()]
    if not children[-1].content:
        children.pop()
    return match.group(1)


# -- reading a chapter ----------------------------------------------------------------------

def parse_chapter(project: Project, source: str, file: Path, folder: Path,
                  problems: Problems) -> Chapter:
    """A chapter's tokens and what the book needs of them; its problems added to `problems`.

    `file`: where problems point; `folder`: the book's folder, which its images must be in.
    """
    env: dict = {}
    tokens = markdown_parser().parse(source, env)
    tokens, notes = _take_notes(tokens, file, problems)
    chapter = Chapter(file, tokens, notes=notes)
    _refuse_raw_html(chapter, problems)
    _headings(chapter, problems)
    chapter.tokens = _figures(project, chapter, file.parent, folder, problems)
    chapter.tokens = _tables(chapter, problems)
    _inline(chapter, problems)
    for label, line in env["unmatched_notes"]:
        problems.add("B002", f"[^{excerpt(label)}] refers to no note", file, line)
    for note in notes.values():
        if not note.refs:
            problems.add("B003", f"the note [^{excerpt(note.label)}] is never referred to",
                         file, note.line)
    return chapter


def line_of(token: Token) -> int | None:
    return token.map[0] + 1 if token.map else None


def _take_notes(tokens: list[Token], file: Path,
                problems: Problems) -> tuple[list[Token], dict[str, Note]]:
    """The text without its footnotes' definitions, and the notes by label."""
    kept: list[Token] = []
    notes: dict[str, Note] = {}
    note = None
    for token in tokens:
        if token.type == "footnote_reference_open":
            note = Note(token.meta["label"], line_of(token), [])
            if note.label in notes:
                problems.add("B006", f"the note [^{excerpt(note.label)}] is written twice "
                                     f"(first on line {notes[note.label].line})",
                             file, note.line, hint="keep one note of each label")
            else:
                notes[note.label] = note
        elif token.type == "footnote_reference_close":
            note = None
        elif note is not None:
            note.tokens.append(token)
        else:
            kept.append(token)
    for note in notes.values():
        others = {t.type for t in note.tokens} - {"paragraph_open", "inline", "paragraph_close"}
        if others:
            problems.add("B008", f"the note [^{excerpt(note.label)}] holds more than "
                                 "paragraphs", file, note.line,
                         hint="write a note as one or more paragraphs of text")
    return kept, notes


def _all_block_tokens(chapter: Chapter):
    yield from chapter.tokens
    for note in chapter.notes.values():
        yield from note.tokens


def _refuse_raw_html(chapter: Chapter, problems: Problems) -> None:
    for token in _all_block_tokens(chapter):
        if token.type == "html_block":
            first_line = token.content.strip().splitlines()[0]
            problems.add("B008", f"raw HTML: {excerpt(first_line)}", chapter.file,
                         line_of(token))
        for child, line in _children_with_lines(token):
            if child.type == "html_inline":
                problems.add("B008", f"raw HTML: {excerpt(child.content)}", chapter.file, line)


def _children_with_lines(inline: Token):
    """An inline token's children, each with its line (the block's, plus the line breaks
    before it)."""
    line = line_of(inline) or 0
    for child in walk(inline.children or []):
        yield child, line or None
        if child.type in ("softbreak", "hardbreak"):
            line += 1



def plain_text(children: list[Token]) -> str:
    """The words of inline tokens, without markup."""
    words = [child.content for child in walk(children)
             if child.type in ("text", "code_inline")]
    return " ".join("".join(words).split())


def _headings(chapter: Chapter, problems: Problems) -> None:
    """The chapter's headings: a '#' title first and once, then one level down at a time."""
    file = chapter.file
    first = next((t for t in chapter.tokens if t.nesting >= 0), None)
    if first is None or first.type != "heading_open" or first.tag != "h1":
        problems.add("B005", "a chapter starts with its title, a '#' heading",
                     file, line_of(first) if first else 1)
    previous = 0
    for index, token in enumerate(chapter.tokens):
        if token.type != "heading_open":
            continue
        level, line = int(token.tag[1:]), line_of(token)
        inline = chapter.tokens[index + 1]
        if level == 1 and previous:
            problems.add("B005", "a chapter has one '#' heading, its title; this is another",
                         file, line)
        elif level > previous + 1 and previous:
            problems.add("B005", f"'{'#' * level}' comes after '{'#' * previous}': go down "
                                 "one level at a time", file, line)
        previous = level
        _check_id(token.attrGet("id"), token.meta.get("explicit_id"), file, line, problems)
        if any(child.type == "footnote_ref" for child in walk(inline.children or [])):
            problems.add("B008", "a footnote in a heading", file, line,
                         hint="put the footnote in the text below the heading")
        title = plain_text(inline.children or [])
        if not title:
            problems.add("V013", "a heading without words", file, line)
        chapter.headings.append(Heading(level, token.attrGet("id"), title, line,
                                        bool(token.meta.get("explicit_id")), token))


def _check_id(given, explicit: bool, file: Path, line: int | None, problems: Problems) -> None:
    if explicit and not ID.fullmatch(given or ""):
        problems.add("V017", f"'{{#{excerpt(given or '')}}}' is not an id", file, line,
                     hint="an id starts with a letter, then letters, digits, '-', '_' or "
                          "'.': {#fig-pipeline}")


def _figures(project: Project, chapter: Chapter, here: Path, folder: Path,
             problems: Problems) -> list[Token]:
    """The tokens with each image alone in its paragraph made a figure token."""
    tokens = chapter.tokens
    result: list[Token] = []
    index = 0
    while index < len(tokens):
        image = _lone_image(tokens, index)
        if image is None:
            result.append(tokens[index])
            index += 1
            continue
        line = line_of(tokens[index])
        path = local_image(project, image.attrGet("src") or "", here, folder, chapter.file,
                           line, problems)
        alt = plain_text(image.children or [])
        if not alt:
            problems.add("B007", f"the image '{excerpt(image.attrGet('src') or '')}' has no "
                                 "description", chapter.file, line)
        given = image.attrGet("id")
        _check_id(given, given is not None, chapter.file, line, problems)
        figure = Figure(given, given is not None, alt, (image.attrGet("title") or "").strip(),
                        path, line)
        chapter.figures.append(figure)
        token = Token("figure", "figure", 0, map=tokens[index].map, meta={"figure": figure})
        result.append(token)
        index += 3  # paragraph_open, inline, paragraph_close
    return result


def _lone_image(tokens: list[Token], index: int) -> Token | None:
    """The image of a paragraph that holds nothing else, if tokens[index] opens one."""
    if tokens[index].type != "paragraph_open" or index + 2 >= len(tokens):
        return None
    children = [c for c in tokens[index + 1].children or []
                if not (c.type == "text" and not c.content.strip())]
    if len(children) == 1 and children[0].type == "image":
        return children[0]
    return None


def _tables(chapter: Chapter, problems: Problems) -> list[Token]:
    """The tokens with each table's caption paragraph ("Table: ...") moved into its table."""
    result: list[Token] = []
    for token in chapter.tokens:
        if token.type == "th_open":
            token.attrSet("scope", "col")
        if token.type != "table_open":
            result.append(token)
            continue
        caption = _caption(result)
        line = line_of(token)
        given = None
        if caption is not None:
            line = line_of(caption)
            del result[-3:]
            children = list(caption.children or [])
            children[0] = _without_prefix(children[0])
            given = take_trailing_id(children)
            _check_id(given, given is not None, chapter.file, line, problems)
            caption = children
        table = Table(given, given is not None, caption or [], line, token)
        token.meta["table"] = table
        chapter.tables.append(table)
        result.append(token)
    return result


def _caption(before: list[Token]) -> Token | None:
    """The inline token of a "Table: ..." paragraph ending `before`, if it does."""
    if len(before) < 3 or before[-3].type != "paragraph_open":
        return None
    inline = before[-2]
    first = (inline.children or [None])[0]
    if first is None or first.type != "text" or not first.content.startswith(TABLE_CAPTION):
        return None
    return inline


def _without_prefix(text: Token) -> Token:
    """A copy of the caption's first text without "Table: " (the paragraph's own is kept)."""
    return Token(text.type, text.tag, text.nesting, content=text.content[len(TABLE_CAPTION):])


def _inline(chapter: Chapter, problems: Problems) -> None:
    """Links, footnote references and images in the text, in reading order; then in notes."""
    for token in chapter.tokens:
        if token.type == "table_open" and token.meta["table"].caption:
            caption = Token("inline", "", 0, map=token.map, children=token.meta["table"].caption)
            _inline_token(chapter, caption, problems, in_note=False)
        elif token.type == "inline":
            _inline_token(chapter, token, problems, in_note=False)
    for note in chapter.notes.values():
        for token in note.tokens:
            if token.type == "inline":
                _inline_token(chapter, token, problems, in_note=True)


def _inline_token(chapter: Chapter, inline: Token, problems: Problems, *, in_note: bool) -> None:
    file = chapter.file
    for child, line in _children_with_lines(inline):
        if child.type == "link_open":
            _link(chapter, child, line, problems)
        elif child.type == "image":
            problems.add("B008", f"the image '{excerpt(child.attrGet('src') or '')}' is in a "
                                 "paragraph with text", file, line,
                         hint="put an image alone in its paragraph, to make it a figure: "
                              "![what it shows](file.svg \"Caption\"){#fig-id}")
        elif child.type == "footnote_ref":
            if in_note:
                problems.add("B008", "a footnote inside a note", file, line,
                             hint="write the second note's words into the first")
            _refer(chapter.notes[child.meta["label"]], chapter)


def _refer(note: Note, chapter: Chapter) -> None:
    if not note.refs:
        note.number = 1 + sum(1 for other in chapter.notes.values() if other.refs)
    note.refs += 1


def _link(chapter: Chapter, token: Token, line: int | None, problems: Problems) -> None:
    href = token.attrGet("href") or ""
    if href.startswith("#"):
        chapter.xrefs.append(CrossReference(unquote(href[1:]), line, token))
        return
    if web_link(href):
        return
    problems.add("V018", f"link to '{excerpt(href)}' is not allowed", chapter.file, line,
                 hint="link to an http(s) or mailto address, or to the id of a heading, "
                      "figure or table of the book: [](#its-id)")
