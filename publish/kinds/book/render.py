"""Rendering chapters to HTML: markdown-it's renderer, told what a book adds.

The same tokens make the print document and the EPUB's; a :class:`Medium` says where they
differ: where a cross-reference leads (one document, or the chapter's own EPUB document), where
an image is, and how a footnote is written (in the text where it is called, for WeasyPrint to
float to the foot of the page; or as an EPUB 3 note at the end of the chapter, reached by a
noteref and linking back).

Output is XHTML (void elements closed, attributes quoted), which both HTML and the EPUB's
parser accept.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

from markdown_it.renderer import RendererHTML
from markupsafe import Markup

from ...core.sources import Project
from .book import Book
from .markdown import Chapter, Note, markdown_parser


@dataclass(frozen=True)
class Medium:
    """What differs between print and EPUB."""
    name: str                   # "print" or "epub"
    project: Project

    @property
    def is_print(self) -> bool:
        return self.name == "print"

    def href(self, book: Book, target_id: str) -> str:
        """A link to a heading, figure or table: in print one document holds them all."""
        if self.is_print:
            return f"#{target_id}"
        return f"{book.targets[target_id].document}#{target_id}"

    def image_src(self, book: Book, image: Path) -> str:
        """Print: the file's path in the project (the renderer's base); EPUB: its name there."""
        if self.is_print:
            return quote(self.project.relative(image))
        return quote(epub_image_name(book, image))


def epub_image_name(book: Book, image: Path) -> str:
    """An image's name in the EPUB: its path in the book's folder, under media/."""
    return f"media/{image.relative_to(book.config.folder).as_posix()}"


class BookRenderer(RendererHTML):
    """markdown-it's HTML renderer, with the rules a book adds. A method named after a token
    type renders it; `env` carries the book, the chapter and the medium."""

    def figure(self, tokens, idx, options, env) -> str:
        figure = tokens[idx].meta["figure"]
        src = env["medium"].image_src(env["book"], figure.image)
        caption = f" {escape(figure.caption)}" if figure.caption else ""
        return (f'<figure id="{escape(figure.id)}" class="figure">\n'
                f'<img src="{escape(src)}" alt="{escape(figure.alt)}" />\n'
                f'<figcaption><span class="label">{figure.label}.</span>{caption}'
                f'</figcaption>\n</figure>\n')

    def table_open(self, tokens, idx, options, env) -> str:
        table = tokens[idx].meta["table"]
        caption = self.renderInline(table.caption, options, env).strip()
        caption = f" {caption}" if caption else ""
        return (f'<table id="{escape(table.id)}" class="table">\n'
                f'<caption><span class="label">{table.label}.</span>{caption}</caption>\n')

    def link_open(self, tokens, idx, options, env) -> str:
        """A cross-reference leads to its target, and an empty one prints the target's label;
        other links are markdown-it's."""
        token = tokens[idx]
        href = token.attrGet("href") or ""
        if not href.startswith("#"):
            return self.renderToken(tokens, idx, options, env)
        book = env["book"]
        target = href[1:]
        link = f'<a class="xref" href="{escape(env["medium"].href(book, target))}">'
        if idx + 1 < len(tokens) and tokens[idx + 1].type == "link_close":
            link += escape(book.targets[target].label)
        return link

    def footnote_ref(self, tokens, idx, options, env) -> str:
        chapter: Chapter = env["chapter"]
        note = chapter.notes[tokens[idx].meta["label"]]
        sub = tokens[idx].meta["subId"]
        if env["medium"].is_print:
            if sub:
                # A note is printed once, where it is first called; a later call repeats
                # its number, as the EPUB's does.
                return f'<span class="footnote-again">{note.number}</span>'
            # WeasyPrint floats the note to the foot of the page and leaves its call here;
            # its counter restarts with each chapter, so the call shows `note.number`.
            return f'<span class="footnote">{self.note_text(note, options, env)}</span>'
        return (f'<a id="{note.ref_id(sub)}" class="noteref" href="#{note.id}" '
                f'epub:type="noteref" role="doc-noteref">{note.number}</a>')

    def note_text(self, note: Note, options, env) -> str:
        """A note's paragraphs, inline: a floated footnote is one block."""
        return " ".join(self.renderInline(token.children or [], options, env).strip()
                        for token in note.tokens if token.type == "inline")


def chapter_html(book: Book, chapter: Chapter, medium: Medium) -> Markup:
    """A chapter's text as HTML (its notes too, in print: they are in the text)."""
    env = {"book": book, "chapter": chapter, "medium": medium}
    md = markdown_parser()
    return Markup(BookRenderer().render(chapter.tokens, md.options, env))


def notes_html(book: Book, chapter: Chapter, medium: Medium) -> Markup:
    """A chapter's notes as EPUB 3 footnotes, each linking back to where it is called."""
    renderer = BookRenderer()
    env = {"book": book, "chapter": chapter, "medium": medium}
    options = markdown_parser().options
    notes = []
    for note in chapter.referenced_notes():
        paragraphs = [renderer.renderInline(t.children or [], options, env).strip()
                      for t in note.tokens if t.type == "inline"]
        back = (f'<a class="backlink" href="#{note.ref_id(0)}" role="doc-backlink" '
                f'aria-label="Back to the text of note {note.number}">{note.number}</a> ')
        body = "".join(f"<p>{back if index == 0 else ''}{text}</p>"
                       for index, text in enumerate(paragraphs))
        notes.append(f'<aside id="{note.id}" class="footnote" epub:type="footnote" '
                     f'role="doc-footnote">{body}</aside>')
    return Markup("\n".join(notes))
