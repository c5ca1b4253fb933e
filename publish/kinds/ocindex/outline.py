"""The Index's outline: headings and indicators in report order, read from outline.yaml.

The outline is the one source of truth for the report's structure. The narrative is checked
against it, the templates lay the report out from it, the figures are derived along it, and the
tests read it to know what every output must contain.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ...core.problems import Problems
from ...core.sources import Fields, Project

AVERAGES = ("indicators", "sections")


@dataclass(eq=False)
class Indicator:
    key: str
    title: str
    column: str
    definition: str
    section: Heading = field(repr=False, default=None)


@dataclass(eq=False)
class Heading:
    key: str
    title: str
    level: int
    average: str = "indicators"
    ranked: bool = False
    sections: list[Heading] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    parent: Heading | None = field(repr=False, default=None)

    def walk(self) -> Iterator[Heading]:
        """This heading, then every heading below it, in report order."""
        yield self
        for section in self.sections:
            yield from section.walk()

    def all_indicators(self) -> list[Indicator]:
        """Every indicator below this heading, in report order."""
        return [indicator for heading in self.walk() for indicator in heading.indicators]

    @property
    def holds_indicators(self) -> bool:
        return bool(self.indicators)


@dataclass(eq=False)
class Outline:
    file: Path
    pillars: list[Heading]

    @property
    def headings(self) -> list[Heading]:
        return [heading for pillar in self.pillars for heading in pillar.walk()]

    @property
    def indicators(self) -> list[Indicator]:
        return [indicator for pillar in self.pillars for indicator in pillar.all_indicators()]

    @property
    def leaf_sections(self) -> list[Heading]:
        """The headings that hold indicators: the sections a narrative is written under."""
        return [heading for heading in self.headings if heading.holds_indicators]

    def find_section(self, name: str) -> Heading | None:
        return _find(self.leaf_sections, name)

    def find_indicator(self, name: str) -> Indicator | None:
        return _find(self.indicators, name)


def _find(items, name: str):
    wanted = " ".join(name.split()).casefold()
    for item in items:
        if wanted in (item.key.casefold(), item.title.casefold()):
            return item
    return None


def load_outline(project: Project, path: Path) -> Outline:
    problems = Problems()
    root = Fields(project.load_yaml(path), problems, path, required={"sections": list}, what="the outline")
    pillars = [_heading(node, 1, None, problems, path) for node in root.get("sections", [])]
    outline = Outline(path, [p for p in pillars if p is not None])
    _check_keys_unique(outline, problems)
    problems.raise_if_any()
    return outline


def _heading(node, level, parent, problems, path) -> Heading | None:
    fields = Fields(node, problems, path, what="an outline heading",
                    required={"key": str, "title": str},
                    optional={"average": str, "ranked": bool, "sections": list, "indicators": list})
    if fields.node is None or "key" not in fields.values or "title" not in fields.values:
        return None
    heading = Heading(fields.get("key"), fields.get("title"), level,
                      fields.get("average", "indicators"), fields.get("ranked", False),
                      parent=parent)
    if heading.average not in AVERAGES:
        problems.add("O001", f"average must be one of {', '.join(AVERAGES)}",
                     path, fields.line("average"))
    has_sections, has_indicators = "sections" in fields.values, "indicators" in fields.values
    if has_sections == has_indicators:
        problems.add("O001", f"heading '{heading.key}' needs either sections or indicators",
                     path, fields.node.line)
    for child in fields.get("sections", []):
        section = _heading(child, level + 1, heading, problems, path)
        if section is not None:
            heading.sections.append(section)
    for child in fields.get("indicators", []):
        indicator = _indicator(child, heading, problems, path)
        if indicator is not None:
            heading.indicators.append(indicator)
    return heading


def _indicator(node, section, problems, path) -> Indicator | None:
    fields = Fields(node, problems, path, what="an outline indicator",
                    required={"key": str, "title": str, "definition": str},
                    optional={"column": str})
    if "key" not in fields.values or "title" not in fields.values:
        return None
    title = fields.get("title", "")
    return Indicator(fields.get("key"), title, fields.get("column", title),
                     fields.get("definition", ""), section)


def _check_keys_unique(outline: Outline, problems: Problems) -> None:
    # A leaf section may share its key with its only indicator (cyber-dependent crimes), as
    # the two are looked up in different namespaces; keys must be unique within each.
    for items, what in ((outline.headings, "heading"), (outline.indicators, "indicator")):
        seen = set()
        for item in items:
            if item.key in seen:
                problems.add("O002", f"{what} key '{item.key}' is used twice", outline.file)
            seen.add(item.key)
