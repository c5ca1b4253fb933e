"""Benchmark of the Index's edition on this machine: prints every figure of issue 11's table.

    python bench/edition.py [--runs N] [--quick]

Each figure is printed beside the floor it is compared with and its target, then all of them
again as one table. The floor is WeasyPrint alone on the very HTML publish hands it (with the
same stylesheets and fonts), in a warm process or as a whole process, as the figure says.

--quick leaves out the whole edition's builds and release (minutes each).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
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
FACTSHEET = "kazakhstan"
NOW = "2026-01-01T00:00:00Z"   # after the edition's embargo: a release is allowed
sys.path.insert(0, str(ROOT))

rows: list[tuple[str, str, str, str]] = []   # figure, measured, target, met


def record(figure: str, measured: str, target: str, met: bool | None) -> None:
    rows.append((figure, measured, target, "-" if met is None else ("yes" if met else "NO")))
    print(f"{figure}: {measured}  (target {target})", flush=True)


# -- the floor: WeasyPrint alone ------------------------------------------------------------

def final_html(folder: Path, name: str) -> tuple[Path, str]:
    """A publication's print HTML, exactly as publish hands it to WeasyPrint, in a folder that
    also holds the stylesheets it links and the fonts: WeasyPrint alone reads the same files.
    Returns the HTML's path and the publication's text (for the plain page)."""
    from publish.build import release_date, select
    from publish.core.kind import Rendering
    from publish.core.sources import Project
    from publish.core.stylesheets import read_stylesheet
    project = Project.at(ROOT)
    publications = select(ROOT, [EDITION]).publications()
    publication = next(p for p in publications if p.slug.endswith(f"-{name}"))
    html = publication.print_html(Rendering(project, "REVIEW COPY - NOT THE RELEASED FILE",
                                            release_date(publication)))
    for href in publication.stylesheets["print"]:
        (folder / href).parent.mkdir(parents=True, exist_ok=True)
        (folder / href).write_text(read_stylesheet(project, href, publication.kind.styles))
    shutil.copytree(ROOT / "fonts", folder / "fonts", dirs_exist_ok=True)
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path, publication


def plain_pages_html(folder: Path, paragraphs: list[str]) -> Path:
    """Plain A4 pages of two justified, hyphenated columns: the profile's narrative in the
    same fonts and margins, with no other design."""
    body = "\n".join(f"<p>{text}</p>" for text in paragraphs)
    path = folder / "plain.html"
    path.write_text(f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Plain pages</title><link rel="stylesheet" href="styles/fonts.css"><style>
@page {{ size: A4; margin: 20mm 16mm 18mm 16mm; }}
body {{ margin: 0; font: 9pt/1.45 "Publish Sans"; columns: 2; column-gap: 7mm;
       text-align: justify; hyphens: auto; }}
p {{ margin: 0 0 2mm; }}
</style></head><body>{body}</body></html>""", encoding="utf-8")
    return path


WARM_RENDERS = """
import json, sys, time, pathlib, weasyprint
htmls, runs = sys.argv[2:], int(sys.argv[1])
seconds, pages = {html: [] for html in htmls}, {}
for run in range(runs + 1):         # the first round warms the process and is not counted
    for html in htmls:              # in turns: a moment of load on the machine falls on all
        started = time.perf_counter()
        document = weasyprint.HTML(filename=html, base_url=pathlib.Path(html).parent.as_uri() + "/").render()
        document.write_pdf(pdf_variant="pdf/ua-1")
        if run:
            seconds[html].append(time.perf_counter() - started)
        pages[html] = len(document.pages)
print(json.dumps({"seconds": seconds, "pages": pages}))
"""


def warm_renders(htmls: list[Path], runs: int) -> list[tuple[float, int]]:
    """For each of `htmls`, the median seconds of WeasyPrint alone rendering it to a PDF in
    one warm process, which renders them in turns, and its page count."""
    result = subprocess.run([sys.executable, "-c", WARM_RENDERS, str(runs),
                             *(str(html) for html in htmls)],
                            capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout)
    return [(statistics.median(figures["seconds"][str(html)]), figures["pages"][str(html)])
            for html in htmls]


WEASYPRINT_ALONE = """
import sys, weasyprint
weasyprint.HTML(filename=sys.argv[1], base_url=sys.argv[2]).write_pdf(
    sys.argv[3], pdf_variant="pdf/ua-1")
"""


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds of a whole command, and the peak resident set (MB) of the largest of its
    processes."""
    seconds, peak, _ = timed_with_cpu(command, cwd)
    return seconds, peak


def timed_with_cpu(command: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """timed(), and the CPU seconds (user and system) of the command and every process it
    waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, usage.ru_maxrss / 1024, cpu


def publish(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "publish", *arguments, "-q"]


# -- the figures ----------------------------------------------------------------------------

def pages_figures(scratch: Path, runs: int) -> None:
    factsheet, _ = final_html(scratch, FACTSHEET)
    profile, publication = final_html(scratch, PROFILE.name)
    paragraphs = [paragraph.html for section in publication.profile.narrative.sections
                  for passage in section.passages for paragraph in passage.paragraphs]
    plain = plain_pages_html(scratch, paragraphs)
    ((plain_seconds, plain_pages), (sheet_seconds, sheet_pages),
     (profile_seconds, profile_pages)) = warm_renders([plain, factsheet, profile], runs)
    per_plain_page = plain_seconds / plain_pages
    print(f"  floor: a plain page of two justified, hyphenated columns, {per_plain_page:.3f} s "
          f"({plain_pages} pages in {plain_seconds:.2f} s, WeasyPrint alone, warm)")
    record(f"a factsheet's render ({FACTSHEET}, {sheet_pages} pages), WeasyPrint alone, warm",
           f"{sheet_seconds:.2f} s", "<= 0.9 s", sheet_seconds <= 0.9)
    record("the print CSS's cost per page against a plain page, factsheet",
           f"{sheet_seconds / sheet_pages / per_plain_page:.2f} x", "<= 1.2 x",
           sheet_seconds / sheet_pages / per_plain_page <= 1.2)
    ratio = profile_seconds / profile_pages / per_plain_page
    record(f"the print CSS's cost per page against a plain page, profile ({profile_pages} "
           f"pages, {profile_seconds:.2f} s)", f"{ratio:.2f} x", "<= 1.2 x", ratio <= 1.2)
    overhead(profile, scratch, runs)


def overhead(html: Path, scratch: Path, runs: int) -> None:
    alone, full = [], []
    for run in range(runs):  # in turns, as the warm renders are
        alone.append(timed([sys.executable, "-c", WEASYPRINT_ALONE, str(html),
                            f"{scratch.as_uri()}/", str(scratch / "alone.pdf")])[0])
        full.append(timed(publish("build", str(PROFILE), "--jobs", "1", "--dist",
                                  str(scratch / f"dist-{run}"), "--cache",
                                  str(scratch / f"cache-{run}")))[0])
    a, b = statistics.median(alone), statistics.median(full)
    print(f"  floor: WeasyPrint alone, the profile's HTML to a PDF, a whole process: {a:.2f} s")
    record("publish build of one profile (cold, a whole process) against WeasyPrint alone",
           f"{b / a:.2f} x ({b:.2f} s)", "<= 1.10 x", b / a <= 1.10)


def author_rebuild(scratch: Path, runs: int) -> None:
    """An edit to the profile's narrative, rebuilt by a process that has built it before."""
    project = scratch / "author"
    for folder in ("content/gocindex-2025", "styles", "fonts"):
        shutil.copytree(ROOT / folder, project / folder)
    script = """
import json, sys, time
from pathlib import Path
from publish import cli
project, runs = Path(sys.argv[1]), int(sys.argv[2])
narrative = project / "content/gocindex-2025/profiles/kyrgyzstan/narrative.md"
arguments = ["--project", str(project), "build", "content/gocindex-2025/profiles/kyrgyzstan",
             "--dist", str(project / "dist"), "--cache", str(project / "cache"), "-q"]
assert cli.main(arguments) == 0
seconds = []
for run in range(runs):
    text = narrative.read_text()
    narrative.write_text(text.replace(" is ", " is, in edit %d, " % run, 1))
    started = time.perf_counter()
    assert cli.main(arguments) == 0
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds))
"""
    result = subprocess.run([sys.executable, "-c", script, str(project), str(runs)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    seconds = statistics.median(json.loads(result.stdout.strip().splitlines()[-1]))
    record("an author's rebuild of one edited profile, process already running",
           f"{seconds:.2f} s", "<= 1.0 s", seconds <= 1.0)


def edition_figures(scratch: Path) -> None:
    times = {}
    for workers in (1, 2):
        dist, cache = scratch / f"edition-{workers}", scratch / f"edition-cache-{workers}"
        times[workers], peak, cpu = timed_with_cpu(publish(
            "build", str(EDITION), "--jobs", str(workers), "--dist", str(dist), "--cache",
            str(cache)))
        count = len(list(dist.rglob("*.pdf")))
        print(f"  edition cold, {workers} worker(s): {count} publications in "
              f"{times[workers]:.1f} s, {count / times[workers] * 60:.0f} a minute; "
              f"largest process {peak:.0f} MB; {cpu:.0f} s of CPU, {cpu / count:.2f} s a "
              f"publication, {cpu / times[workers]:.2f} cores busy on average")
    record("whole edition cold, 2 workers, every output verified", f"{times[2]:.0f} s",
           "<= 90 s", times[2] <= 90)
    record("speed-up with 2 workers", f"{times[1] / times[2]:.2f} x", ">= 1.85 x",
           times[1] / times[2] >= 1.85)
    dist = scratch / "edition-2"
    epubs = sorted(dist.rglob("*.epub"))
    profile = next(p for p in epubs if p.name.startswith(PROFILE.name))
    factsheets = [p.stat().st_size for p in epubs if p != profile]
    record("EPUB of a factsheet (largest of the edition)", f"{max(factsheets) / 1000:.0f} KB",
           "<= 120 KB", max(factsheets) <= 120_000)
    record("EPUB of the profile", f"{profile.stat().st_size / 1000:.0f} KB", "<= 200 KB",
           profile.stat().st_size <= 200_000)
    size = sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())
    record("dist/ of the whole edition", f"{size / 1e6:.1f} MB", "<= 40 MB", size <= 40e6)
    noop = [timed(publish("build", str(EDITION), "--jobs", "2", "--dist", str(dist), "--cache",
                          str(scratch / "edition-cache-2"))) for _ in range(3)]
    record("no-op rebuild of the edition", f"{statistics.median(s for s, _ in noop):.2f} s",
           "< 0.5 s", statistics.median(s for s, _ in noop) < 0.5)
    release, peak = timed(publish("release", str(EDITION), "--jobs", "2", "--now", NOW,
                                  "--allow-dirty", "--dist", str(scratch / "released"),
                                  "--cache", str(scratch / "release-cache")))
    record("publish release of the whole edition, cold, EPUBCheck on every EPUB",
           f"{release:.0f} s", "<= 240 s", release <= 240)
    record("peak memory of the largest publish process of a release (a worker or the child "
           "rendering a PDF)", f"{peak:.0f} MB", "< 300 MB", peak < 300)
    jvm = epubcheck_peak(sorted((scratch / "released").rglob("*.epub"))[:30])
    record("peak memory of EPUBCheck's JVM (one per worker), over 30 EPUBs", f"{jvm:.0f} MB",
           "< 300 MB", jvm < 300)


def epubcheck_peak(epubs: list[Path]) -> float:
    """The largest resident set (MB) of the EPUBCheck server while it checks `epubs`: it is
    no child the build waits for, so the build's figure leaves it out."""
    from publish.core import verify
    for epub in epubs:
        assert verify.verify_epub(epub.read_bytes()) == [], epub
    server = verify._EpubCheckServer._current
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    server.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="leave out the whole edition's builds and release")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Python "
          f"{platform.python_version()}; {datetime.date.today()}; median of {args.runs} runs")
    scratch = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        pages_figures(scratch, args.runs)
        author_rebuild(scratch, args.runs)
        if not args.quick:
            edition_figures(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n| figure | measured | target | met |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
