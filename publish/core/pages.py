"""A PDF's pages as pixels, drawn by poppler's pdftoppm: for the preview's page images and for
the pages `publish diff` compares.

pdftoppm draws a page in a twentieth of a second, but its own PNG writer compresses hard and
takes four times as long as drawing (measured: 7 pages at 96 dpi, 0.36 s as PPM, 1.9 s as
PNG). So it writes PPM, in two processes, one per half of the pages: both cores draw. Callers
read the pixels with Pillow and write what images they need.
"""
from __future__ import annotations

import subprocess
from pathlib import Path


class DrawingError(subprocess.SubprocessError):
    """The pages could not be drawn: pdftoppm failed, or the PDF cannot be read."""


def page_count(pdf: Path) -> int:
    import pikepdf
    try:
        with pikepdf.open(pdf) as document:
            return len(document.pages)
    except pikepdf.PdfError as error:
        raise DrawingError(f"{pdf.name} cannot be read: {error}") from None


def draw_pages(pdf: Path, dpi: int, folder: Path) -> list[Path]:
    """Each page of the PDF as a PPM image in `folder` (which it makes), in page order.
    DrawingError if the PDF cannot be read or pdftoppm fails."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = page_count(pdf)
    half = (pages + 1) // 2
    ranges = [(1, half), (half + 1, pages)] if pages > 1 else [(1, pages)]
    processes = [subprocess.Popen(["pdftoppm", "-r", str(dpi), "-f", str(first), "-l",
                                   str(last), str(pdf), str(folder / f"page-{index}")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for index, (first, last) in enumerate(ranges)]
    failures = []
    for process in processes:
        _, error = process.communicate(timeout=300)
        if process.returncode:
            failures.append(error.decode(errors="replace").strip())
    if failures:
        raise DrawingError(f"pdftoppm failed: {'; '.join(failures)}")
    return sorted(folder.glob("page-*.ppm"), key=_page_number)


def _page_number(path: Path) -> tuple[int, int]:
    """'page-1-07.ppm' -> (1, 7): the half, then pdftoppm's page number (zero-padded to a
    width that differs between the halves, so never sorted as text)."""
    half, number = path.stem.split("-")[1:]
    return int(half), int(number)
