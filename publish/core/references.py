"""What Markdown content may refer to, for every kind: links to the web (http, https, with a
host) and to mail; images that are files of the publication's own folder, of a kind every
EPUB reader displays. Anything else is refused at the line that names it (V018, V019)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .problems import ContentError, Problems, excerpt
from .sources import Project

LINK_SCHEMES = ("http", "https", "mailto")

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


def web_link(href: str) -> bool:
    """Whether a link leads to the web or to mail, the only places outside a document that
    content may link to: http(s) with a host, or mailto."""
    parts = urlsplit(href)
    scheme = parts.scheme.lower()
    return scheme == "mailto" or (scheme in LINK_SCHEMES and bool(parts.netloc))


def walk(tokens):
    """Every markdown-it token, and the children of each, in document order."""
    for token in tokens:
        yield token
        yield from walk(token.children or [])
