"""A kind of publication that lives outside publish: a one-page memo.

The tests put this folder on sys.path; memokind-0.1.dist-info beside it declares the kind in
the entry point group publish.kinds, as an installed package would. Nothing in publish/
names it.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from markupsafe import escape

from publish.core.embargo import embargo_field
from publish.core.epub import Document, EpubSpec, TocEntry, stable_identifier
from publish.core.kind import Kind, Publication, Rendering, Selected
from publish.core.problems import Problems
from publish.core.sources import Fields, Project

XHTML = """<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">
<head><title>{title}</title></head>
<body><section><h1>{title}</h1><p>{text}</p></section></body></html>
"""


class Memo(Publication):
    def __init__(self, kind: MemoKind, config: Path, fields: Fields, embargo):
        folder = config.parent
        self.kind, self.config = kind, config
        self.slug, self.output = f"memo-{folder.name}", f"{folder.name}/memo"
        self.title, self.text = fields.get("title"), fields.get("text")
        self.language, self.embargo, self.source = "en", embargo, folder
        self.date = datetime(2026, 1, 1, tzinfo=UTC)
        self.stylesheets = {"print": ("styles/memo.css",), "epub": ()}

    def dependencies(self) -> list[Path]:
        return [self.config]

    def print_html(self, rendering: Rendering) -> str:
        return self.kind.environment(rendering.project).get_template("memo.html").render(memo=self,
                                                            created=rendering.created)

    def epub(self, rendering: Rendering) -> EpubSpec:
        body = XHTML.format(title=escape(self.title), text=escape(self.text))
        return EpubSpec(identifier=stable_identifier(self.slug), title=self.title,
                        language="en", date=rendering.date,
                        documents=[Document("memo.xhtml", self.title, body)],
                        toc=[TocEntry(self.title, "memo.xhtml")],
                        accessibility_summary="A memo of one paragraph, in text alone.")


class Memos(Selected):
    def __init__(self, memos: list[Memo], failed: dict):
        self.memos, self.failed = memos, failed

    def publications(self) -> list[Memo]:
        return self.memos


class MemoKind(Kind):
    name = "memo"

    def select(self, project: Project, config: Path, chosen) -> Selected:
        problems = Problems()
        fields = Fields(project.load_yaml(config), problems, config, what=config.name,
                        required={"kind": str, "title": str, "text": str},
                        optional={"embargo": str})
        embargo = embargo_field(fields, problems)
        if problems:
            return Memos([], {f"memo-{config.parent.name}": list(problems)})
        return Memos([Memo(self, config, fields, embargo)], {})
