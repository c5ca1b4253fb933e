"""What the renderer may read: data: URLs and files inside the project's own folders.

WeasyPrint asks its URL fetcher for every stylesheet, font and image. This one refuses
anything outside content/, styles/ and fonts/ (after resolving symlinks and '..'), and every
network scheme, so that a build never reads a stranger's file or touches the network.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .sources import ALLOWED_FOLDERS


class RefusedURL(FatalURLFetchingError):
    """The renderer asked for something outside what a build may read."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused {url}: {reason}")
        self.url, self.reason = url, reason


class ProjectFetcher(URLFetcher):
    def __init__(self, project_root: Path, folders=ALLOWED_FOLDERS):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False,
                         fail_on_errors=True, timeout=5)
        root = Path(project_root).resolve()
        self.allowed = [root / folder for folder in folders]
        self.fetched: list[Path] = []

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedURL(url, f"the {scheme or 'relative'} scheme is not allowed; "
                                  "only data: and the project's own files")
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        if not any(path.is_relative_to(folder) for folder in self.allowed):
            raise RefusedURL(url, "outside the project's " + ", ".join(ALLOWED_FOLDERS))
        if not path.is_file():
            raise RefusedURL(url, "no such file")
        self.fetched.append(path)
        return super().fetch(path.as_uri(), headers)
