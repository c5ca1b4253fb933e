"""What the renderer may read: data: URLs and files inside the project's own folders.

WeasyPrint asks its URL fetcher for every stylesheet, font and image. This one refuses
anything outside content/, styles/ and fonts/ (through the project's one confinement check,
after resolving symlinks and '..'), and every network scheme, so that a build never reads a
stranger's file or touches the network. It reads the files itself, so that a pipe or a file
too large is refused rather than waited on.
"""
from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .problems import ContentError
from .sources import ALLOWED_FOLDERS, MAX_ASSET_BYTES, Project
from .stylesheets import kind_stand_in


class RefusedURL(FatalURLFetchingError):
    """The renderer asked for something outside what a build may read."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused {url}: {reason}")
        self.url, self.reason = url, reason


class ProjectFetcher(URLFetcher):
    """`kind_styles`: the kind's styles folder, whose files stand in for those of the project's
    styles/ that the project does not have (:mod:`publish.core.stylesheets`)."""

    def __init__(self, project: Project, folders=ALLOWED_FOLDERS, kind_styles: Path | None = None):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False,
                         fail_on_errors=True, timeout=5)
        self.project = project
        self.allowed = tuple(project.root / folder for folder in folders)
        self.kind_styles = kind_styles
        # Each file read, with what its status said just before: whoever keeps what was made
        # of them (the fonts a process's renders share, core/pdf.py) can tell when one changed.
        self.read: dict[Path, tuple[int, ...]] = {}

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedURL(url, f"the {scheme or 'relative'} scheme is not allowed; "
                                  "only data: and the project's own files")
        path = Path(url2pathname(unquote(urlsplit(url).path)))
        stand_in = kind_stand_in(self.project, path, self.kind_styles)
        if stand_in is not None:  # served as if it lay in styles/: its url()s resolve there
            self.read[stand_in] = file_signature(stand_in)
            return URLFetcherResponse(url, stand_in.read_bytes(), {"Content-Type": "text/css"})
        try:
            resolved = self.project.confine(path, within=self.allowed)
            self.read[resolved] = file_signature(resolved)
            data = self.project.read_bytes(resolved, MAX_ASSET_BYTES)
        except ContentError as error:
            raise RefusedURL(url, error.problems[0].message) from None
        content_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), data, {"Content-Type": content_type})


def file_signature(path: Path) -> tuple[int, ...]:
    """What changes whenever a file's content may have: its inode, size, modification and
    status change times (the last set by the system on any write, never by a user); empty
    where there is no file."""
    try:
        status = os.stat(path)
    except OSError:
        return ()
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns
