"""Images that content names: files of the publication's own folder, of a kind every EPUB
reader displays. Anything else is refused with V019 at the line that names it."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .problems import ContentError, Problems, excerpt
from .sources import Project

# The images content may show, with their media types: those EPUB readers must all display.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


def local_image(project: Project, src: str, base: Path, folder: Path, file: Path,
                line: int | None, problems: Problems) -> Path | None:
    """The file an image's `src` names, relative to `base`, if it lies inside `folder` (the
    publication's own) and is an image; else None, and a problem at `file`:`line`."""
    shown = excerpt(src)
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith("/") or not parts.path:
        problems.add("V019", f"image '{shown}' is not a file of the publication's folder",
                     file, line)
        return None
    try:
        path = project.confine(base / unquote(parts.path), within=(folder,))
    except ContentError:
        problems.add("V019", f"image '{shown}' is outside the publication's folder", file, line)
        return None
    if path.suffix.lower() not in IMAGE_TYPES:
        problems.add("V019", f"image '{shown}' is not one of {', '.join(IMAGE_TYPES)}", file,
                     line)
        return None
    if not path.is_file():
        problems.add("V019", f"image '{shown}' does not exist", file, line)
        return None
    return path
