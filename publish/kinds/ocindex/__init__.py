"""The Global Organized Crime Index's country profile and factsheet: one publication per
country of an edition's dataset."""
from __future__ import annotations

from pathlib import Path

from ...core.kind import Kind, Selected
from ...core.sources import Project
from . import problems as _codes  # noqa: F401 (its codes are registered before any is used)


class IndexKind(Kind):
    """content/<edition>/edition.yaml (`kind: ocindex`), its outline, datasets and profiles."""
    name = "ocindex"

    def select(self, project: Project, config: Path, chosen: list[Path] | None) -> Selected:
        from .selection import select_edition
        return select_edition(project, config, chosen)


KIND = IndexKind()
