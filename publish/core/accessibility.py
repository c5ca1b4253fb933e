"""The accessibility report of a release: what was checked on each file, and the verdict.

A distributor bound by the European Accessibility Act asks what proves a file accessible.
`publish release` answers beside SHA256SUMS, in `accessibility.json` and a short
`accessibility.html`, which the manifest names. Every file of a release passed the checks
run on every file when it was rendered (a release fails on any breach): the PDF/UA-1 rules
(:mod:`publish.core.pdfua`) and qpdf's check on each PDF, EPUBCheck on each EPUB. Ace by
DAISY starts a browser for each EPUB (seconds each), so a release runs it on a sample, one
publication of each kind and variant (a profile, a factsheet, a book), or on all of them when
asked; the report says which it checked, and its verdicts.
"""
from __future__ import annotations

import html
import json
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .. import __version__
from . import ace as ace_module
from .pdfua import RULES
from .problems import Problem

log = logging.getLogger("publish")

JSON_NAME, HTML_NAME = "accessibility.json", "accessibility.html"
# The files the report gives checks for: the PDF and the EPUB to read, and the press-ready PDF
# (a printer's file, checked as a printer would, not as a reader's); images have none.
FORMATS = ("pdf", "epub", "press")


@dataclass(frozen=True)
class Output:
    """A file of the release: its path in dist/, its publication, its format."""
    path: str
    publication: str
    format: str  # one of FORMATS


@dataclass
class AceRun:
    """What Ace did in this release: its version (None: not installed), the scope asked for
    ("sample" or "all"), its verdict on each EPUB it checked (path -> violations), and the
    problems that fail the release (a violation; Ace installed but unable to check)."""
    version: str | None
    scope: str
    verdicts: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def sample(jobs: list) -> list:
    """One job of each kind and variant of publication (the first by slug): they share their
    templates, so that what Ace finds in one it would find in the others."""
    chosen = {}
    for job in sorted(jobs, key=lambda job: job.publication.slug):
        chosen.setdefault((job.publication.kind.name, job.publication.variant), job)
    return list(chosen.values())


def run_ace(epubs: list[tuple[str, bytes, Path]], scope: str, workers: int) -> AceRun:
    """Ace's verdicts on the EPUBs, given as (path in dist/, bytes, file to blame), `workers`
    at a time (each drives a browser of its own)."""
    if not ace_module.available():
        log.warning("publish: Ace by DAISY is not installed, so no EPUB is checked by it "
                    "(scripts/setup.sh --test installs it); the accessibility report says so")
        return AceRun(None, scope)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        verdicts = list(pool.map(_ace_verdict, [data for _, data, _ in epubs]))
    run = AceRun(next((v.ace_version for v in verdicts if not isinstance(v, str)), None), scope)
    for (path, _, blame), verdict in zip(epubs, verdicts, strict=True):
        if isinstance(verdict, str):
            run.problems.append(Problem("R007", f"{path}: Ace could not check it: {verdict}",
                                        blame))
            continue
        said = [f"{v.impact} {v.rule} in {v.file}: {v.description}" for v in verdict.violations]
        run.verdicts[path] = said
        run.problems += [Problem("R007", f"{path}: Ace: {line}", blame) for line in said]
    return run


def _ace_verdict(data: bytes):
    """Ace's verdict on an EPUB's bytes, or what kept it from giving one."""
    with tempfile.TemporaryDirectory(prefix="publish-ace-") as folder:
        file = Path(folder) / "publication.epub"
        file.write_bytes(data)
        try:
            return ace_module.check(file)
        except ace_module.AceError as error:
            return str(error)


def _epubcheck_version() -> str:
    try:
        return version("epubcheck")
    except PackageNotFoundError:  # pragma: no cover (a dependency of publish)
        return "unknown"


def report(outputs: list[Output], ace: AceRun) -> dict:
    """The report, as data: deterministic (no clock), sorted by path."""
    files = []
    for output in sorted(outputs, key=lambda o: o.path):
        if output.format == "pdf":
            checks = [{"check": "PDF/UA-1 rules", "by": f"publish {__version__}",
                       "rules": list(RULES), "verdict": "pass"},
                      {"check": "PDF structure", "by": "qpdf (pikepdf)", "verdict": "pass"}]
        elif output.format == "press":
            checks = [{"check": "PDF/X-4 rules (a printer's file, not for reading)",
                       "by": f"publish {__version__}", "verdict": "pass"},
                      {"check": "PDF structure", "by": "qpdf (pikepdf)", "verdict": "pass"}]
        else:
            checks = [{"check": "EPUB 3 conformance", "by": f"EPUBCheck {_epubcheck_version()}",
                       "verdict": "pass"}, _ace_check(output, ace)]
        files.append({"path": output.path, "publication": output.publication,
                      "format": output.format, "checks": checks})
    return {"tool": "publish", "version": __version__,
            "ace": {"version": ace.version, "scope": ace.scope, "checked": sorted(ace.verdicts)},
            "files": files}


def _ace_check(output: Output, ace: AceRun) -> dict:
    check = {"check": "EPUB accessibility", "by": f"Ace by DAISY {ace.version or ''}".strip()}
    if ace.version is None:
        return {**check, "verdict": "not checked: Ace is not installed"}
    if output.path not in ace.verdicts:
        return {**check, "verdict": "not checked: outside the sample (one publication of each "
                                    "kind and variant; `publish release --ace-all` checks all)"}
    violations = ace.verdicts[output.path]
    return {**check, "verdict": "fail" if violations else "pass", "violations": violations}


def as_json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def as_html(data: dict) -> bytes:
    """A page a distributor reads: one row per check of each file."""
    rows = []
    for file in data["files"]:
        for index, check in enumerate(file["checks"]):
            cell = f'<th scope="row" rowspan="{len(file["checks"])}">{html.escape(file["path"])}' \
                   "</th>" if index == 0 else ""
            verdict = check["verdict"]
            rows.append(f'<tr>{cell}<td>{html.escape(check["check"])}</td>'
                        f'<td>{html.escape(check["by"])}</td>'
                        f'<td class="{verdict.split(":")[0].replace(" ", "-")}">'
                        f"{html.escape(verdict)}</td></tr>")
    ace = data["ace"]
    scope = ("Ace by DAISY is not installed: no EPUB was checked by it." if ace["version"] is None
             else f"Ace by DAISY {ace['version']} checked {len(ace['checked'])} EPUB(s) "
                  f"({'all' if ace['scope'] == 'all' else 'one of each kind and variant'}).")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Accessibility report</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left;
  vertical-align: top; }}
.pass {{ color: #176b2c; font-weight: 600; }} .fail {{ color: #b00000; font-weight: 600; }}
</style></head><body>
<h1>Accessibility report</h1>
<p>publish {html.escape(data['version'])}. Every PDF keeps the rules of PDF/UA-1 that publish
checks ({html.escape(', '.join(RULES))}) and passes qpdf's check; every EPUB passes EPUBCheck.
{html.escape(scope)}</p>
<table><thead><tr><th scope="col">File</th><th scope="col">Check</th><th scope="col">By</th>
<th scope="col">Verdict</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    return page.encode()
