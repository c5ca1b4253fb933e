"""DAISY Ace on one EPUB of each kind, for real: no violation of any impact. And an EPUB
broken on purpose, to show that publish.core.ace reports what Ace finds.

The EPUBs are conftest's (profile_epub, factsheet_epub, book_epub). Ace is installed by
scripts/setup.sh --test; where it is missing these tests fail, as any
test whose tool is missing would: a skipped accessibility check would pass unseen.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from publish.core import ace


def test_ace_and_chromium_are_installed():
    assert ace.ace_binary() is not None, "run scripts/setup.sh --test"
    assert ace.chromium() is not None, "run scripts/setup.sh --test"
    assert ace.available()


@pytest.mark.parametrize("kind", ["profile_epub", "factsheet_epub", "book_epub"])
def test_ace_finds_no_violation_in_any_kind(kind, request):
    epub = request.getfixturevalue(kind)
    verdict = ace.check(epub)
    assert verdict.violations == ()
    assert verdict.outcome == "pass" and verdict.passed
    assert verdict.ace_version == "1.4.6"  # as .tools/ace/package-lock.json pins it


def _rewritten(epub: Path, out: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the EPUB with, in each named file, one pattern replaced (which must occur)."""
    with zipfile.ZipFile(epub) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in edits:
                pattern, replacement = edits[info.filename]
                data, count = re.subn(pattern.encode(), replacement.encode(), data, count=1)
                assert count == 1, (info.filename, pattern)
            target.writestr(info, data)
    return out


def test_ace_reports_a_package_without_language_and_an_image_without_text(profile_epub,
                                                                          tmp_path):
    broken = _rewritten(profile_epub, tmp_path / "broken.epub", {
        "EPUB/content.opf": (r' xml:lang="en"', ""),
        "EPUB/scores.xhtml": (r'(<img src="charts/criminal-markets.svg") alt="[^"]*"', r"\1"),
    })
    verdict = ace.check(broken)
    assert verdict.outcome == "fail" and not verdict.passed
    found = {(v.rule, v.impact, v.file) for v in verdict.violations}
    assert found == {("epub-lang", "serious", "EPUB/content.opf"),
                     ("image-alt", "critical", "scores.xhtml")}
    (language,) = [v for v in verdict.violations if v.rule == "epub-lang"]
    assert language.description == "The language must be specified (xml:lang in OPF package)"
    assert language.help_url.startswith("http://kb.daisy.org/")


def test_a_missing_report_is_an_error_not_a_pass(tmp_path):
    with pytest.raises(ace.AceError, match="cannot be read"):
        ace.read_report(tmp_path / "report.json")
