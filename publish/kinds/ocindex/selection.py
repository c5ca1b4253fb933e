"""Which of an edition's publications a run builds, loaded and validated: every country of
its dataset (a full profile where it has a narrative, else a factsheet), or the countries
whose profile folders are named. Problems of one publication stay with it, so that a review
build can still make the others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...core.kind import Selected
from ...core.problems import ContentError, Problem, excerpt
from ...core.sources import Project
from .load import (
    Edition,
    Profile,
    Publication,
    country_named,
    find_profiles,
    load_edition,
    load_profile,
)
from .validate import UNWRITTEN, check_edition, check_owners, check_profile, check_slugs


@dataclass
class Loaded(Selected):
    """An edition with what a run builds of it, loaded and validated: every country of its
    dataset (a full profile where it has a narrative, else a factsheet), or the countries
    whose profiles are named on the command line. Publications whose content has problems
    are kept apart in `failed`, with their problems, so that the others can still be built."""
    name: str
    edition: Edition | None                                   # None: it could not be loaded
    profiles: list[Profile] = field(default_factory=list)     # sound, one per country
    chosen: set[str] | None = None                            # country codes; None: all
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # name -> its problems

    def publications(self) -> list[Publication]:
        if self.edition is None or self.name in self.failed:  # the edition itself is unsound
            return []
        countries = self.edition.dataset.countries
        by_country = {profile.iso2: profile for profile in self.profiles}
        chosen = countries if self.chosen is None else sorted(self.chosen)
        publications = [Publication(self.edition, countries[iso2], by_country.get(iso2))
                        for iso2 in chosen if iso2 in countries]
        return sorted((p for p in publications if p.slug not in self.failed),
                      key=lambda publication: publication.slug)


def select_edition(project: Project, config: Path, chosen: list[Path] | None) -> Loaded:
    """The edition whose edition.yaml is `config`: all of it, or the countries whose profile
    folders (or files in them) `chosen` names."""
    profile_dirs = None
    if chosen is not None:
        profile_dirs = []
        for path in chosen:
            folder = path.parent if path.is_file() else path
            if folder.parent.name != "profiles" or folder.parent.parent != config.parent:
                raise ContentError([Problem("L017", "not an edition or a profile folder", path,
                                            hint="name an edition's folder, or a folder of "
                                                 "its profiles/")])
            profile_dirs.append(folder)
    return _load_edition(project, config.parent, profile_dirs)


def _load_edition(project: Project, edition_dir: Path,
                  profile_dirs: list[Path] | None) -> Loaded:
    try:
        edition = load_edition(project, edition_dir)
    except ContentError as error:
        return _unreadable(edition_dir, error.problems)
    entry = Loaded(edition.slug, edition)
    # Every profile is loaded, even when some are chosen: a folder elsewhere may claim the
    # same country, and a chosen one must not be built over a conflict.
    found = {}
    for profile_dir in find_profiles(edition_dir):
        profile, profile_problems = load_profile(profile_dir, edition)
        if profile is not None:
            profile_problems.extend(check_profile(profile, edition))
        found[profile_dir] = (profile, profile_problems)
    owners = check_owners([profile for profile, _ in found.values() if profile is not None])
    for iso2, slug_problems in check_slugs(edition).items():
        entry.failed.setdefault(_slug(edition, iso2), []).extend(slug_problems)
    for profile_dir, (profile, profile_problems) in found.items():
        profile_problems.extend(owners.get(profile, []))
        if profile is not None:
            # What is not written yet is no reason not to build a review copy; a profile that
            # fails for another reason reports it too, with the rest.
            profile.unwritten = tuple(p for p in profile_problems if p.code in UNWRITTEN)
            if len(profile.unwritten) == len(profile_problems):
                profile_problems = []
        if not profile_problems:
            entry.profiles.append(profile)
            continue
        for name in _claimed(edition, profile_dir, profile):
            entry.failed.setdefault(name, []).extend(profile_problems)
    if profile_dirs is not None:
        _choose(entry, profile_dirs, {path: profile for path, (profile, _) in found.items()})
    # Figures and ranks draw on every country: problems of the edition's own files stop all of
    # its publications (its profiles are still checked, so that one run reports everything).
    edition_problems = check_edition(edition)
    if edition_problems:
        entry.failed[entry.name] = edition_problems
    return entry


def _choose(entry: Loaded, profile_dirs: list[Path], profiles: dict[Path, Profile | None]):
    """Narrow an edition to the countries the named profile folders claim, with their
    failures only."""
    edition = entry.edition
    entry.chosen = set()
    for profile_dir in profile_dirs:
        claimed = _claimed_countries(edition, profile_dir, profiles.get(profile_dir))
        entry.chosen |= claimed
        if not claimed and profile_dir not in profiles:
            entry.failed[_folder_name(edition, profile_dir)] = [Problem(
                "V012", f"the folder '{excerpt(profile_dir.name)}' is not named after a "
                        f"country of {edition.dataset.file.name}", profile_dir)]
    names = {_slug(edition, iso2) for iso2 in entry.chosen} | {
        _folder_name(edition, path) for path in profile_dirs}
    entry.failed = {name: problems for name, problems in entry.failed.items() if name in names}


def _unreadable(edition_dir: Path, problems: list[Problem]) -> Loaded:
    """An edition that cannot be loaded or whose figures would be wrong: nothing of it is built."""
    return Loaded(edition_dir.name, None, chosen=set(), failed={edition_dir.name: list(problems)})


def _claimed_countries(edition: Edition, profile_dir: Path,
                       profile: Profile | None) -> set[str]:
    """The countries a profile folder stands for: by its name, and by its code."""
    codes = {country_named(edition, profile_dir.name)}
    if profile is not None:
        codes.add(profile.iso2)
    return {code for code in codes if code in edition.dataset.countries}


def _claimed(edition: Edition, profile_dir: Path, profile: Profile | None) -> list[str]:
    """The publications a broken profile stands in the way of: its code's country and the
    country its folder is named after; or, if neither, the folder itself."""
    codes = _claimed_countries(edition, profile_dir, profile)
    return [_slug(edition, iso2) for iso2 in sorted(codes)] or [_folder_name(edition,
                                                                             profile_dir)]


def _slug(edition: Edition, iso2: str) -> str:
    return Publication(edition, edition.dataset.countries[iso2]).slug


def _folder_name(edition: Edition, profile_dir: Path) -> str:
    return f"{edition.slug}/profiles/{profile_dir.name}"
