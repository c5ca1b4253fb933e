"""The accessibility report of a release (publish.core.accessibility): beside SHA256SUMS,
named in the manifest, one entry per file with each check and its verdict; Ace by DAISY on
one publication of each kind and variant; and a violation Ace finds fails the release."""
from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from conftest import PROJECT
from test_ace import _rewritten

from publish.build import select
from publish.core import accessibility
from publish.core.pdfua import RULES


@pytest.fixture(scope="session")
def report(dist) -> dict:
    return json.loads((dist / accessibility.JSON_NAME).read_text(encoding="utf-8"))


def test_the_manifest_names_the_reports_with_their_hashes(dist):
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    named = {entry["path"]: entry["sha256"] for entry in manifest["reports"]}
    assert set(named) == {accessibility.JSON_NAME, accessibility.HTML_NAME}
    for name, sha256 in named.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == sha256


def test_every_released_file_has_its_checks_and_verdicts(dist, report):
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    # Every file but the images (which no check reads): the PDF, the EPUB, the press PDF.
    assert [f["path"] for f in report["files"]] == sorted(
        f["path"] for f in manifest["files"] if f["kind"] in ("pdf", "epub", "press"))
    for file in report["files"]:
        checks = {check["check"]: check for check in file["checks"]}
        if file["format"] == "pdf":
            assert checks["PDF/UA-1 rules"]["rules"] == list(RULES)
            assert {c["verdict"] for c in checks.values()} == {"pass"}
        elif file["format"] == "press":
            assert file["path"].endswith("-press.pdf")
            assert {c["verdict"] for c in checks.values()} == {"pass"}
            assert set(checks) == {"PDF/X-4 rules (a printer's file, not for reading)",
                                   "PDF structure"}
        else:
            assert checks["EPUB 3 conformance"]["by"].startswith("EPUBCheck ")
            assert checks["EPUB accessibility"] == {
                "check": "EPUB accessibility", "by": "Ace by DAISY 1.4.6", "verdict": "pass",
                "violations": []}
    assert report["ace"] == {"version": "1.4.6", "scope": "sample",
                             "checked": [f["path"] for f in report["files"]
                                         if f["format"] == "epub"]}


def test_the_html_report_reads_as_a_table_of_every_check(dist, report):
    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self.open = [], False

        def handle_starttag(self, tag, attrs):
            self.open = tag in ("td", "th")

        def handle_data(self, data):
            if self.open and data.strip():
                self.cells.append(data.strip())

    page = Cells()
    page.feed((dist / accessibility.HTML_NAME).read_text(encoding="utf-8"))
    for file in report["files"]:
        assert file["path"] in page.cells
    assert page.cells.count("pass") == sum(len(f["checks"]) for f in report["files"])


def test_ace_samples_one_publication_of_each_kind_and_variant():
    jobs = [SimpleNamespace(publication=p) for p in select(PROJECT).publications()]
    chosen = accessibility.sample(jobs)
    assert sorted((j.publication.kind.name, j.publication.variant) for j in chosen) == [
        ("book", ""), ("ocindex", "factsheet"), ("ocindex", "profile")]
    # The first of each by name: the same sample on every run.
    assert "gocindex-2025-afghanistan" in {j.publication.slug for j in chosen}


def test_a_violation_ace_finds_fails_the_release(dist, tmp_path):
    epub = dist / "gocindex-2025/kyrgyzstan.epub"
    broken = _rewritten(epub, tmp_path / "broken.epub",
                        {"EPUB/content.opf": (r' xml:lang="en"', "")})
    run = accessibility.run_ace([("gocindex-2025/kyrgyzstan.epub", broken.read_bytes(),
                                  PROJECT / "content")], "sample", 1)
    assert [problem.code for problem in run.problems] == ["R007"]
    assert "serious epub-lang in EPUB/content.opf" in run.problems[0].message
    assert run.verdicts["gocindex-2025/kyrgyzstan.epub"] == [
        "serious epub-lang in EPUB/content.opf: The language must be specified (xml:lang in "
        "OPF package)"]


def test_without_ace_the_report_says_nothing_was_checked_by_it(monkeypatch, tmp_path):
    from publish.core import ace
    monkeypatch.setattr(ace, "PROJECT_ACE", tmp_path / "no-ace")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ace-cli on it either
    run = accessibility.run_ace([("a.epub", b"", PROJECT)], "sample", 1)
    assert (run.version, run.verdicts, run.problems) == (None, {}, [])
    data = accessibility.report([accessibility.Output("a.epub", "a", "epub")], run)
    (check,) = [c for c in data["files"][0]["checks"] if c["check"] == "EPUB accessibility"]
    assert check["verdict"] == "not checked: Ace is not installed"
    assert b"Ace by DAISY is not installed" in accessibility.as_html(data)
