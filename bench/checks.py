"""Benchmark of the checks every output passes: prints what each costs, warm, on a factsheet
and on the profile.

    python bench/checks.py [--runs N]

The PDFs and EPUBs are rendered here, as a review build renders them; each check is then
timed alone, in this process, median of N runs after one to warm it (EPUBCheck: the
long-lived server, after its first EPUB). The README's table of check costs comes from it.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITION = ROOT / "content/gocindex-2025"
NAMES = ("kazakhstan", "kyrgyzstan")   # a factsheet, the profile
sys.path.insert(0, str(ROOT))

from timing import median_seconds  # noqa: E402 (bench/, beside this script)


def outputs(name: str) -> tuple[bytes, bytes]:
    """The publication's PDF and EPUB, as a review build makes them (not verified here)."""
    from publish.build import identifier, release_date, select
    from publish.core.epub import assemble
    from publish.core.kind import Rendering
    from publish.core.pdf import render_pdf
    from publish.core.sources import Project
    project = Project.at(ROOT)
    publication = next(p for p in select(ROOT, [EDITION]).publications()
                       if p.slug.endswith(f"-{name}"))
    publication.prepare()
    rendering = Rendering(project, "REVIEW COPY", release_date(publication))
    pdf = render_pdf(publication.print_html(rendering), project, identifier(publication),
                     strict=False, mark="REVIEW COPY", kind_styles=publication.kind.styles)
    return pdf, assemble(publication.epub(rendering))


def checks(pdf: bytes, epub: bytes, folder: Path) -> dict[str, object]:
    """Each check, as a function of no argument."""
    import pikepdf

    from publish.core import verify
    from publish.core.pdfua import check_pdfua
    file = folder / "output.pdf"
    file.write_bytes(pdf)

    def text():
        subprocess.run(["pdftotext", "-enc", "UTF-8", str(file), "-"], capture_output=True,
                       check=True)

    def structure():
        with pikepdf.open(file) as document:
            document.check_pdf_syntax()

    def pdfua():
        with pikepdf.open(file) as document:
            assert check_pdfua(document) == []

    return {
        "the PDF's text, read back by poppler's pdftotext (a process)": text,
        "the PDF's structure (the checks of qpdf --check), in the process (pikepdf)": structure,
        "the PDF/UA-1 rules (publish.core.pdfua), in the process (pikepdf)": pdfua,
        "the whole PDF verification (all of the above, side by side)":
            lambda: verify.verify_pdf(pdf, "REVIEW COPY"),
        "EPUBCheck, each EPUB after a worker's first (the server)":
            lambda: verify.verify_epub(epub),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"{platform.machine()}, {platform.node()}, {datetime.date.today()}, "
          f"median of {runs}, warm")
    figures: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in NAMES:
            pdf, epub = outputs(name)
            folder = Path(scratch) / name
            folder.mkdir()
            for label, action in checks(pdf, epub, folder).items():
                seconds = median_seconds(action, runs)
                figures.setdefault(label, []).append(f"{seconds:.3f} s")
                print(f"{name}: {label}: {seconds:.3f} s", flush=True)
    print(f"\n| check | {' | '.join(NAMES)} |\n| --- |{' --- |' * len(NAMES)}")
    for label, measured in figures.items():
        print(f"| {label} | {' | '.join(measured)} |")


if __name__ == "__main__":
    main()
