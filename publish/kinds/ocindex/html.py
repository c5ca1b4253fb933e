"""Rendering HTML: Jinja2 templates fed with the loaded content, the outline and the figures.

The same environment serves the PDF document, the EPUB's documents and the SVG charts: the
kind's templates, or the project's own of the same name (:mod:`publish.core.templates`),
sandboxed and autoescaped, and an undefined variable is an error rather than an empty string.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from markupsafe import Markup

from ... import __version__
from ...core.sources import Project
from ...core.templates import template_problem
from .charts import Chart, band_labels, charts_for
from .figures import Figures
from .load import Paragraph, Publication


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def thousands(number: int) -> str:
    return f"{number:,}"


def environment(project: Project) -> jinja2.Environment:
    """The kind's templates, overridden by the project's templates/ where it has the file."""
    from . import KIND
    env = KIND.environment(project)
    env.filters.update(ordinal=ordinal, thousands=thousands)
    return env


@dataclass
class Page:
    """What every template of one publication is given."""
    publication: Publication
    figures: Figures
    charts: list[Chart]
    texts: dict[str, list[Paragraph]]   # leaf section key -> its paragraphs, in order
    bands: list[tuple[str, str]]         # label, range
    mark: str | None = None              # the mark of a review copy; None when released
    # A narrative in progress: leaf section key -> the titles of its indicators not yet written
    # (all of them where the section is missing), shown as a placeholder in a review copy.
    unwritten: dict[str, list[str]] = field(default_factory=dict)

    @property
    def edition(self):
        return self.publication.edition

    @property
    def outline(self):
        return self.publication.edition.outline

    @property
    def country(self):
        return self.publication.country

    @property
    def profile(self):
        return self.publication.profile

    @property
    def is_factsheet(self) -> bool:
        """Scores and definitions only: the country has no narrative yet. Its publication's
        variant says so, as for every other use (Ace's sample, publish list)."""
        return self.publication.variant == "factsheet"

    @property
    def description(self) -> str:
        return (f"Country profile of {self.country.name} in the {self.edition.title}: "
                "criminal markets, criminal actors and resilience to organized crime.")

    @property
    def keywords(self) -> list[str]:
        return ["organized crime", self.country.name, self.country.region, self.edition.title,
                *(pillar.title.lower() for pillar in self.outline.pillars)]

    @property
    def generator(self) -> str:
        return f"publish {__version__}"


def page_for(publication: Publication, figures: Figures, mark: str | None = None) -> Page:
    texts: dict[str, list[Paragraph]] = {}
    if publication.profile and publication.profile.narrative:
        for section in publication.profile.narrative.sections:
            texts[section.section.key] = [paragraph for passage in section.passages
                                          for paragraph in passage.paragraphs]
    return Page(publication, figures, charts_for(figures, publication.edition), texts,
                band_labels(publication.edition), mark, _unwritten(publication))


def _unwritten(publication: Publication) -> dict[str, list[str]]:
    """The indicators a narrative in progress does not treat yet, by leaf section."""
    narrative = publication.profile.narrative if publication.profile else None
    if narrative is None:
        return {}
    treated = {indicator for section in narrative.sections for passage in section.passages
               for indicator in passage.indicators}
    unwritten = {}
    for heading in publication.edition.outline.leaf_sections:
        lacking = [indicator.title for indicator in heading.indicators if indicator not in treated]
        if lacking:
            unwritten[heading.key] = lacking
    return unwritten


def render(page: Page, template: str, **context) -> str:
    """A template of the page's project, given the page; a template's mistake is a problem."""
    project = page.edition.project
    try:
        return environment(project).get_template(template).render(page=page, **context)
    except jinja2.TemplateError as error:
        raise template_problem(error, project) from None


def chart_svg(chart: Chart, page: Page, standalone: bool = False) -> Markup:
    """One chart as SVG: inline in the PDF's HTML, or a standalone image for the EPUB."""
    return Markup(render(page, "chart.svg", chart=chart, standalone=standalone))


def profile_html(page: Page, stylesheets: tuple[str, ...], created: str | None) -> str:
    """The print document: dashboard, then the narrative under the outline's headings."""
    return render(page, "print.html", chart_svg=chart_svg, stylesheets=stylesheets,
                  created=created)
