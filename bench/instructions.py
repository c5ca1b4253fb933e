"""The print CSS's cost per page in instructions, not seconds: a figure the machine's load does
not move, for judging a change to the templates or stylesheets on a busy machine.

    python bench/instructions.py

Counts, with valgrind (cachegrind, no cache simulation), the instructions of one warm render
by WeasyPrint alone of: the plain pages that are the floor of bench/edition.py, a factsheet
(Kazakhstan) and the profile (Kyrgyzstan), each the very HTML publish hands WeasyPrint. One
warm render is a process that renders twice less the same process rendering once. Prints
each count, its pages, and the cost per page against the plain page's. Needs valgrind
(`apt-get install valgrind`); about four minutes on this project's machine.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edition import FACTSHEET, PROFILE, final_html, plain_pages_html  # noqa: E402

RENDERS = """
import sys, weasyprint
html, base, renders = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(renders):
    document = weasyprint.HTML(filename=html, base_url=base).render()
    document.write_pdf(pdf_variant="pdf/ua-1")
print(len(document.pages))
"""


def instructions(html: Path, renders: int) -> tuple[int, int]:
    """Instructions of a process rendering `html` `renders` times, and the page count."""
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", RENDERS, str(html), f"{html.parent.as_uri()}/", str(renders)],
        capture_output=True, text=True, check=True)
    line = next(line for line in result.stderr.splitlines() if "I   refs" in line
                or "I refs" in line)
    return int(line.split(":")[1].replace(",", "").split()[0]), int(result.stdout.split()[-1])


def one_render(html: Path) -> tuple[int, int]:
    """Instructions of one warm render of `html`, and its pages."""
    with ThreadPoolExecutor(2) as pool:  # valgrind counts the same however busy the cores
        once, twice = pool.map(lambda renders: instructions(html, renders), (1, 2))
    return twice[0] - once[0], once[1]


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    scratch = Path(tempfile.mkdtemp(prefix="publish-instructions-"))
    try:
        factsheet, _ = final_html(scratch, FACTSHEET)
        profile, publication = final_html(scratch, PROFILE.name)
        paragraphs = [paragraph.html for section in publication.profile.narrative.sections
                      for passage in section.passages for paragraph in passage.paragraphs]
        plain = plain_pages_html(scratch, paragraphs)
        floor, floor_pages = one_render(plain)
        per_page = floor / floor_pages
        print(f"plain pages: {floor / 1e6:.0f} million instructions, {floor_pages} pages, "
              f"{per_page / 1e6:.0f} million a page")
        for name, html in ((f"factsheet ({FACTSHEET})", factsheet),
                           (f"profile ({PROFILE.name})", profile)):
            count, pages = one_render(html)
            print(f"{name}: {count / 1e6:.0f} million instructions, {pages} pages: "
                  f"{count / pages / per_page:.2f} x the plain page (target 1.2 x)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
