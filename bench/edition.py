"""Benchmark of a whole edition, run on this machine; prints its figures.

    python bench/edition.py [--runs N] [--skip-edition]

1. The toolchain's overhead: WeasyPrint alone rendering the Kyrgyzstan profile's final HTML,
   against `publish build` of that profile (load, validate, derive, HTML, PDF and EPUB,
   verify, stage), both as whole processes, median of N runs, and their ratio.
2. The whole edition, cold (empty cache and dist/), with 1 worker and with 2: publications
   per minute and the speed-up.
3. The no-op rebuild: the same build again, nothing changed.
4. Peak memory: the largest resident set of any process of the build (a worker, or the child
   it renders a PDF in).
Targets: overhead <= 1.10; speed-up >= 1.8; no-op < 1 s; < 300 MB per worker.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITION = ROOT / "content/gocindex-2025"
PROFILE = EDITION / "profiles/kyrgyzstan"
sys.path.insert(0, str(ROOT))


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the largest process of a command's tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def final_html(folder: Path) -> Path:
    """The profile's print HTML, exactly as publish hands it to WeasyPrint, in a folder that
    also holds the stylesheets it links (the project's, and the kind's standing in for those
    the project lacks) and the fonts: WeasyPrint alone reads the same files."""
    from publish.build import release_date, select
    from publish.core.kind import Rendering
    from publish.core.sources import Project
    from publish.core.stylesheets import read_stylesheet
    (publication,) = select(ROOT, [PROFILE]).publications()
    project = Project.at(ROOT)
    html = publication.print_html(Rendering(project, "REVIEW COPY - NOT THE RELEASED FILE",
                                            release_date(publication)))
    for href in publication.stylesheets["print"]:
        (folder / href).parent.mkdir(parents=True, exist_ok=True)
        (folder / href).write_text(read_stylesheet(project, href, publication.kind.styles))
    shutil.copytree(ROOT / "fonts", folder / "fonts", dirs_exist_ok=True)
    path = folder / "kyrgyzstan.html"
    path.write_text(html, encoding="utf-8")
    return path


WEASYPRINT_ALONE = """
import sys, weasyprint
weasyprint.HTML(filename=sys.argv[1], base_url=sys.argv[2]).write_pdf(
    sys.argv[3], pdf_variant="pdf/ua-1")
"""


def overhead(runs: int, scratch: Path) -> None:
    html = final_html(scratch)
    alone = [timed([sys.executable, "-c", WEASYPRINT_ALONE, str(html), f"{scratch.as_uri()}/",
                    str(scratch / "alone.pdf")])[0] for _ in range(runs)]
    full = []
    for run in range(runs):
        full.append(timed([sys.executable, "-m", "publish", "build", str(PROFILE), "-q",
                           "--jobs", "1", "--dist", str(scratch / f"dist-{run}"),
                           "--cache", str(scratch / f"cache-{run}")])[0])
    a, b = statistics.median(alone), statistics.median(full)
    print(f"WeasyPrint alone, profile HTML to PDF:  median {a:6.2f} s  ({runs} runs)")
    print(f"publish build of the profile (cold):    median {b:6.2f} s  ({runs} runs)")
    print(f"toolchain overhead:                      {b / a:6.2f} x  (target <= 1.10)")


def edition(scratch: Path) -> None:
    results = {}
    for workers in (1, 2):
        dist, cache = scratch / f"edition-{workers}", scratch / f"edition-cache-{workers}"
        seconds, peak = timed([sys.executable, "-m", "publish", "build", str(EDITION), "-q",
                               "--jobs", str(workers), "--dist", str(dist), "--cache",
                               str(cache)])
        count = len([p for p in dist.rglob("*.pdf")])
        results[workers] = seconds
        print(f"edition cold, {workers} worker{'s' if workers > 1 else ' '}: {count} publications "
              f"in {seconds:7.1f} s = {count / seconds * 60:6.1f} per minute; "
              f"peak {peak:5.0f} MB in one process")
    print(f"speed-up with 2 workers:                 {results[1] / results[2]:6.2f} x  "
          f"(target >= 1.8)")
    noop = [timed([sys.executable, "-m", "publish", "build", str(EDITION), "-q", "--jobs", "2",
                   "--dist",
                   str(scratch / "edition-2"), "--cache", str(scratch / "edition-cache-2")])[0]
            for _ in range(3)]
    print(f"no-op rebuild of the edition:            median {statistics.median(noop):6.2f} s  "
          f"(target < 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-edition", action="store_true",
                        help="only the overhead figures (the edition takes minutes)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    scratch = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        overhead(args.runs, scratch)
        if not args.skip_edition:
            edition(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
