"""The print pages as images at screen resolution: poppler's pdftoppm, then PNG.

pdftoppm draws a page in a twentieth of a second, but its own PNG writer compresses hard and
takes four times as long as drawing (measured: 7 pages at 96 dpi, 0.36 s as PPM, 1.9 s as
PNG). So it writes PPM into the preview's scratch folder, in two processes, one per half of
the pages, and Pillow writes each PNG with light compression; a page whose pixels did not
change keeps the PNG it had.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DPI = 96  # a CSS pixel: the page shown at 100 % is the size of the printed page


@dataclass(frozen=True)
class PageImage:
    number: int
    digest: str      # of the pixels: names the image, so that a browser refetches only changes
    png: bytes
    width: int
    height: int


def page_images(pdf: bytes, pages: int, scratch: Path,
                previous: dict[str, PageImage] | None = None) -> list[PageImage]:
    """Each page of the PDF as a PNG. `previous` (pixel digest -> image) saves encoding the
    pages that did not change."""
    previous = previous or {}
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        folder = Path(folder)
        source = folder / "document.pdf"
        source.write_bytes(pdf)
        _draw(source, pages, folder)
        images = []
        for number, path in enumerate(sorted(folder.glob("page-*.ppm"), key=_page_number), 1):
            pixels = path.read_bytes()
            digest = hashlib.sha256(pixels).hexdigest()[:16]
            images.append(previous.get(digest) or _png(number, digest, pixels))
    return [PageImage(number, image.digest, image.png, image.width, image.height)
            for number, image in enumerate(images, 1)]


def page_count(pdf: bytes) -> int:
    import pikepdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def _draw(source: Path, pages: int, folder: Path) -> None:
    """pdftoppm on each half of the pages at once: both cores draw."""
    half = (pages + 1) // 2
    ranges = [(1, half), (half + 1, pages)] if pages > 1 else [(1, pages)]
    processes = [subprocess.Popen(["pdftoppm", "-r", str(DPI), "-f", str(first), "-l", str(last),
                                   str(source), str(folder / f"page-{index}")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for index, (first, last) in enumerate(ranges)]
    failures = []
    for process in processes:
        _, error = process.communicate()
        if process.returncode:
            failures.append(error.decode(errors="replace").strip())
    if failures:
        raise RuntimeError(f"pdftoppm failed: {'; '.join(failures)}")


def _page_number(path: Path) -> tuple[int, int]:
    """'page-1-07.ppm' -> (1, 7): the half, then pdftoppm's page number (zero-padded to a
    width that differs between the halves, so never sorted as text)."""
    half, number = path.stem.split("-")[1:]
    return int(half), int(number)


def _png(number: int, digest: str, pixels: bytes) -> PageImage:
    from PIL import Image  # here: every command imports the preview's default port
    image = Image.open(io.BytesIO(pixels))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # fast; a page of text is still ~150 KB
    return PageImage(number, digest, out.getvalue(), image.width, image.height)
