"""Validating content: the checks of meaning, run after loading and before any rendering.

Every check adds to one list of problems, so `publish check` reports all of them in one run.
"""
from __future__ import annotations

from decimal import Decimal

from ...core.problems import Problems, excerpt
from .load import Dataset, Edition, Narrative, Profile, slugify
from .outline import Outline

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


def _check_folder_name(profile: Profile, edition: Edition, problems: Problems) -> None:
    """A profile's folder bears its country's name, as its outputs do: a folder named after one
    country holding another's code is a slip that would replace that other's profile."""
    country = edition.dataset.countries[profile.iso2]
    expected = slugify(country.name)
    if profile.dir.name != expected:
        problems.add("V022", f"the folder '{excerpt(profile.dir.name)}' holds the profile of "
                             f"{country.name} ({profile.iso2}), whose outputs are named "
                             f"'{expected}'", profile.file, profile.iso2_line,
                     hint=f"rename the folder to profiles/{expected}, or correct 'country' in "
                          f"{profile.file.name}")


def check_owners(profiles: list[Profile]) -> dict[Profile, Problems]:
    """One country, one profile: every profile that claims a country another one claims too
    gets a V021 problem naming the other's file."""
    claims: dict[str, list[Profile]] = {}
    for profile in profiles:
        if profile.iso2 is not None:
            claims.setdefault(profile.iso2, []).append(profile)
    found: dict[Profile, Problems] = {}
    for iso2, claimants in claims.items():
        if len(claimants) < 2:
            continue
        for profile in claimants:
            others = ", ".join(_relative(other.file, profile) for other in claimants
                               if other is not profile)
            found.setdefault(profile, Problems()).add(
                "V021", f"{iso2} is also the country of {others}", profile.file,
                profile.iso2_line)
    return found


def _relative(file, profile: Profile) -> str:
    """A file named from the profiles/ folder: kazakhstan/profile.yaml."""
    return file.relative_to(profile.dir.parent).as_posix()


def check_slugs(edition: Edition) -> dict[str, Problems]:
    """Every country of the dataset writes files of its own: names that differ only in case,
    accents or punctuation would write the same ones. Country code -> its problems."""
    by_slug: dict[str, list] = {}
    for country in edition.dataset.countries.values():
        by_slug.setdefault(slugify(country.name), []).append(country)
    found: dict[str, Problems] = {}
    for slug, countries in by_slug.items():
        if len(countries) > 1 or not slug:
            for country in countries:
                others = "; ".join(f"{other.name} ({other.iso2}, line {other.line})"
                                   for other in countries if other is not country)
                message = (f"{country.name} ({country.iso2}) and {others} would all be named "
                           f"'{slug}'" if others else
                           f"'{excerpt(country.name)}' ({country.iso2}) gives no file name")
                found.setdefault(country.iso2, Problems()).add(
                    "V023", message, edition.dataset.file, country.line)
    return found


def _check_scores(dataset: Dataset, outline: Outline, problems: Problems) -> None:
    indicators = outline.indicators  # the outline walked once, not once a country
    for country in dataset.countries.values():
        for indicator in indicators:
            score = country.scores[indicator.key]
            if score is not None and LOWEST <= score <= HIGHEST and not score % STEP:
                continue
            where = dict(file=dataset.file, line=country.line)
            label = f"{country.name}, {indicator.title}"
            if score is None:
                problems.add("V009", f"{label}: no score", **where)
            elif not LOWEST <= score <= HIGHEST:
                problems.add("V010", f"{label}: {score} is outside 1 to 10", **where)
            elif score % STEP:
                problems.add("V011", f"{label}: {score} is not a half point", **where)


# What a narrative in progress lacks: a section, an indicator. A review copy is made with a
# placeholder in its place; a release refuses the profile.
UNWRITTEN = frozenset({"V001", "V007"})


def check_profile(profile: Profile, edition: Edition) -> Problems:
    problems = Problems()
    if profile.iso2 is None or profile.iso2 not in edition.dataset.countries:
        named = (f"the folder '{excerpt(profile.dir.name)}' is not named after a country"
                 if profile.iso2 is None else f"'{excerpt(profile.iso2)}' is not a country")
        problems.add("V012", f"{named} of {edition.dataset.file.name}",
                     profile.file, profile.iso2_line,
                     hint="name the folder after the country (profiles/kyrgyzstan), or give its "
                          "ISO 3166 alpha-2 code as 'country: KG' in profile.yaml")
    elif profile.iso2 not in edition.previous.countries:
        problems.add("V012", f"'{excerpt(profile.iso2)}' is not a country of "
                             f"{edition.previous.file.name}, so its changes cannot be shown",
                     profile.file, profile.iso2_line)
    else:
        _check_folder_name(profile, edition, problems)
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
