"""Deriving figures: averages, changes since the previous edition, and ranks.

Nothing here is typed in by an author: every figure is computed from the datasets along the
outline. Averages are exact fractions until they are shown, rounded half up to two decimals;
ranks compare those two-decimal scores, so that what the reader sees is what was ranked.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .load import Country, Dataset, Edition
from .outline import Heading, Outline

CENT = Decimal("0.01")


def two_decimals(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figure:
    """A score as shown: two decimals, and its change since the previous edition."""
    score: Decimal
    change: Decimal

    @property
    def score_text(self) -> str:
        return f"{self.score:.2f}"

    @property
    def change_text(self) -> str:
        return signed(self.change)


def signed(value: Decimal) -> str:
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}".replace("-0.00", "0.00")


@dataclass(frozen=True)
class Rank:
    scope: str        # "world", the continent or the region
    position: int
    of: int
    previous: int     # the position in the previous edition

    @property
    def moved(self) -> int:
        """Places moved up the ranking since the previous edition (negative: down)."""
        return self.previous - self.position


@dataclass(frozen=True)
class Figures:
    country: Country
    headings: dict[str, Figure]      # heading key -> figure
    indicators: dict[str, Figure]    # indicator key -> figure
    ranks: dict[str, list[Rank]]     # ranked heading key -> world, continent, region


def heading_scores(country: Country, outline: Outline) -> dict[str, Fraction]:
    """Every heading's exact average for one country."""
    scores: dict[str, Fraction] = {}

    def average(heading: Heading) -> Fraction:
        if heading.average == "sections":
            parts = [average(section) for section in heading.sections]
            scores[heading.key] = sum(parts, Fraction(0)) / len(parts)
        else:
            for section in heading.sections:
                average(section)
            # Scores are half points: sum them as whole half points, divide once.
            indicators = heading.all_indicators()
            halves = sum(int(country.scores[i.key] * 2) for i in indicators)
            scores[heading.key] = Fraction(halves, 2 * len(indicators))
        return scores[heading.key]

    for pillar in outline.pillars:
        average(pillar)
    return scores


def _shown_scores(dataset: Dataset, outline: Outline) -> dict[str, dict[str, Decimal]]:
    return {iso2: {key: two_decimals(value)
                   for key, value in heading_scores(country, outline).items()}
            for iso2, country in dataset.countries.items()}


def _rank(shown, iso2: str, key: str, members) -> tuple[int, int]:
    mine = shown[iso2][key]
    higher = sum(1 for other in members if shown[other][key] > mine)
    return 1 + higher, len(members)


class Standings:
    """Shown scores of every country in both editions, computed once per edition."""

    def __init__(self, edition: Edition):
        self.edition = edition
        self.now = _shown_scores(edition.dataset, edition.outline)
        self.before = _shown_scores(edition.previous, edition.outline)

    def figures(self, iso2: str) -> Figures:
        edition, outline = self.edition, self.edition.outline
        country = edition.dataset.countries[iso2]
        earlier = edition.previous.countries[iso2]
        headings = {key: Figure(score, score - self.before[iso2][key])
                    for key, score in self.now[iso2].items()}
        indicators = {}
        for indicator in outline.indicators:
            score = country.scores[indicator.key]
            indicators[indicator.key] = Figure(two_decimals(score),
                                               two_decimals(score - earlier.scores[indicator.key]))
        ranks = {heading.key: self._ranks(country, heading.key)
                 for heading in outline.headings if heading.ranked}
        return Figures(country, headings, indicators, ranks)

    def _ranks(self, country: Country, key: str) -> list[Rank]:
        ranks = []
        for scope, member_of in (("world", lambda c: True),
                                 (country.continent, lambda c: c.continent == country.continent),
                                 (country.region, lambda c: c.region == country.region)):
            members_now = [c.iso2 for c in self.edition.dataset.countries.values() if member_of(c)]
            members_before = [c.iso2 for c in self.edition.previous.countries.values()
                              if member_of(c)]
            position, of = _rank(self.now, country.iso2, key, members_now)
            previous, _ = _rank(self.before, country.iso2, key, members_before)
            ranks.append(Rank(scope, position, of, previous))
        return ranks


def band_of(score: Decimal, edition: Edition) -> int:
    """The index of the score band a score falls in."""
    index = 0
    for position, band in enumerate(edition.bands):
        if score >= band.start:
            index = position
    return index
