"""What a project makes, by name: every publication with its kind, title, embargo and what
dist/ holds of it (`publish list`).

The names are those every command takes instead of a path (:func:`publish.core.kind.select`):
a publication's slug, or its files' name.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .core import clock
from .core.dist import manifest_entries
from .core.kind import Selection, files_name


@dataclass(frozen=True)
class Listed:
    """One publication, as `publish list` shows it."""
    slug: str
    name: str                 # its files' name, which commands take too
    kind: str
    variant: str
    title: str
    embargo: str | None       # as the content writes it
    embargo_lifted: bool | None
    state: str                # "sound", "in progress" (a review copy only) or "problems"
    problems: int
    dist: str                 # what dist/ holds: "released", "draft" or "not built"

    def as_dict(self) -> dict:
        return asdict(self)


def listing(selection: Selection, dist: Path, now: str | None = None) -> list[Listed]:
    """Every publication of the selection, sound or not, in the order of their slugs."""
    instant = clock.now(now)
    held = _held(dist)
    listed = []
    for publication in selection.publications():
        embargo = publication.embargo
        listed.append(Listed(
            publication.slug, files_name(publication), publication.kind.name,
            publication.variant, publication.title, embargo.text if embargo else None,
            not embargo.holds_at(instant) if embargo else None,
            "in progress" if publication.incomplete else "sound", len(publication.incomplete),
            held.get(publication.slug, "not built")))
    for slug, problems in selection.failed.items():
        listed.append(Listed(slug, "", "", "", "", None, None, "problems",
                             len(problems), held.get(slug, "not built")))
    return sorted(listed, key=lambda item: item.slug)


def _held(dist: Path) -> dict[str, str]:
    """Slug -> what dist/ holds of it, by its manifest: "released" or "draft"."""
    held: dict[str, str] = {}
    for entry in manifest_entries(Path(dist)).values():
        if isinstance(entry, dict) and "publication" in entry:
            held[entry["publication"]] = "draft" if entry.get("draft") else "released"
    return held
