"""Loading a narrative: Markdown under the outline's sections and indicators.

`## Section` names a section of the outline, `### Indicator[; Indicator]` what the paragraphs
below it treat. Markdown is CommonMark with raw HTML off, so an author's markup is always
shown as text. Links may point to http(s), mailto or an anchor of the document; images only
to files in the publication's own folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from ...core.problems import Problems, excerpt
from ...core.references import local_image, walk, web_link
from ...core.sources import Project
from .outline import Heading, Indicator, Outline


@dataclass(eq=False)
class Paragraph:
    html: str   # rendered inline Markdown, autoescaped
    text: str   # the words alone, for checks and tests
    line: int
    images: list[Path] = field(default_factory=list)  # the files its images show


@dataclass(eq=False)
class Passage:
    """Paragraphs on one or more indicators, under a '### indicator' heading."""
    indicators: list[Indicator]
    paragraphs: list[Paragraph]
    line: int


@dataclass(eq=False)
class SectionText:
    """The narrative under one '## section' heading."""
    section: Heading
    passages: list[Passage]
    line: int


@dataclass(eq=False)
class Narrative:
    file: Path
    sections: list[SectionText]

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for s in self.sections for passage in s.passages for p in passage.paragraphs]


def markdown_parser() -> MarkdownIt:
    """CommonMark with raw HTML off: authors' markup is text, never markup.

    markdown-it would quietly print a file: or javascript: link as text; every link and image
    is let through to :func:`_paragraph` instead, which refuses what it must, with a problem.
    """
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.validateLink = lambda url: True
    return md


def _paragraph(project: Project, md: MarkdownIt, inline, file: Path, line: int, folder: Path,
               problems: Problems) -> Paragraph:
    """One paragraph's inline Markdown, its links and images checked, rendered to HTML."""
    images = []
    for token in walk(inline.children or []):
        if token.type == "link_open":
            href = token.attrGet("href") or ""
            if not _allowed_link(href):
                problems.add("V018", f"link to '{excerpt(href)}' is not allowed", file, line)
                token.attrSet("href", "#")
        elif token.type == "image":
            image = local_image(project, token.attrGet("src") or "", folder, folder, file,
                                line, problems)
            if image is None:
                token.attrSet("src", "")
            else:
                images.append(image)
                token.attrSet("src", image.as_uri())
    html = md.renderer.render(inline.children or [], md.options, {}).strip()
    return Paragraph(html, _plain([inline]), line, images)



def _allowed_link(href: str) -> bool:
    """To an anchor of the document, or to the web or mail."""
    return len(href) > 1 if href.startswith("#") else web_link(href)


def inline_text(project: Project, source: str, file: Path, line: int, folder: Path,
                problems: Problems) -> Paragraph:
    """A short text written in YAML (such as a funding note), as one paragraph."""
    md = markdown_parser()
    tokens = md.parse(source)
    inline = [t for t in tokens if t.type == "inline"]
    kinds = {t.type for t in tokens} - {"paragraph_open", "paragraph_close", "inline"}
    if kinds or len(inline) > 1:
        problems.add("V016", "write one plain paragraph here", file, line)
    if not inline:
        return Paragraph("", "", line)
    return _paragraph(project, md, inline[0], file, line, folder, problems)


def _refuse_raw_html(source: str, path: Path, problems: Problems) -> None:
    """Raw HTML would be shown as text; say so instead of printing tags in the report."""
    html_aware = MarkdownIt("commonmark", {"html": True})
    for token in html_aware.parse(source):
        line = token.map[0] + 1 if token.map else None
        found = token.type == "html_block" or any(
            child.type == "html_inline" for child in walk(token.children or []))
        if found:
            problems.add("V016", "raw HTML is not allowed in a narrative", path, line,
                         hint="write Markdown: *emphasis*, **strong**, [links](https://...)")


def _plain(inline_tokens) -> str:
    words = []
    for token in inline_tokens:
        for child in walk(token.children or []):
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
    return " ".join("".join(words).split())


def load_narrative(project: Project, path: Path, outline: Outline) -> Narrative:
    """Parse narrative.md: '## section', '### indicator[; indicator]', then paragraphs."""
    md = markdown_parser()
    source = project.read_text(path)
    tokens = md.parse(source)
    problems = Problems()
    _refuse_raw_html(source, path, problems)
    narrative = Narrative(path, [])
    if not tokens:
        problems.add("V013", "the narrative is empty", path)
    section: SectionText | None = None
    passage: Passage | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = token.map[0] + 1 if token.map else None
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            name = tokens[index + 1].content
            if token.tag == "h2":
                passage = None
                section = _section(name, line, outline, narrative, path, problems)
            else:
                passage = _passage(name, line, outline, section, path, problems)
            index += 3
            continue
        if token.type == "paragraph_open":
            paragraph = _paragraph(project, md, tokens[index + 1], path, line, path.parent,
                                   problems)
            if passage is None:
                problems.add("V014", "this paragraph has no '### indicator' heading above it",
                             path, line)
            elif not paragraph.text:
                problems.add("V013", "the paragraph has no words", path, line)
            else:
                passage.paragraphs.append(paragraph)
            index += 3
            continue
        if token.nesting >= 0 and token.type != "inline":
            kind = token.type.replace("_open", "").replace("_", " ")
            problems.add("V016", f"a {kind} ({token.markup or token.tag}) is not part of a "
                                 "narrative", path, line)
            if token.nesting == 1:
                index = _closing(tokens, index)
        index += 1
    for section_text in narrative.sections:
        for passage_ in section_text.passages:
            if not passage_.paragraphs:
                problems.add("V013", "no paragraph under this heading", path, passage_.line)
    problems.raise_if_any()
    return narrative


def _section(name, line, outline, narrative, path, problems) -> SectionText | None:
    heading = outline.find_section(name)
    if heading is None:
        problems.add("V004", f"'{excerpt(name)}' is not a section of the outline", path, line,
                     hint=_choices(outline.leaf_sections))
        return None
    section = SectionText(heading, [], line)
    narrative.sections.append(section)
    return section


def _passage(name, line, outline, section, path, problems) -> Passage | None:
    if section is None:
        problems.add("V014", "an indicator heading needs a '## section' heading above it",
                     path, line)
        return None
    indicators = []
    for part in filter(None, (p.strip() for p in name.split(";"))):
        indicator = outline.find_indicator(part)
        if indicator is None:
            problems.add("V005", f"'{excerpt(part)}' is not an indicator of the outline", path, line,
                         hint=_choices(section.section.indicators))
        elif indicator.section is not section.section:
            problems.add("V006", f"'{indicator.title}' belongs under "
                                 f"'{indicator.section.title}', not '{section.section.title}'",
                         path, line)
        else:
            indicators.append(indicator)
    if not indicators:
        return None
    passage = Passage(indicators, [], line)
    section.passages.append(passage)
    return passage


def _closing(tokens, index) -> int:
    depth = 0
    for position in range(index, len(tokens)):
        depth += tokens[position].nesting
        if depth == 0:
            return position
    return len(tokens) - 1


def _choices(items) -> str:
    return "use one of: " + "; ".join(item.title for item in items)
