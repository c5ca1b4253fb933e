"""`publish preview`: the server for a copied small edition, run as a user runs it (its own
process), read over HTTP and by headless Chromium; files edited as an author edits them."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from html import escape
from pathlib import Path

import pytest
from conftest import PROJECT, make_small_edition, run_cli
from processes import default_sigint, signal_state

from publish.build import check
from publish.core.clock import ENVIRONMENT

PROFILE = "gocindex-2025-kyrgyzstan"
PAGE = f"/p/{PROFILE}/"
NARRATIVE = Path("content/gocindex-2025/profiles/kyrgyzstan/narrative.md")
PROFILE_YAML = Path("content/gocindex-2025/profiles/kyrgyzstan/profile.yaml")
IMAGE = re.compile(r'src="(page-\d+-[0-9a-f]{16}\.png)"')
NOW = "2025-11-20T12:00:00Z"  # the clock, for the preview: before the edition's embargo


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Preview:
    def __init__(self, root: Path, scratch: Path):
        self.root, self.scratch, self.port = root, scratch, free_port()
        # PYTHONFAULTHANDLER: a preview that hangs can be made to say where (SIGABRT).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "publish", "--project", str(root), "preview",
             "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT), "TMPDIR": str(scratch),
                 ENVIRONMENT: NOW, "PYTHONFAULTHANDLER": "1"},
            preexec_fn=default_sigint)  # noqa: PLW1509 - the test starts no thread before
        self.ready = self.process.stdout.readline()
        # What it says on stderr is read as it comes: a pipe left full would block it.
        self.said: list[str] = []
        self.reader = threading.Thread(target=lambda: self.said.extend(self.process.stderr),
                                       daemon=True)
        self.reader.start()

    def stop(self, signum: int, timeout: float = 60) -> int:
        """Its exit status after the signal; where it hangs, its threads' tracebacks."""
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            state = signal_state(self.process.pid)
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=30)
            self.reader.join(5)
            raise AssertionError(f"the preview did not stop ({state}):\n"
                                 + "".join(self.said)) from None

    def get(self, path: str, host: str | None = None) -> tuple[int, bytes]:
        """The raw request line `path`, sent as it is: nothing normalizes it on the way."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{self.port}")
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    def page(self, path: str = PAGE) -> str:
        status, body = self.get(path)
        assert status == 200, path
        return body.decode()

    def wait_for(self, condition, path: str = PAGE, timeout: float = 60) -> str:
        """The page once `condition(html)` holds."""
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            html = self.page(path)
            if condition(html):
                return html
            time.sleep(0.1)
        raise AssertionError(f"the page never changed as expected:\n{html}")

    def chromium(self, path: str) -> str:
        """The page's DOM after its scripts ran, as headless Chromium sees it."""
        done = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                               "--virtual-time-budget=2000", "--dump-dom",
                               f"http://127.0.0.1:{self.port}{path}"],
                              capture_output=True, text=True, timeout=90, check=False)
        return done.stdout


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    root = make_small_edition(tmp_path_factory.mktemp("preview"))
    scratch = tmp_path_factory.mktemp("scratch")
    server = Preview(root, scratch)
    assert server.ready == (f"publish: previewing {root} at "
                            f"http://127.0.0.1:{server.port}/ (Ctrl-C stops)\n")
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def up_to_date(html: str) -> bool:
    return '"state ok" id="state">up to date' in html and "EPUB chapters" in html


def test_the_index_lists_the_publications_and_renders_none(preview):
    dom = preview.chromium("/")
    assert dom.count("<tr>") == 1 + 5  # the heading's row, and five countries
    assert ('<a href="/p/gocindex-2025-kyrgyzstan/">Kyrgyzstan: Global Organized Crime Index '
            '2025</a></td><td>ocindex</td><td class="embargo">embargoed until '
            '2025-11-25T09:00:00+01:00</td><td><span class="state ">not rendered yet</span>'
            '</td></tr>') in dom
    assert dom.count("not rendered yet") == 5
    assert list(preview.scratch.glob("publish-preview-*/*")) == []


def test_a_page_shows_the_print_pages_and_links_the_outputs(preview):
    html = preview.wait_for(up_to_date)
    dom = preview.chromium(PAGE)
    images = IMAGE.findall(dom)
    assert len(images) == 7 and images == IMAGE.findall(html)
    status, png = preview.get(PAGE + images[0])
    assert status == 200 and png.startswith(b"\x89PNG\r\n\x1a\n")
    status, pdf = preview.get(PAGE + "kyrgyzstan-draft.pdf")
    assert status == 200 and pdf.startswith(b"%PDF-")
    status, epub = preview.get(PAGE + "kyrgyzstan-draft.epub")
    assert status == 200 and epub.startswith(b"PK")
    assert '<a href="epub/EPUB/criminality.xhtml">Criminality</a>' in dom
    status, chapter = preview.get(PAGE + "epub/EPUB/criminality.xhtml")
    assert status == 200 and b"Human trafficking" in chapter


def test_the_page_shows_what_publish_build_makes(preview, tmp_path):
    preview.wait_for(up_to_date)
    code, _, err = run_cli("--project", str(preview.root), "build", "--now", NOW,
                           "--dist", str(tmp_path / "dist"), "--cache", str(tmp_path / "cache"),
                           str(preview.root / "content/gocindex-2025/profiles/kyrgyzstan"))
    assert code == 0, err
    built = tmp_path / "dist/gocindex-2025"
    for name in ("kyrgyzstan-draft.pdf", "kyrgyzstan-draft.epub"):
        assert preview.get(PAGE + name) == (200, (built / name).read_bytes()), name


def test_an_edit_reaches_the_page(preview):
    before = IMAGE.findall(preview.wait_for(up_to_date))
    path = preview.root / NARRATIVE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Kyrgyzstan is a source, transit and destination country",
                                 "Kyrgyzstan, WATCHWORD, is a source, transit and destination "
                                 "country", 1), encoding="utf-8")
    html = preview.wait_for(lambda html: up_to_date(html) and IMAGE.findall(html) != before)
    after = IMAGE.findall(html)
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed
    old, new = changed[0]
    assert preview.get(PAGE + old)[1] != preview.get(PAGE + new)[1]
    pdf = preview.get(PAGE + "kyrgyzstan-draft.pdf")[1]
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout
    assert b"WATCHWORD" in text
    assert IMAGE.findall(preview.chromium(PAGE)) == after


def test_a_broken_file_shows_its_problem_until_it_is_fixed(preview):
    preview.wait_for(up_to_date)
    path = preview.root / PROFILE_YAML
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("  capital: Bishkek", "  capital: [Bishkek"), encoding="utf-8")
    (problem,) = check(preview.root)
    assert problem.code == "L002"
    expected = escape(problem.format(preview.root))
    assert expected.startswith(f"{PROFILE_YAML}:")
    preview.wait_for(lambda html: expected in html)
    dom = preview.chromium(PAGE)  # a DOM's text, serialized, leaves quotes as they are
    assert escape(problem.format(preview.root), quote=False) in dom
    assert ">1 problem<" in dom and "1 problem to fix" in dom
    path.write_text(good, encoding="utf-8")
    html = preview.wait_for(up_to_date)
    assert "L002" not in html and "id=\"problems\"" not in html


def test_a_narrative_in_progress_shows_what_is_not_yet_written(preview):
    preview.wait_for(up_to_date)
    path = preview.root / NARRATIVE
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("### Human smuggling\n", "", 1), encoding="utf-8")
    html = preview.wait_for(lambda html: "not yet written" in html and up_to_date(html))
    assert "V007" in html and "publish release refuses" in html
    pdf = preview.get(PAGE + "kyrgyzstan-draft.pdf")[1]
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout
    assert b"Not yet written: Human smuggling." in text
    path.write_text(good, encoding="utf-8")
    html = preview.wait_for(lambda html: up_to_date(html) and "not yet written" not in html)


TRAVERSALS = [
    "/../../etc/passwd", "/p/../../etc/passwd", f"{PAGE}../../../etc/passwd",
    f"{PAGE}epub/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
    f"{PAGE}%2e%2e/%2e%2e/content/gocindex-2025/edition.yaml", f"{PAGE}..%2f..%2fprofile.yaml",
    "/%252e%252e/%252e%252e/etc/passwd", f"{PAGE}epub/%252e%252e%252fmimetype",
    "/etc/passwd", "//etc/passwd", "/content/gocindex-2025/edition.yaml",
    "\\..\\..\\etc\\passwd", f"{PAGE}epub\\..\\..\\..\\etc\\passwd",
    "http://127.0.0.1/etc/passwd", "/p/%2e%2e/", f"{PAGE}epub/META-INF/../../x",
    f"{PAGE}escape.png", "/escape.png", f"{PAGE}epub/escape.png",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_but_its_own_pages_and_outputs_is_served(preview, path):
    for scratch in preview.scratch.glob("publish-preview-*"):
        link = scratch / "escape.png"
        if not link.is_symlink():
            link.symlink_to("/etc/passwd")
    status, body = preview.get(path)
    assert (status, body) == (404, b"Not found\n")


def test_another_site_cannot_read_it(preview):
    status, _ = preview.get(PAGE, host="attacker.example:80")
    assert status == 403


def test_a_second_preview_on_the_port_fails_clearly(preview):
    code, out, err = run_cli("--project", str(preview.root), "preview",
                             "--port", str(preview.port))
    assert (code, out) == (2, "")
    assert err == (f"publish: cannot serve on port {preview.port}: Address already in use "
                   "(another preview may be using it; choose another with --port)\n")


def test_ctrl_c_stops_it_and_nothing_was_written_to_the_project(preview):
    # A browser keeps its connection open between requests (HTTP/1.1): the preview must not
    # wait for it to close before it stops.
    idle = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
    idle.request("GET", "/version")
    assert idle.getresponse().read()
    assert preview.stop(signal.SIGINT) == 130
    preview.reader.join(5)
    assert preview.said[-1:] == ["publish: preview stopped\n"]
    assert not (preview.root / "dist").exists()
    assert not (preview.root / ".publish-cache").exists()
    assert list(preview.scratch.glob("publish-preview-*")) == []
