"""DAISY Ace, the accessibility checker for EPUB, run on one EPUB and its report read.

Ace checks what a machine can check of EPUB Accessibility 1.1 and WCAG (the package's
language and accessibility metadata; each document in Chromium with axe-core). It is a Node.js
program: `scripts/setup.sh --test` installs it, pinned, into the project's `.tools/ace/`, with
no browser of its own, so that it drives the machine's Chromium (Debian's `chromium`).

    from publish.core import ace
    if ace.available():
        verdict = ace.check(Path("dist/book.epub"))
        for violation in verdict.violations:
            ...  # violation.rule, .impact, .file, .description

:func:`check` raises :class:`AceError` when Ace cannot give a verdict (not installed, no
Chromium, a crash, no report); a verdict with violations is a result, not an error. Nothing
here prints.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Where setup.sh installs Ace: in the project's source tree, beside the package.
PROJECT_ACE = Path(__file__).resolve().parents[2] / ".tools/ace/node_modules/.bin/ace-cli"
# The names Chromium goes by on Debian, Ubuntu and elsewhere, in the order they are tried.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Ace's own limit is 4 minutes per document; a publication of publish takes seconds.
TIMEOUT_SECONDS = 300
# axe-core's and Ace's impacts, least to most severe.
IMPACTS = ("minor", "moderate", "serious", "critical")


class AceError(Exception):
    """Ace could not check the EPUB: it is missing, it failed, or its report is unreadable."""


@dataclass(frozen=True)
class Violation:
    """One rule Ace found broken in one file of the EPUB."""
    rule: str           # Ace's or axe-core's rule, such as "epub-lang" or "image-alt"
    impact: str         # one of IMPACTS
    file: str           # the file in the EPUB, such as "EPUB/content.opf"
    description: str    # what is wrong, as Ace says it
    help_url: str = ""  # the page of the DAISY knowledge base or axe-core that explains it


@dataclass(frozen=True)
class Verdict:
    """What Ace concluded of one EPUB."""
    outcome: str                        # Ace's "pass" or "fail"
    violations: tuple[Violation, ...]
    ace_version: str                    # of the Ace that checked, for a report to cite

    @property
    def passed(self) -> bool:
        return self.outcome == "pass" and not self.violations


def ace_binary() -> Path | None:
    """The Ace command: the project's own install, else one on the PATH."""
    if PROJECT_ACE.is_file() and os.access(PROJECT_ACE, os.X_OK):
        return PROJECT_ACE
    found = shutil.which("ace-cli")
    return Path(found) if found else None


def chromium() -> Path | None:
    """The browser Ace drives: PUPPETEER_EXECUTABLE_PATH if set, else Chromium on the PATH."""
    given = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if given:
        return Path(given) if Path(given).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def available() -> bool:
    """Whether Ace can run here: Ace, Node.js to run it, and a Chromium for it to drive."""
    return (ace_binary() is not None and shutil.which("node") is not None
            and chromium() is not None)


def check(epub: Path, timeout: float = TIMEOUT_SECONDS) -> Verdict:
    """Run Ace on one EPUB and return its verdict. Raises AceError if Ace cannot give one."""
    binary, browser = ace_binary(), chromium()
    if binary is None:
        raise AceError("DAISY Ace is not installed: run scripts/setup.sh --test")
    if browser is None:
        raise AceError("Ace needs Chromium, and none was found: run scripts/setup.sh --test")
    with tempfile.TemporaryDirectory(prefix="publish-ace-") as work:
        out = Path(work) / "report"
        _run(binary, browser, Path(epub), out, Path(work) / "tmp", timeout)
        return read_report(out / "report.json")


def _run(binary: Path, browser: Path, epub: Path, out: Path, temp: Path, timeout: float) -> None:
    temp.mkdir()
    # Puppeteer must neither download a browser nor look for the one it would have downloaded.
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(browser),
           "PUPPETEER_SKIP_DOWNLOAD": "1"}
    command = [str(binary), "--silent", "--force", "--outdir", str(out), "--tempdir", str(temp),
               "--timeout", str(int(timeout * 1000)), str(epub.resolve())]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True,
                                timeout=timeout + 30)
    except subprocess.TimeoutExpired as error:
        raise AceError(f"Ace did not finish checking {epub.name} in {timeout:.0f} s") from error
    except OSError as error:
        raise AceError(f"Ace could not be started: {error}") from error
    if result.returncode != 0 or not (out / "report.json").is_file():
        said = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise AceError(f"Ace failed on {epub.name} (exit {result.returncode}): "
                       + " / ".join(said))


def read_report(path: Path) -> Verdict:
    """The verdict of a report.json that Ace wrote."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        outcome = report["earl:result"]["earl:outcome"]
        version = report["earl:assertedBy"]["doap:release"]["doap:revision"]
        violations = tuple(_violations(report))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AceError(f"Ace's report {path} cannot be read: {error!r}") from error
    return Verdict(outcome, violations, version)


def _violations(report: dict):
    """Each failed assertion of the report: Ace groups them by the file they concern."""
    for subject in report.get("assertions", []):
        file = subject["earl:testSubject"]["url"]
        for assertion in subject.get("assertions", []):
            if assertion["earl:result"]["earl:outcome"] != "fail":
                continue
            test = assertion["earl:test"]
            said = assertion["earl:result"].get("dct:description") or test["dct:description"]
            yield Violation(rule=test["dct:title"], impact=test["earl:impact"], file=file,
                            description=said, help_url=test.get("help", {}).get("url", ""))
