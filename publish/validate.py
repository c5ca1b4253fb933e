"""Validating content: the checks of meaning, run after loading and before any rendering.

Every check adds to one list of problems, so `publish check` reports all of them in one run.
"""
from __future__ import annotations

from decimal import Decimal

from .load import Dataset, Edition, Narrative, Profile
from .outline import Outline
from .problems import Problems

LOWEST, HIGHEST, STEP = Decimal(1), Decimal(10), Decimal("0.5")


def check_edition(edition: Edition) -> Problems:
    problems = Problems()
    for dataset in (edition.dataset, edition.previous):
        _check_scores(dataset, edition.outline, problems)
    for country in edition.dataset.countries.values():
        if country.iso2 not in edition.previous.countries:
            problems.add("V012", f"{country.name} ({country.iso2}) is not in "
                                 f"{edition.previous.file.name}, so its changes cannot be shown",
                         edition.dataset.file, country.line)
    return problems


def _check_scores(dataset: Dataset, outline: Outline, problems: Problems) -> None:
    for country in dataset.countries.values():
        for indicator in outline.indicators:
            score = country.scores[indicator.key]
            where = dict(file=dataset.file, line=country.line)
            label = f"{country.name}, {indicator.title}"
            if score is None:
                problems.add("V009", f"{label}: no score", **where)
            elif not LOWEST <= score <= HIGHEST:
                problems.add("V010", f"{label}: {score} is outside 1 to 10", **where)
            elif score % STEP:
                problems.add("V011", f"{label}: {score} is not a half point", **where)


def check_profile(profile: Profile, edition: Edition) -> Problems:
    problems = Problems()
    if profile.iso2 not in edition.dataset.countries:
        problems.add("V012", f"{profile.iso2 if profile.iso2.startswith('folder') else repr(profile.iso2)}"
                             f" is not a country of {edition.dataset.file.name}",
                     profile.file, profile.iso2_line,
                     hint="name the folder after the country (profiles/kyrgyzstan), or give its "
                          "ISO 3166 alpha-2 code as 'country: KG' in profile.yaml")
    elif profile.iso2 not in edition.previous.countries:
        problems.add("V012", f"'{profile.iso2}' is not a country of "
                             f"{edition.previous.file.name}, so its changes cannot be shown",
                     profile.file, profile.iso2_line)
    if profile.funding_note is not None and not profile.funding_note.text:
        problems.add("V013", "the funding note is empty", profile.file, profile.funding_note.line)
    if profile.facts is not None and not profile.facts.capital.strip():
        problems.add("V013", "the capital is empty", profile.file)
    if profile.narrative is not None:
        _check_narrative(profile.narrative, edition.outline, problems)
    return problems


def _check_narrative(narrative: Narrative, outline: Outline, problems: Problems) -> None:
    path = narrative.file
    order = {section: index for index, section in enumerate(outline.leaf_sections)}
    seen: dict = {}
    unique = []
    for text in narrative.sections:
        if text.section in seen:
            problems.add("V002", f"'{text.section.title}' already began on line "
                                 f"{seen[text.section]}", path, text.line)
        else:
            seen[text.section] = text.line
            unique.append(text)
    for text in out_of_order(unique, lambda text: order[text.section]):
        problems.add("V003", f"'{text.section.title}' is not in its place in the outline's order",
                     path, text.line)
    for heading in outline.leaf_sections:
        if heading not in seen:
            problems.add("V001", f"no '## {heading.title}' section", path,
                         hint=f"add '## {heading.title}' in its place in the outline's order")
    _check_indicators(narrative, outline, problems)


def _check_indicators(narrative: Narrative, outline: Outline, problems: Problems) -> None:
    path = narrative.file
    order = {indicator: index for index, indicator in enumerate(outline.indicators)}
    treated: dict = {}
    for text in narrative.sections:
        placed = []
        for passage in text.passages:
            for indicator in passage.indicators:
                if indicator in treated:
                    problems.add("V008", f"'{indicator.title}' is already treated on line "
                                         f"{treated[indicator]}", path, passage.line)
                else:
                    treated[indicator] = passage.line
                    placed.append((indicator, passage.line))
        for indicator, line in out_of_order(placed, lambda item: order[item[0]]):
            problems.add("V015", f"'{indicator.title}' is not in its place in the outline's "
                                 "order", path, line)
        for indicator in text.section.indicators:
            if indicator not in treated:
                problems.add("V007", f"nothing is written on '{indicator.title}'", path,
                             text.line, hint=f"add '### {indicator.title}' under this section")
    # A missing section is reported once (V001), not once more for each of its indicators.


def out_of_order(items: list, rank) -> list:
    """The items to move to restore order: those outside a longest increasing run.

    Reporting only these points the author at what was moved, not at everything it passed.
    """
    ranks = [rank(item) for item in items]
    best = [1] * len(items)
    previous = [-1] * len(items)
    for i in range(len(items)):
        for j in range(i):
            if ranks[j] < ranks[i] and best[j] + 1 > best[i]:
                best[i], previous[i] = best[j] + 1, j
    keep = set()
    position = max(range(len(items)), key=best.__getitem__, default=-1)
    while position >= 0:
        keep.add(position)
        position = previous[position]
    return [item for index, item in enumerate(items) if index not in keep]
