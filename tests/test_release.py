"""Embargoed releases: the clock around the embargo, draft marks, atomic and verifiable dist/."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import KYRGYZSTAN, PROJECT, earlier_dist, run_cli
from processes import survivors_after, wait_for_descendants
from readback import pdf_pages_text, squeeze

from publish.build import output_name
from publish.core.clock import parse_instant


def shifted(instant: str, seconds: int) -> str:
    return (parse_instant(instant) + timedelta(seconds=seconds)).isoformat()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder with its hash: what 'unchanged' means."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def occupied_dist(tmp_path) -> Path:
    """A dist/ that already holds an earlier output."""
    return earlier_dist(tmp_path / "dist")


@pytest.fixture(scope="session")
def embargoed_dist(tmp_path_factory, embargo) -> Path:
    """Review copies built one second before the embargo lifts."""
    out = tmp_path_factory.mktemp("drafts")
    code, _, err = run_cli("--project", str(PROJECT), "build", KYRGYZSTAN, "--now",
                           shifted(embargo, -1), "--dist", str(out),
                           "--cache", str(tmp_path_factory.mktemp("cache")))
    assert code == 0, err
    return out


def test_release_one_second_early_is_refused_and_writes_nothing(occupied_dist, embargo):
    before = snapshot(occupied_dist)
    code, out, err = run_cli("--project", str(PROJECT), "release", "--allow-dirty", KYRGYZSTAN, "--now",
                             shifted(embargo, -1), "--dist", str(occupied_dist))
    assert code == 3
    assert "embargoed until" in err and embargo in err and out == ""
    assert snapshot(occupied_dist) == before
    assert [p.name for p in occupied_dist.parent.iterdir()] == ["dist"]  # no staging left


def test_release_through_the_environment_clock_is_refused_too(occupied_dist, embargo,
                                                              monkeypatch):
    monkeypatch.setenv("PUBLISH_NOW", shifted(embargo, -1))
    before = snapshot(occupied_dist)
    code, _, _ = run_cli("--project", str(PROJECT), "release", "--allow-dirty", KYRGYZSTAN,
                         "--dist", str(occupied_dist))
    assert code == 3 and snapshot(occupied_dist) == before


def test_release_exactly_at_and_after_the_embargo(dist, publication, embargo, tmp_path):
    # `dist` was released exactly at the embargo; now one second after.
    later = tmp_path / "later"
    code, _, err = run_cli("--project", str(PROJECT), "release", "--allow-dirty", KYRGYZSTAN, "--now",
                           shifted(embargo, 1), "--dist", str(later),
                           "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    for suffix in (".pdf", ".epub"):
        name = output_name(publication, suffix, draft=False)
        assert "draft" not in name
        # The files' dates come from the content, not the clock: the same bytes.
        assert (later / name).read_bytes() == (dist / name).read_bytes()
    for page in pdf_pages_text(dist / output_name(publication, ".pdf", draft=False)):
        assert "EMBARGOED" not in page and "REVIEW COPY" not in page
    assert not [p for p in dist.rglob("*draft*")]


def test_draft_mark_is_on_every_pdf_page(embargoed_dist, publication, embargo):
    path = embargoed_dist / output_name(publication, ".pdf", draft=True)
    assert "draft" in path.name
    mark = squeeze(f"EMBARGOED - NOT FOR DISTRIBUTION UNTIL {embargo}")
    pages = pdf_pages_text(path)
    assert len(pages) >= 5
    for number, page in enumerate(pages, start=1):
        assert mark in squeeze(page), f"page {number}"


def test_draft_epub_says_so_in_its_title_and_first_page(embargoed_dist, publication, embargo):
    path = embargoed_dist / output_name(publication, ".epub", draft=True)
    assert "draft" in path.name
    mark = f"EMBARGOED - NOT FOR DISTRIBUTION UNTIL {embargo}"
    with zipfile.ZipFile(path) as archive:
        opf = archive.read("EPUB/content.opf").decode()
        title = re.search(r"<dc:title>(.*?)</dc:title>", opf).group(1)
        assert mark in title
        spine_first = re.search(r'<itemref idref="([^"]+)"', opf).group(1)
        href = re.search(rf'<item href="([^"]+)" id="{spine_first}"', opf).group(1)
        first = archive.read(f"EPUB/{href}").decode()
        assert mark in first


HOSTILE_CSS = """
/* An author stylesheet that tries every way to hide the review mark. */
@page {
  margin: 0 !important;
  @bottom-left { content: none !important; display: none !important;
                 visibility: hidden !important; color: white !important;
                 font-size: 0 !important; opacity: 0 !important; width: 0 !important; }
}
@page :first { @bottom-left { content: "" !important; } }
html { color: white !important; font-size: 0.1pt !important; visibility: hidden !important; }
"""


def test_hostile_stylesheet_cannot_hide_the_mark(broken_project, publication, embargo):
    with (broken_project / "styles" / "print.css").open("a", encoding="utf-8") as css:
        css.write(HOSTILE_CSS)
    dist = broken_project / "dist"
    code, _, err = run_cli("--project", str(broken_project), "build", "--now",
                           shifted(embargo, -60), "--dist", str(dist),
                           str(broken_project / "content/gocindex-2025/profiles/kyrgyzstan"))
    assert code == 0, err
    mark = squeeze(f"EMBARGOED - NOT FOR DISTRIBUTION UNTIL {embargo}")
    pages = pdf_pages_text(dist / output_name(publication, ".pdf", draft=True))
    for number, page in enumerate(pages, start=1):
        assert mark in squeeze(page), f"page {number}"


def test_sha256sums_and_manifest(dist, publication, embargo):
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    import json
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["tool"] == "publish" and manifest["version"]
    assert "source_commit" in manifest
    files = {entry["path"]: entry for entry in manifest["files"]}
    for suffix in (".pdf", ".epub"):
        entry = files[output_name(publication, suffix, draft=False)]
        data = (dist / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["embargo"] == embargo and entry["draft"] is False


def _release_in_subprocess(dist: Path, now: str, **environment) -> subprocess.Popen:
    """A release of the Kyrgyzstan profile in its own process, with its own empty cache."""
    env = {**os.environ, **environment}
    cache = dist.parent / f"cache-{dist.name}"
    return subprocess.Popen([sys.executable, "-m", "publish", "--project", str(PROJECT),
                             "release", "--allow-dirty", KYRGYZSTAN, "--now", now, "--dist", str(dist),
                             "--cache", str(cache)],
                            cwd=PROJECT,  # so that `-m publish` runs the code under test
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_builds_in_other_time_zones_and_locales_are_byte_identical(tmp_path, embargo):
    first = _release_in_subprocess(tmp_path / "a", embargo, TZ="Pacific/Kiritimati",
                                   LC_ALL="C.UTF-8", LANG="C.UTF-8")
    assert first.wait(timeout=600) == 0, first.stderr.read().decode()
    second = _release_in_subprocess(tmp_path / "b", shifted(embargo, 3600),
                                    TZ="America/Los_Angeles", LC_ALL="POSIX", LANG="fr_FR.UTF-8")
    assert second.wait(timeout=600) == 0, second.stderr.read().decode()
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    a.pop("manifest.json"), b.pop("manifest.json")  # holds nothing from the clock, but the
    assert a == b                                    # commit may differ between runs: compare
    manifests = [(tmp_path / x / "manifest.json").read_text() for x in "ab"]
    assert manifests[0] == manifests[1]


def test_a_build_killed_mid_render_leaves_dist_unchanged(occupied_dist, embargo):
    before = snapshot(occupied_dist)
    temporary = occupied_dist.parent / "tmp"
    temporary.mkdir()
    process = _release_in_subprocess(occupied_dist, embargo, TMPDIR=str(temporary))
    renderer = wait_for_descendants(process, depth=1)  # one publication: rendered by a child
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert survivors_after(renderer) == []  # the renderer does not render on for nobody
    assert snapshot(occupied_dist) == before
    # Nothing of the run is left to remove its child's scratch folder (core/limits.py): it is
    # left in the temporary folder the run was given, here the test's, never the machine's.
    assert all(path.name.startswith("publish-render-") for path in temporary.iterdir())
    # The next run clears whatever the killed one left behind; dist/ then holds exactly its
    # outputs, and no longer the earlier one.
    code, _, err = run_cli("--project", str(PROJECT), "release", "--allow-dirty", KYRGYZSTAN,
                           "--now", embargo, "--dist", str(occupied_dist),
                           "--cache", str(occupied_dist.parent / "cache-again"))
    assert code == 0, err
    assert not list(occupied_dist.parent.glob(".dist.staging-*"))
    assert sorted(snapshot(occupied_dist)) == [
        "SHA256SUMS", "accessibility.html", "accessibility.json", "catalog.xml",
        "gocindex-2025/kyrgyzstan-cover.png", "gocindex-2025/kyrgyzstan-press.pdf",
        "gocindex-2025/kyrgyzstan-thumbnail.png", "gocindex-2025/kyrgyzstan.epub",
        "gocindex-2025/kyrgyzstan.pdf", "index.html", "manifest.json", "opds.json"]


def test_only_the_clock_module_reads_the_clock():
    readers = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|time\.time\(|"
                         r"localtime\(|gmtime\(")
    offenders = [path.name for path in (PROJECT / "publish").rglob("*.py")
                 if path.name != "clock.py" and readers.search(path.read_text())]
    assert offenders == []
