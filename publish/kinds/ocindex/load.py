"""Loading content: an edition, its outline and dataset, and its country profiles.

Layout of content/ (see the README)::

    content/<edition>/edition.yaml        title, year, publisher, datasets, score bands
    content/<edition>/outline.yaml        the report's outline
    content/<edition>/data/*.csv          the Index's scores
    content/<edition>/profiles/<name>/    profile.yaml and narrative.md of one country

Loading turns files into objects and reports every problem of form (syntax, keys, kinds);
the checks of meaning (order, coverage, score ranges) belong to :mod:`publish.kinds.ocindex.validate`.
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from pathlib import Path

from ...core import kind as core
from ...core.embargo import EMBARGO_KINDS, Embargo, embargo_field
from ...core.kind import Press, press_field
from ...core.problems import ContentError, Problem, Problems, excerpt
from ...core.sources import Fields, Project
from ...core.stylesheets import stylesheets_field
from .narrative import Narrative, Paragraph, inline_text, load_narrative
from .outline import Indicator, Outline, load_outline

FIXED_COLUMNS = ("iso2", "country", "continent", "region")


# -- the model ------------------------------------------------------------------------------

@dataclass(eq=False)
class Country:
    iso2: str
    name: str
    continent: str
    region: str
    scores: dict[str, Decimal | None]  # indicator key -> score, None where the cell is empty
    line: int


@dataclass(eq=False)
class Dataset:
    file: Path
    year: int
    countries: dict[str, Country]


@dataclass(eq=False)
class ScoreBand:
    start: Decimal
    label: str
    colours: dict[str, str]  # pillar key -> colour


@dataclass(eq=False)
class Edition:
    project: Project
    dir: Path
    file: Path
    title: str
    year: int
    publisher: str
    language: str
    outline: Outline
    dataset: Dataset
    previous: Dataset
    bands: list[ScoreBand]
    embargo: Embargo | None = None
    # medium ("print", "epub") -> the stylesheets its documents use, relative to the project
    stylesheets: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(STYLESHEETS))

    @property
    def slug(self) -> str:
        return self.dir.name

    @cached_property
    def standings(self):
        """Every country's shown scores and ranks: derived once, before the workers fork."""
        from .figures import Standings
        return Standings(self)


@dataclass(eq=False)
class Facts:
    capital: str
    population: int
    gdp_usd_million: int
    area_km2: int


@dataclass(eq=False)
class Profile:
    dir: Path
    file: Path
    iso2: str | None    # None: no code given, and the folder is named after no country
    iso2_line: int | None
    facts: Facts | None
    funding_note: Paragraph | None
    narrative: Narrative | None
    embargo: Embargo | None = None
    press: Press | None = None  # its press PDF's settings (profile.yaml's `press:`)
    # What the narrative lacks (validate.UNWRITTEN): a review copy is made all the same.
    unwritten: tuple[Problem, ...] = ()


@dataclass(eq=False)
class Publication(core.Publication):
    """One output: a country of an edition, with its profile where it has one (else a
    factsheet)."""
    edition: Edition
    country: Country
    profile: Profile | None = None

    @property
    def slug(self) -> str:
        return f"{self.edition.slug}-{slugify(self.country.name)}"

    @property
    def output(self) -> str:
        return f"{self.edition.slug}/{slugify(self.country.name)}"

    @property
    def language(self) -> str:
        return self.edition.language

    @property
    def source(self) -> Path:
        return self.profile.dir if self.profile else self.edition.dir

    @property
    def incomplete(self) -> tuple[Problem, ...]:
        return self.profile.unwritten if self.profile else ()

    @property
    def variant(self) -> str:
        return "profile" if self.profile and self.profile.narrative else "factsheet"

    @property
    def date(self) -> datetime:
        return datetime(self.edition.year, 1, 1, tzinfo=UTC)

    @property
    def stylesheets(self) -> dict[str, tuple[str, ...]]:
        return self.edition.stylesheets

    @property
    def kind(self) -> core.Kind:
        from . import KIND
        return KIND

    def dependencies(self) -> list[Path]:
        """The edition's files (ranks draw on every country), and the profile's folder."""
        edition = self.edition
        files = [edition.file, edition.outline.file, edition.dataset.file, edition.previous.file]
        if self.profile:
            files += edition.project.files_under(self.profile.dir)
        return files

    def prepare(self) -> None:
        self.edition.standings  # noqa: B018 (derived here, so that forked workers share it)

    def print_html(self, rendering: core.Rendering) -> str:
        from .html import profile_html
        return profile_html(self._page(rendering.mark), stylesheets=self.stylesheets["print"],
                            created=rendering.created)

    def epub(self, rendering: core.Rendering):
        from .epub import epub_spec
        return epub_spec(self._page(rendering.mark), rendering.project, rendering.date,
                         self.stylesheets["epub"])

    def _page(self, mark: str | None):
        from .html import page_for
        return page_for(self, self.edition.standings.figures(self.country.iso2), mark)

    @property
    def title(self) -> str:
        return f"{self.country.name}: {self.edition.title}"

    @property
    def collection(self) -> str:
        return self.edition.title

    @property
    def group(self) -> str:
        """The country's region, as catalogs file it: continent / region."""
        return f"{self.country.continent} / {self.country.region}"

    @property
    def press(self) -> Press | None:
        """The profile's press PDF, if its profile.yaml asks for one: a printed run is decided
        for each country, as its narrative is written (a factsheet has none)."""
        return self.profile.press if self.profile is not None else None

    @property
    def embargo(self) -> Embargo | None:
        """The profile's own embargo, else the edition's."""
        if self.profile is not None and self.profile.embargo is not None:
            return self.profile.embargo
        return self.edition.embargo


@cache  # a publication's names are asked for often; an edition has a few hundred
def slugify(text: str) -> str:
    """A name as it appears in file names: lower-case ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())


# -- loading --------------------------------------------------------------------------------

def load_edition(project: Project, edition_dir: Path) -> Edition:
    edition_dir = Path(edition_dir)
    path = edition_dir / "edition.yaml"
    problems = Problems()
    fields = Fields(project.load_yaml(path), problems, path, what="edition.yaml",
                    required={"title": str, "year": int, "publisher": str, "language": str,
                              "dataset": str, "previous": dict, "score_bands": list},
                    optional={"kind": str, "embargo": EMBARGO_KINDS, "stylesheets": dict})
    previous = Fields(fields.get("previous", {}), problems, path, what="'previous'",
                      required={"year": int, "dataset": str})
    embargo = embargo_field(fields, problems)
    stylesheets = stylesheets_field(project, fields, problems, STYLESHEETS)
    problems.raise_if_any()
    outline = load_outline(project, edition_dir / "outline.yaml")
    dataset = load_dataset(project, edition_dir / fields.get("dataset"), fields.get("year"),
                           outline, named_at=(path, fields.line("dataset")))
    earlier = load_dataset(project, edition_dir / previous.get("dataset"), previous.get("year"),
                           outline, named_at=(path, previous.line("dataset")))
    bands = _score_bands(fields.get("score_bands"), outline, path, fields.line("score_bands"))
    return Edition(project, edition_dir, path, fields.get("title"), fields.get("year"),
                   fields.get("publisher"), fields.get("language"), outline, dataset, earlier,
                   bands, embargo, stylesheets)


# The stylesheets of each medium, unless edition.yaml's `stylesheets` names others.
STYLESHEETS = {"print": ("styles/fonts.css", "styles/print.css"),
               "epub": ("styles/fonts.css", "styles/epub.css")}


def _score_bands(nodes: list, outline: Outline, path: Path, line: int) -> list[ScoreBand]:
    problems = Problems()
    bands = []
    pillars = [pillar.key for pillar in outline.pillars]
    for node in nodes:
        band = Fields(node, problems, path, what="a score band",
                      required={"from": (int, float), "label": str, "colours": dict})
        if len(band.values) < 3:
            continue
        colours = band.get("colours")
        if sorted(colours) != sorted(pillars) or not all(
                isinstance(c, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in colours.values()):
            problems.add("V017", f"a band's colours must give a #rrggbb colour for each pillar: "
                                 f"{', '.join(pillars)}", path, band.line("colours"))
            continue
        bands.append(ScoreBand(Decimal(str(band.get("from"))), band.get("label"), dict(colours)))
    starts = [band.start for band in bands]
    if not bands or starts != sorted(starts) or starts[0] != 1:
        problems.add("V017", "score bands must start at 1 and rise", path, line)
    problems.raise_if_any()
    return bands


def load_dataset(project: Project, path: Path, year: int, outline: Outline, *,
                 named_at: tuple[Path, int | None] | None = None) -> Dataset:
    """A dataset named by a YAML key (`named_at`: its file and line), which must lie in the
    project."""
    text = project.read_text(path, limit=16 * 1024 * 1024, named_at=named_at)
    problems = Problems()
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    expected = [*FIXED_COLUMNS, *(indicator.column for indicator in outline.indicators)]
    if header != expected:
        missing = [excerpt(c) for c in expected if c not in header][:5]
        extra = [excerpt(c) for c in header if c not in expected][:5]
        detail = "; ".join(filter(None, [
            missing and f"missing {', '.join(missing)}",
            extra and f"unexpected {', '.join(extra)}",
            not (missing or extra) and "columns out of the outline's order"]))
        raise ContentError([Problem("L010", f"header does not match the outline: {detail}",
                                    path, 1)])
    countries: dict[str, Country] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(expected):
            problems.add("L010", f"{len(row)} cells where the header has {len(expected)}",
                         path, line)
            continue
        iso2, name, continent, region, *cells = (cell.strip() for cell in row)
        scores = {}
        for indicator, cell in zip(outline.indicators, cells, strict=True):
            scores[indicator.key] = _score(cell, indicator, path, line, problems)
        if iso2 in countries:
            problems.add("L010", f"country {excerpt(iso2)} appears twice (first on line "
                                 f"{countries[iso2].line})", path, line)
        countries[iso2] = Country(iso2, name, continent, region, scores, line)
    problems.raise_if_any()
    return Dataset(path, year, countries)


def _score(cell: str, indicator: Indicator, path, line, problems) -> Decimal | None:
    if not cell:
        return None
    try:
        value = Decimal(cell)
    except InvalidOperation:
        problems.add("V017", f"{indicator.title}: '{excerpt(cell)}' is not a number", path, line)
        return None
    return value if value.is_finite() else None


def load_profile(profile_dir: Path, edition: Edition) -> tuple[Profile | None, Problems]:
    """A profile and the problems of form found in loading it.

    A profile folder holds profile.yaml, narrative.md, or both. Its country is profile.yaml's
    `country`, else the country whose name the folder bears (profiles/kyrgyzstan). What can
    be loaded is returned even when something else could not, so that one run of `publish
    check` also validates the narrative of a profile whose YAML has a mistake.
    """
    profile_dir = Path(profile_dir)
    path = profile_dir / "profile.yaml"
    problems = Problems()
    fields = None
    project = edition.project
    if project.exists(path):
        try:
            node = project.load_yaml(path)
        except ContentError as error:
            problems.extend(error.problems)
        else:
            if node is None:
                problems.add("L006", "profile.yaml is empty; give it keys, or remove it", path)
            else:
                fields = Fields(node, problems, path, what="profile.yaml", required={},
                                optional={"country": str, "facts": dict, "funding_note": str,
                                          "embargo": EMBARGO_KINDS, "press": (bool, dict)})
    facts = note = narrative = embargo = press = None
    if fields is not None and "facts" in fields.values:
        facts_fields = Fields(fields.get("facts"), problems, path, what="'facts'",
                              required={"capital": str, "population": int,
                                        "gdp_usd_million": int, "area_km2": int})
        if len(facts_fields.values) == 4:
            facts = Facts(**facts_fields.values)
    if fields is not None and "funding_note" in fields.values:
        note = inline_text(project, fields.get("funding_note"), path,
                           fields.line("funding_note"), profile_dir, problems)
    if fields is not None:
        embargo = embargo_field(fields, problems)
        press = press_field(fields, problems)
    narrative_path = profile_dir / "narrative.md"
    if project.exists(narrative_path):
        try:
            narrative = load_narrative(project, narrative_path, edition.outline)
        except ContentError as error:
            problems.extend(error.problems)
    iso2, line = _profile_country(profile_dir, fields, edition)
    if fields is None and project.exists(path):
        return None, problems
    source = path if project.exists(path) else narrative_path
    return Profile(profile_dir, source, iso2, line, facts, note, narrative, embargo,
                   press), problems


def _profile_country(profile_dir: Path, fields: Fields | None,
                     edition: Edition) -> tuple[str | None, int | None]:
    """The profile's country code: as profile.yaml gives it, else by the folder's name."""
    if fields is not None and "country" in fields.values:
        return fields.get("country"), fields.line("country")
    return country_named(edition, profile_dir.name), None


def country_named(edition: Edition, folder_name: str) -> str | None:
    """The code of the country whose name, as file names write it, a folder bears."""
    for iso2, country in edition.dataset.countries.items():
        if slugify(country.name) == folder_name:
            return iso2
    return None


# -- the project ----------------------------------------------------------------------------

def find_profiles(edition_dir: Path) -> list[Path]:
    """Profile folders: those holding profile.yaml or narrative.md, whatever they are (a
    pipe or a link that leads outside is refused when read, never skipped in silence)."""
    folder = Path(edition_dir) / "profiles"
    return sorted(p for p in folder.glob("*") if p.is_dir() and (
        os.path.lexists(p / "profile.yaml") or os.path.lexists(p / "narrative.md")))
