"""The preview's web server: Python's own, on the loopback interface only.

It serves its own pages and the outputs the preview rendered, nothing else. A request's path is
looked up, as the exact string the browser sent, among the names of what the preview made: it
is never decoded, joined to a folder or opened. So `..`, `%2e%2e`, double encoding, absolute
paths, backslashes or links planted in the scratch folder name nothing it knows: 404.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import pages
from .session import Session

log = logging.getLogger("publish")

HOST = "127.0.0.1"

MEDIA_TYPES = {".xhtml": "application/xhtml+xml", ".html": "text/html", ".css": "text/css",
               ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff",
               ".woff2": "font/woff2", ".svg": "image/svg+xml", ".png": "image/png",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".ncx": "application/x-dtbncx+xml", ".opf": "application/oebps-package+xml",
               ".xml": "application/xml"}
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Response:
    status: int
    media_type: str
    body: bytes
    lasting: bool = False  # named after its content: the browser may keep it


NOT_FOUND = Response(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Not found\n")


def respond(session: Session, target: str) -> Response:
    """The response to a GET of `target` (the request line's path and query, as sent)."""
    path = target.partition("?")[0]
    if path == "/":
        with session.lock:
            return Response(HTTPStatus.OK, HTML, pages.index(session).encode())
    if path == "/version":
        return Response(HTTPStatus.OK, "application/json",
                        json.dumps({"version": session.version}).encode())
    parts = path.split("/")
    if len(parts) < 4 or parts[:2] != ["", "p"]:
        return NOT_FOUND
    entry = session.open(parts[2]) if parts[3:] == [""] else session.entries.get(parts[2])
    if entry is None:
        return NOT_FOUND
    name = "/".join(parts[3:])
    with session.lock:
        if name == "":
            return Response(HTTPStatus.OK, HTML, pages.publication(session, entry).encode())
        return _output(entry.shown, name) if entry.shown else NOT_FOUND


def _output(shown, name: str) -> Response:
    """One of a publication's outputs, by the name its page links it with."""
    for page in shown.pages:
        if name == f"page-{page.number}-{page.digest}.png":
            return Response(HTTPStatus.OK, "image/png", page.png, lasting=True)
    if shown.pdf and name == shown.pdf_name:
        return Response(HTTPStatus.OK, "application/pdf", shown.pdf)
    if shown.epub and name == shown.epub_name:
        return Response(HTTPStatus.OK, "application/epub+zip", shown.epub)
    inside = name.removeprefix("epub/")
    if name.startswith("epub/") and inside in shown.epub_files:
        suffix = "." + inside.rpartition(".")[2]
        return Response(HTTPStatus.OK, MEDIA_TYPES.get(suffix, "application/octet-stream"),
                        shown.epub_files[inside])
    return NOT_FOUND


class PortUnavailable(Exception):
    """The port cannot be served on: another preview, or another program, has it."""

    def __init__(self, port: int, error: OSError):
        super().__init__(f"cannot serve on port {port}: {error.strerror or error}")


def make_server(session: Session, port: int) -> ThreadingHTTPServer:
    """The server, bound to the loopback interface; PortUnavailable if the port is taken."""
    allowed = {f"{HOST}:{port}", f"localhost:{port}"}

    class Handler(BaseHTTPRequestHandler):
        server_version = "publish-preview"
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.headers.get("Host") not in allowed:
                # Another site's page, reaching the preview by a name of its own (DNS
                # rebinding), must not read an embargoed publication.
                response = Response(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8",
                                    b"Open the preview at its own address\n")
            else:
                response = respond(session, self.path)
            self.send_response(response.status)
            self.send_header("Content-Type", response.media_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "max-age=31536000, immutable" if response.lasting
                             else "no-store")
            self.end_headers()
            self.wfile.write(response.body)

        def log_request(self, code="-", size="-"):
            if not str(code).startswith("2"):  # an open page asks for /version 5 times a second
                log.debug("preview: %s %s", code, self.requestline)

        def log_message(self, format, *args):  # noqa: A002 (http.server's name)
            log.debug("preview: " + format, *args)

    class Server(ThreadingHTTPServer):
        # A page waiting for a change does not hold up the end. (A second preview on the same
        # port still fails: on Linux, SO_REUSEADDR, which http.server sets, only lets a port
        # be taken again after its last user closed it.)
        daemon_threads = True

    try:
        return Server((HOST, port), Handler)
    except OSError as error:
        raise PortUnavailable(port, error) from None
