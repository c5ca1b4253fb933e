"""The print pages as images at screen resolution: drawn by pdftoppm as pixels
(:mod:`publish.core.pages`), each written as a PNG by Pillow with light compression; a page
whose pixels did not change keeps the PNG it had.
"""
from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.pages import draw_pages

DPI = 96  # a CSS pixel: the page shown at 100 % is the size of the printed page


@dataclass(frozen=True)
class PageImage:
    number: int
    digest: str      # of the pixels: names the image, so that a browser refetches only changes
    png: bytes
    width: int
    height: int


def page_images(pdf: bytes, scratch: Path,
                previous: dict[str, PageImage] | None = None) -> list[PageImage]:
    """Each page of the PDF as a PNG. `previous` (pixel digest -> image) saves encoding the
    pages that did not change."""
    previous = previous or {}
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        folder = Path(folder)
        source = folder / "document.pdf"
        source.write_bytes(pdf)
        images = []
        for number, path in enumerate(draw_pages(source, DPI, folder / "pages"), 1):
            pixels = path.read_bytes()
            digest = hashlib.sha256(pixels).hexdigest()[:16]
            images.append(previous.get(digest) or _png(number, digest, pixels))
    return [PageImage(number, image.digest, image.png, image.width, image.height)
            for number, image in enumerate(images, 1)]


def _png(number: int, digest: str, pixels: bytes) -> PageImage:
    from PIL import Image  # here: every command imports the preview's default port
    image = Image.open(io.BytesIO(pixels))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # fast; a page of text is still ~150 KB
    return PageImage(number, digest, out.getvalue(), image.width, image.height)
