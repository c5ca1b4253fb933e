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
        problems.add("V012", f"'{profile.iso2}' is not a country of {edition.dataset.file.name}",
                     profile.file, profile.iso2_line)
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
    furthest = -1
    for text in narrative.sections:
        heading = text.section
        if heading in seen:
            problems.add("V002", f"'{heading.title}' already began on line {seen[heading]}",
                         path, text.line)
            continue
        seen[heading] = text.line
        if order[heading] < furthest:
            problems.add("V003", f"'{heading.title}' comes after a section that follows it "
                                 "in the outline", path, text.line)
        furthest = max(furthest, order[heading])
    for heading in outline.leaf_sections:
        if heading not in seen:
            problems.add("V001", f"no '## {heading.title}' section", path,
                         hint=f"add '## {heading.title}' in its place in the outline's order")
    _check_indicators(narrative, outline, set(seen), problems)


def _check_indicators(narrative: Narrative, outline: Outline, present: set,
                      problems: Problems) -> None:
    path = narrative.file
    order = {indicator: index for index, indicator in enumerate(outline.indicators)}
    treated: dict = {}
    for text in narrative.sections:
        furthest = -1
        for passage in text.passages:
            for indicator in passage.indicators:
                if indicator in treated:
                    problems.add("V008", f"'{indicator.title}' is already treated on line "
                                         f"{treated[indicator]}", path, passage.line)
                    continue
                treated[indicator] = passage.line
                if order[indicator] < furthest:
                    problems.add("V015", f"'{indicator.title}' comes after an indicator that "
                                         "follows it in the outline", path, passage.line)
                furthest = max(furthest, order[indicator])
    for indicator in outline.indicators:
        # A missing section is reported once (V001), not once more for each of its indicators.
        if indicator not in treated and indicator.section in present:
            problems.add("V007", f"nothing is written on '{indicator.title}'", path,
                         hint=f"add '### {indicator.title}' under '## {indicator.section.title}'")
