"""Watching the project for changes: the modification times of its inputs, polled.

Polling needs no dependency and no help from the system, and a project's inputs are a few
hundred files: a scan takes milliseconds. A change is reported once the files have stopped
changing for a moment (debounced), so that an editor's save in several writes, or a `git
checkout` of many files, gives one rebuild, not several.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..core.sources import INPUT_FOLDERS

POLL_SECONDS = 0.1     # how often the files are scanned
QUIET_SECONDS = 0.1    # how long they must stay unchanged before a change is reported


def snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    """Every watched file -> (modification time in ns, size). Links are not followed:
    what a link points at outside the project is not the project's."""
    found = {}
    for folder in INPUT_FOLDERS:
        for directory, folders, files in os.walk(root / folder):
            folders[:] = [name for name in folders if not name.startswith(".")]
            for name in files:
                path = Path(directory) / name
                try:
                    status = path.lstat()
                except OSError:
                    continue  # removed while scanning: the next scan says so
                found[path] = (status.st_mtime_ns, status.st_size)
    return found


def changed(before: dict, after: dict) -> set[Path]:
    """The files added, removed or modified between two snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class Watcher:
    """The project's inputs, compared with what they were at the last call."""

    def __init__(self, root: Path):
        self.root = root
        self.state = snapshot(root)

    def changes(self) -> set[Path]:
        """The files changed since the last call, once they have stopped changing; an empty
        set when nothing changed."""
        current = snapshot(self.root)
        found = changed(self.state, current)
        while found:
            time.sleep(QUIET_SECONDS)
            settled = snapshot(self.root)
            if settled == current:
                break
            found |= changed(current, settled)
            current = settled
        self.state = current
        return found
