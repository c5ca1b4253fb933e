"""Benchmark of `publish preview`: from saving the profile's narrative to its new page images
in the browser, and where that time goes.

    python bench/preview.py [--runs N]

A copy of the whole edition (193 publications) is served by `publish preview` in its own
process, as an author runs it. The benchmark acts as the open page does: it polls the
version every 200 ms, fetches the page when it changed, then the page images that changed.
Each run edits a word of the narrative and times the save -> the new images fetched; median
of N runs, after the first render of the page. Then each stage of the preview is timed alone,
in this process, warm, on the same copy: what the end-to-end figure is made of.
"""
from __future__ import annotations

import argparse
import http.client
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import median_seconds  # noqa: E402 (bench/, beside this script)

NARRATIVE = Path("content/gocindex-2025/profiles/kyrgyzstan/narrative.md")
PAGE = "/p/gocindex-2025-kyrgyzstan/"
IMAGE = re.compile(r'src="(page-\d+-[0-9a-f]{16}\.png)"')
SENTENCE = "Kyrgyzstan is a source, transit and destination country"
TARGET = 2.0  # seconds, from saving to the new page images in the browser


def copy_project(folder: Path) -> Path:
    for name in ("content/gocindex-2025", "styles", "fonts"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def edit(root: Path, run: int) -> None:
    path = root / NARRATIVE
    text = path.read_text(encoding="utf-8")
    start = text.index("Kyrgyzstan") if run else text.index(SENTENCE)
    end = text.index(" is a source", start)
    path.write_text(text[:start] + f"Kyrgyzstan (edit {run})" + text[end:], encoding="utf-8")


def new_images(port: int, before: list[str], poll: float, started: float) -> float:
    """As the page does: poll the version; on a change, fetch the page, then its new images.
    Seconds since `started` once images that differ from `before` are all fetched."""
    version = get(port, "/version")
    while True:
        time.sleep(poll)
        current = get(port, "/version")
        if current == version:
            continue
        version = current
        images = IMAGE.findall(get(port, PAGE).decode())
        if images and images != before:
            for image in set(images) - set(before):
                get(port, PAGE + image)
            return time.perf_counter() - started


def end_to_end(root: Path, runs: int) -> dict[str, float]:
    from publish.preview.pages import POLL_MS
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "publish", "--project", str(root),
                                "preview", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        process.stdout.readline()
        figures = {"server answering, from the command (193 publications, none rendered)":
                   time.perf_counter() - started}
        get(port, "/")
        started = time.perf_counter()
        get(port, PAGE)  # opening the page asks for its render
        figures["the profile's page opened -> its page images (its first render)"] = \
            new_images(port, [], POLL_MS / 1000, started)
        times = []
        for run in range(runs + 1):
            before = IMAGE.findall(_settled(port))
            started = time.perf_counter()
            edit(root, run)
            seconds = new_images(port, before, POLL_MS / 1000, started)
            if run:  # the first edit after the first render is a warm-up
                times.append(seconds)
        figures[f"narrative saved -> new page images in the browser (median of {runs})"] = \
            statistics.median(times)
        figures["  the same, fastest / slowest"] = f"{min(times):.2f} / {max(times):.2f}"
        return figures
    finally:
        process.terminate()
        process.wait()


def _settled(port: int) -> str:
    """The page once up to date (its EPUB made too)."""
    while True:
        html = get(port, PAGE).decode()
        if 'id="state">up to date' in html:
            return html
        time.sleep(0.05)


def stages(root: Path, runs: int) -> dict[str, float]:
    """Each stage of a rebuild after a save, alone, warm, median of `runs`."""
    from publish.build import render_epub_alone, render_pdf_alone
    from publish.core.limits import DEFAULT_LIMITS, prepare_to_render
    from publish.core.pdf import warm_up
    from publish.preview.images import page_images
    from publish.preview.session import Session
    from publish.preview.watch import POLL_SECONDS, QUIET_SECONDS, snapshot

    scratch = Path(tempfile.mkdtemp())
    session = Session(root, scratch)
    session.load()
    prepare_to_render(2, warm_up)
    changed = {session.root / NARRATIVE}
    job = session.entries["gocindex-2025-kyrgyzstan"].job

    def median(action) -> float:
        return median_seconds(action, runs)

    pdf = render_pdf_alone(job, session.project, dict(DEFAULT_LIMITS))
    figures = {
        "seeing the save: half a poll, on average, then the quiet wait":
            POLL_SECONDS / 2 + QUIET_SECONDS,
        "  a scan of the watched files": median(lambda: snapshot(session.root)),
        "loading the edition again, its keys (select + cache keys)":
            median(lambda: session.load(changed)),
        "the PDF (WeasyPrint, in a forked child of a warm process)":
            median(lambda: render_pdf_alone(job, session.project, dict(DEFAULT_LIMITS))),
        "the page images (pdftoppm 96 dpi, 2 processes; PNG by Pillow)":
            median(lambda: page_images(pdf, scratch)),
        "the page seeing it: half a poll, on average": 0.1,
        "after the images: the EPUB (not waited for)":
            median(lambda: render_epub_alone(job, session.project)),
    }
    shutil.rmtree(scratch)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"publish preview, {platform.machine()}, {platform.python_version()}, "
          f"{len(__import__('os').sched_getaffinity(0))} cores; target {TARGET:g} s")
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder))
        for name, value in end_to_end(root, args.runs).items():
            print(f"{name:<78} {value if isinstance(value, str) else f'{value:.2f}'} s")
        print("where the time goes (each stage alone, warm, median):")
        for name, value in stages(root, args.runs).items():
            print(f"  {name:<76} {value:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
