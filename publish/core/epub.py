"""Writing an EPUB 3 that ebooklib assembled: checked, and the same bytes on every build.

ebooklib's habits are handled here, for every kind: `write_epub` reports failure only when
asked to raise; the NCX says its depth is 0; and the archive carries local timestamps. So the
EPUB is written to memory, its NCX depth set, and the archive rewritten deterministically:
`mimetype` first and stored, the entries in a fixed order, all with one fixed timestamp.
"""
from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import datetime

from ebooklib import epub

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def stable_identifier(name: str) -> str:
    """A UUID derived from a publication's name: the same on every build, unique to it."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'publish:' + name)}"


def write_book(book: epub.EpubBook, modified: datetime, ncx_depth: int) -> bytes:
    """The EPUB's bytes: written by ebooklib (raising on failure), then made deterministic."""
    raw = io.BytesIO()
    epub.write_epub(raw, book, {"raise_exceptions": True, "mtime": modified,
                                "epub3_pages": False})
    return deterministic_archive(raw.getvalue(), ncx_depth)


def deterministic_archive(data: bytes, ncx_depth: int) -> bytes:
    """Rewrite the archive: mimetype first and stored, fixed order and timestamps, and the
    NCX's real depth."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    if names[0] != "mimetype":
        raise ValueError("ebooklib wrote an EPUB whose first entry is not mimetype")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in names:
            content = source.read(name)
            if name.endswith(".ncx"):
                content = re.sub(rb'content="0" name="dtb:depth"',
                                 f'content="{ncx_depth}" name="dtb:depth"'.encode(), content)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            stored = name == "mimetype"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            target.writestr(info, content, compresslevel=None if stored else 9)
    return out.getvalue()
