"""Chart geometry: one bar chart per group of the outline, drawn by templates/chart.svg.

The geometry is computed here and the drawing left to a template, so that the PDF (inline SVG)
and the EPUB (SVG images) draw the same charts. Units are points: a chart is as wide as a
dashboard column and its text is real text, selectable and readable by assistive technology.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .figures import Figure, Figures, band_of
from .load import Edition
from .outline import Heading

WIDTH = 243.0          # a dashboard column, in points
AXIS_LOW, AXIS_HIGH = 1, 10
ROW = {"panel": 22.0, "group": 12.0, "indicator": 14.5}
AXIS_HEIGHT = 9.0
# Where a row's track (the bar's full length) lies below the row's top, and how tall it is;
# a group's row has none.
TRACK = {"panel": (11.0, 6.0), "indicator": (8.8, 4.2)}
# The column of a row's change ("+0.50", at most five characters: 18 points of Open Sans at
# 7 points, 21.5 of DejaVu Sans, which Chromium may draw an image's text in), at the right of
# the EPUB's image, with the gap before it. The score ends where the column begins: each is
# its own <text>, as an engine without SVG text layout (MuPDF's) needs.
CHANGE_COLUMN = 24.0


@dataclass
class Row:
    kind: str              # "panel" (the group's average), "group" (a subgroup) or "indicator"
    y: float
    label: str
    figure: Figure
    bar_width: float = 0.0
    band: int = 0
    colour: str = ""       # the band's, in the chart's pillar

    @property
    def height(self) -> float:
        """The row's own height (the panel's without the axis below it)."""
        return ROW[self.kind]

    @property
    def track(self) -> tuple[float, float] | None:
        """The top and height of the row's track and bar, or None (a group's row)."""
        if self.kind not in TRACK:
            return None
        offset, height = TRACK[self.kind]
        return self.y + offset, height


@dataclass
class Chart:
    key: str
    title: str
    pillar: str
    height: float
    rows: list[Row] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)
    description: str = ""
    width: float = WIDTH
    axis_height: float = AXIS_HEIGHT

    @property
    def score_right(self) -> float:
        """Where a row's score ends, right-aligned before the column of its change."""
        return self.width - CHANGE_COLUMN

    @property
    def axis_baseline(self) -> float:
        """Where the axis's numbers stand: 3 points into the axis's row, below the panel's."""
        return self.rows[0].y + ROW["panel"] + 3

    @property
    def axis_numbers(self) -> list[tuple[int, float, float]]:
        """Each axis number with the space before it, as points less characters (CSS
        `calc(points pt - characters ch)`; a figure is 1ch wide): the first begins at the
        chart's left edge, the last ends at its right edge, the others are centred on their
        ticks, as chart.svg anchors them."""
        numbers = []
        end = (0.0, 0.0)  # where the previous number ends: points, plus characters
        for index, (x, value) in enumerate(self.ticks):
            width = len(str(value))
            if index == 0:
                start = (0.0, 0.0)
            elif index == len(self.ticks) - 1:
                start = (self.width, -width)
            else:
                start = (x, -width / 2)
            numbers.append((value, round(start[0] - end[0], 3), end[1] - start[1]))
            end = (start[0], start[1] + width)
        return numbers

    def x(self, value: float) -> float:
        return (float(value) - AXIS_LOW) / (AXIS_HIGH - AXIS_LOW) * self.width


def charts_for(figures: Figures, edition: Edition) -> list[Chart]:
    """A chart for each heading directly below a pillar, in outline order."""
    return [_chart(group, pillar, figures, edition)
            for pillar in edition.outline.pillars for group in pillar.sections]


def _chart(group: Heading, pillar: Heading, figures: Figures, edition: Edition) -> Chart:
    chart = Chart(group.key, group.title, pillar.key, 0.0)
    y = 0.0
    rows: list[Row] = []

    def add(kind: str, label: str, figure: Figure):
        nonlocal y
        rows.append(Row(kind, y, label, figure))
        y += ROW[kind]

    add("panel", group.title, figures.headings[group.key])
    y += AXIS_HEIGHT
    for heading in group.walk():
        if heading is not group:
            add("group", heading.title, figures.headings[heading.key])
        for indicator in heading.indicators:
            add("indicator", indicator.title, figures.indicators[indicator.key])
    for row in rows:
        row.bar_width = max(chart.x(row.figure.score), 1.5)
        row.band = band_of(row.figure.score, edition)
        row.colour = edition.bands[row.band].colours[pillar.key]
    chart.rows = rows
    chart.height = y
    chart.ticks = [(chart.x(value), value) for value in range(AXIS_LOW, AXIS_HIGH + 1)]
    chart.description = _describe(group, rows)
    return chart


def _describe(group: Heading, rows: list[Row]) -> str:
    """The chart in words: its text alternative."""
    average, *others = rows
    parts = [f"{row.label} {row.figure.score_text} ({row.figure.change_text})" for row in others]
    return (f"Bar chart of {group.title.lower()} scores on a scale of 1 to 10, with changes "
            f"since the previous edition. Average {average.figure.score_text} "
            f"({average.figure.change_text}); " + "; ".join(parts) + ".")


def band_labels(edition: Edition) -> list[tuple[str, str]]:
    """Each score band's label and range, for the legend."""
    bands = edition.bands
    ranges = []
    for index, band in enumerate(bands):
        top = bands[index + 1].start - Decimal("0.01") if index + 1 < len(bands) else Decimal(10)
        ranges.append((band.label, f"{band.start:.2f}–{top:.2f}"))
    return ranges
