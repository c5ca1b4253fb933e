"""Embargoes: the instant before which nothing of a publication may be public, for every kind.

`publish build` marks each page of a review copy, with the embargo while it has not lifted;
`publish release` refuses to run before it. The files a release writes carry a date that
never comes from the clock, so that the same content gives the same bytes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from .clock import InstantError, parse_instant
from .problems import EmbargoNotLifted, Problems
from .sources import Fields

# A bare YAML timestamp loads as a date or datetime: accepted here only to be refused clearly.
EMBARGO_KINDS = (str, date, datetime)


@dataclass(frozen=True)
class Embargo:
    """The instant before which nothing of a publication may be public."""
    instant: datetime
    text: str          # as the author wrote it, for the marks on review copies
    file: Path
    line: int

    def holds_at(self, instant: datetime) -> bool:
        """Whether the embargo has not lifted at `instant` (it lifts at its instant exactly)."""
        return instant < self.instant


def embargo_field(fields: Fields, problems: Problems, key: str = "embargo") -> Embargo | None:
    """The embargo a configuration file gives under `key`, if any; a problem (L011) if it is
    not a quoted instant with its UTC offset."""
    if key not in fields.values:
        return None
    value, line = fields.get(key), fields.line(key)
    if not isinstance(value, str):
        problems.add("L011", f"{key}: {value} is a bare YAML timestamp; quote it, with its "
                             "time and UTC offset", fields.file, line)
        return None
    try:
        return Embargo(parse_instant(value), value.strip(), fields.file, line)
    except InstantError as error:
        problems.add("L011", f"{key}: {error}", fields.file, line)
        return None


def draft_mark(embargo: Embargo | None, instant: datetime) -> str:
    """The mark every page of a review copy carries."""
    if embargo is not None and embargo.holds_at(instant):
        return f"EMBARGOED - NOT FOR DISTRIBUTION UNTIL {embargo.text}"
    return "REVIEW COPY - NOT THE RELEASED FILE"


def refuse_before_embargo(publications, instant: datetime) -> None:
    """EmbargoNotLifted naming every publication whose embargo has not lifted at `instant`."""
    waiting = [(p.slug, p.embargo.text, str(p.embargo.instant - instant).split(".")[0])
               for p in publications if p.embargo and p.embargo.holds_at(instant)]
    if waiting:
        raise EmbargoNotLifted(waiting)


def release_date(embargo: Embargo | None, fallback: datetime) -> datetime:
    """The date the files carry: SOURCE_DATE_EPOCH, else the embargo, else the publication's
    own date (`fallback`). Never the clock, so that the same content gives the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    if embargo is not None:
        return embargo.instant.astimezone(UTC)
    return fallback
