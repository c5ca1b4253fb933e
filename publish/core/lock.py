"""One run at a time: a run holds an OS lock on the project (and on dist/'s folder) throughout.

The lock is `flock` on the folders themselves: nothing is written to take it, so it works on
a read-only checkout, and the kernel frees it when its holder ends, however it ends (a run
killed with SIGKILL leaves no stale lock to clear by hand).
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(folders: list[Path], on_wait: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on each folder (in a fixed order, so that two runs cannot each
    hold one and wait for the other); `on_wait(folder)` is called before waiting for a lock
    another run holds."""
    descriptors = []
    try:
        for folder in sorted({_existing(Path(f).resolve()) for f in folders}):
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            descriptors.append(descriptor)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait(folder)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        for descriptor in descriptors:
            # Unlocked, not only closed: a child forked meanwhile (the render child a build
            # keeps, core/limits.py Kept) holds the same lock through its copy of the
            # descriptor, and would hold it as long as it lives.
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)


def _existing(folder: Path) -> Path:
    """The folder, or its nearest ancestor that exists: a dist/ still to be made is locked
    through the folder it will be made in, without making anything before the run starts."""
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder
