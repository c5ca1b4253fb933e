"""The one clock: every reading of the current time goes through :func:`now`.

Tests and CI rehearsals set the time with `--now` or the environment variable PUBLISH_NOW,
written like an embargo instant. Nothing else in publish reads the system clock.
"""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from .problems import excerpt

ENVIRONMENT = "PUBLISH_NOW"
# A date, a time to the second at least, and an explicit offset (Z or ±hh:mm).
INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


class InstantError(ValueError):
    pass


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date-time with an explicit UTC offset, or InstantError saying why not."""
    if not isinstance(text, str):
        raise InstantError("must be a quoted string")
    if not INSTANT.fullmatch(text.strip()):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise InstantError(f"'{excerpt(text)}' is a date alone; give the time and its UTC offset")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", text.strip()):
            raise InstantError(f"'{excerpt(text)}' has no UTC offset; end it with Z or +hh:mm")
        raise InstantError(f"'{excerpt(text)}' is not an ISO 8601 date-time with a UTC offset")
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InstantError(f"'{excerpt(text)}': {error}") from None


def utc_text(instant: datetime) -> str:
    """An instant as the files write it, in UTC to the second: 2026-11-27T00:00:00Z. A naive
    datetime is refused: converting it would read the machine's time zone."""
    if instant.tzinfo is None:
        raise ValueError(f"the instant {instant} has no time zone")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now(override: str | None = None) -> datetime:
    """The current instant: `override`, else PUBLISH_NOW, else the system clock."""
    chosen = override or os.environ.get(ENVIRONMENT)
    if chosen:
        try:
            return parse_instant(chosen)
        except InstantError as error:
            source = "--now" if override else ENVIRONMENT
            raise InstantError(f"{source}: {error}") from None
    return datetime.now(UTC)
