"""The whole edition: factsheets, parallel builds, the cache, shards and their merge.

A small edition (five countries, one with a narrative) stands in for the 193: the same
code paths, in seconds rather than minutes.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, make_small_edition, run_cli
from readback import pdf_pages_text, pdffonts, squeeze

from publish.build import cache_keys, select
from publish.core import cache as cache_module
from publish.core.cache import folder_digest, tool_digest

EDITION = Path("content/gocindex-2025")
NOW = "2026-01-01T00:00:00Z"


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return make_small_edition(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def serial(small, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("serial") / "dist"
    code, out, err = run_cli("--project", str(small), "build", "--now", NOW, "--jobs", "1",
                             "--dist", str(dist), "--cache", str(dist.parent / "cache"))
    assert code == 0, err
    assert "5 publications: 5 built" in out
    return dist


def test_parallel_build_gives_the_serial_bytes(small, serial, tmp_path):
    dist = tmp_path / "dist"
    code, out, err = run_cli("--project", str(small), "build", "--now", NOW, "--jobs", "2",
                             "--dist", str(dist), "--cache", str(tmp_path / "cache"))
    assert code == 0, err
    assert snapshot(dist) == snapshot(serial)
    assert "[5/5]" in err  # progress, as plain lines when not on a terminal


def test_a_publication_rendered_after_others_is_the_one_rendered_alone(small, serial, tmp_path):
    """A build renders publication after publication in one kept child, on fonts and review
    marks laid out once (core/limits.py Kept, core/pdf.py SharedFonts); a one-off build, in
    a process of its own, renders on fresh ones."""
    dist = tmp_path / "dist"
    result = subprocess.run([sys.executable, "-m", "publish", "--project", str(small), "build",
                             str(EDITION / "profiles/kyrgyzstan"), "--now", NOW, "--dist",
                             str(dist), "--cache", str(tmp_path / "cache"), "-q"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("kyrgyzstan-draft.pdf", "kyrgyzstan-draft.epub"):
        assert (dist / "gocindex-2025" / name).read_bytes() == \
            (serial / "gocindex-2025" / name).read_bytes(), name


def test_every_country_of_the_dataset_gets_a_publication(serial):
    manifest = json.loads((serial / "manifest.json").read_text())
    slugs = {entry["publication"] for entry in manifest["files"]}
    assert slugs == {"gocindex-2025-kyrgyzstan", "gocindex-2025-sao-tome-and-principe",
                     "gocindex-2025-cote-d-ivoire", "gocindex-2025-saint-vincent-and-the-grenadines",
                     "gocindex-2025-kazakhstan"}
    assert sorted(entry["kind"] for entry in manifest["files"]) == sorted(
        ["pdf", "epub", "cover", "thumbnail"] * 5)


def test_a_factsheet_gives_every_indicator_with_score_change_and_definition(small, serial):
    (entry,) = select(small).sources
    (publication,) = [p for p in entry.publications() if p.country.iso2 == "ST"]
    assert publication.profile is None
    from publish.kinds.ocindex.figures import Standings
    figures = Standings(entry.edition).figures("ST")
    pages = pdf_pages_text(serial / "gocindex-2025/sao-tome-and-principe-draft.pdf")
    assert 2 <= len(pages) <= 4
    assert "São Tomé and Príncipe" in pages[0] or "SÃO TOMÉ AND PRÍNCIPE" in pages[0]
    body = squeeze("".join(pages[1:]))
    for indicator in entry.edition.outline.indicators:
        figure = figures.indicators[indicator.key]
        assert squeeze(f"{indicator.title} {figure.score_text} {figure.change_text}") in body
        assert squeeze(indicator.definition) in body
    for font in pdffonts(serial / "gocindex-2025/sao-tome-and-principe-draft.pdf"):
        assert font["emb"] == "yes" and "+Publish-" in font["name"]  # from fonts/ only


def test_a_narrative_turns_a_factsheet_into_a_profile(small, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(small, project)
    narrative = (PROJECT / EDITION / "profiles/kyrgyzstan/narrative.md").read_text()
    folder = project / EDITION / "profiles/kazakhstan"
    folder.mkdir()
    (folder / "narrative.md").write_text(narrative.replace("Kyrgyzstan", "Kazakhstan"))
    (entry,) = select(project).sources
    (publication,) = [p for p in entry.publications() if p.country.iso2 == "KZ"]
    assert publication.profile is not None and publication.profile.narrative is not None


def test_one_broken_publication_fails_alone(small, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(small, project)
    folder = project / EDITION / "profiles/kyrgyzstan"
    (folder / "map.png").write_bytes(b"not a PNG at all")
    narrative = folder / "narrative.md"
    narrative.write_text(narrative.read_text().replace(
        "### Human smuggling\n", "### Human smuggling\n\n![A map](map.png)\n", 1))
    dist = tmp_path / "dist"
    code, out, err = run_cli("--project", str(project), "build", "--now", NOW, "--jobs", "2",
                             "--dist", str(dist), "--cache", str(tmp_path / "cache"))
    assert code == 1
    assert "gocindex-2025-kyrgyzstan failed:" in err and " R001 " in err
    assert "4 built" in out and "1 failed" in out
    built = {p.name for p in (dist / "gocindex-2025").iterdir()}
    assert "kazakhstan-draft.pdf" in built and "kyrgyzstan-draft.pdf" not in built


def _keys(root: Path, **options) -> dict[str, str]:
    tool_digest.cache_clear()
    folder_digest.cache_clear()
    return cache_keys(root, now=NOW, **options)


@pytest.mark.parametrize("change, rebuilds", [
    ("profile", "one"), ("stylesheet", "all"), ("stylesheet override", "all"),
    ("template override", "all"), ("font", "all"), ("dataset", "all"),
    ("previous dataset", "all"), ("outline", "all"), ("edition", "all"), ("tool", "all"),
    ("options", "all"), ("nothing", "none"),
])
def test_cache_keys_change_with_what_outputs_depend_on(small, tmp_path, monkeypatch, change,
                                                        rebuilds):
    project = tmp_path / "project"
    shutil.copytree(small, project)
    before = _keys(project)
    options = {}
    edits = {
        "profile": EDITION / "profiles/kyrgyzstan/narrative.md",
        "stylesheet": Path("styles/fonts.css"),
        # A file the project did not have: it now overrides the kind's own.
        "stylesheet override": Path("styles/print.css"),
        "template override": Path("templates/print.html"),
        "font": Path("fonts/OpenSans-Regular.ttf"),
        "dataset": EDITION / "data/ocindex_2025.csv",
        "previous dataset": EDITION / "data/ocindex_2023.csv",
        "outline": EDITION / "outline.yaml",
        "edition": EDITION / "edition.yaml",
    }
    if change in edits:
        (project / edits[change]).parent.mkdir(exist_ok=True)
        with (project / edits[change]).open("ab") as stream:
            stream.write(b"\n" if change != "font" else b"\0")
    elif change == "tool":
        monkeypatch.setattr(cache_module, "__version__", "99.0")
    elif change == "options":
        options = {"strict": True}
    after = _keys(project, **options)
    tool_digest.cache_clear()
    folder_digest.cache_clear()
    changed = {slug for slug in before if before[slug] != after[slug]}
    expected = {"one": {"gocindex-2025-kyrgyzstan"}, "all": set(before), "none": set()}[rebuilds]
    assert changed == expected


def test_incremental_rebuilds_give_cold_bytes(small, serial, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(small, project)
    cache = serial.parent / "cache"
    dist = tmp_path / "dist"
    shutil.copytree(serial, dist)
    common = ("--project", str(project), "build", "--now", NOW, "--jobs", "2", "--dist",
              str(dist), "--cache", str(cache))
    code, out, _ = run_cli(*common)
    assert code == 0 and "5 unchanged" in out
    before = snapshot(dist)
    narrative = project / EDITION / "profiles/kyrgyzstan/narrative.md"
    narrative.write_text(narrative.read_text().replace("ala kachuu", "*ala kachuu*"))
    code, out, _ = run_cli(*common)
    assert code == 0 and "1 built" in out and "4 unchanged" in out
    changed = {path for path in snapshot(dist) if snapshot(dist)[path] != before.get(path)}
    assert {p for p in changed if p.endswith((".pdf", ".epub"))} == {
        "gocindex-2025/kyrgyzstan-draft.pdf", "gocindex-2025/kyrgyzstan-draft.epub"}
    # A cold build of the changed project gives the same bytes as the incremental one.
    cold = tmp_path / "cold"
    code, _, err = run_cli("--project", str(project), "build", "--now", NOW, "--jobs", "2",
                           "--dist", str(cold), "--cache", str(tmp_path / "cold-cache"))
    assert code == 0, err
    assert snapshot(cold) == snapshot(dist)


def test_shards_merge_into_the_whole(small, serial, tmp_path):
    cache = serial.parent / "cache"
    shards = []
    for k in (1, 2, 3):
        dist = tmp_path / f"shard-{k}"
        code, out, err = run_cli("--project", str(small), "build", "--now", NOW, "--shard",
                                 f"{k}/3", "--dist", str(dist), "--cache", str(cache))
        assert code == 0, err
        shards.append(dist)
    manifests = [json.loads((s / "manifest.json").read_text()) for s in shards]
    # Each shard's catalog lists its own publications; PDF, EPUB, cover and thumbnail each.
    sizes = [len(manifest["publications"]) for manifest in manifests]
    assert sum(sizes) == 5 and all(sizes)
    assert sum(len(manifest["files"]) for manifest in manifests) == 5 * 4
    merged = tmp_path / "merged"
    code, out, err = run_cli("merge", str(merged), *map(str, shards))
    assert code == 0, err
    # One catalog and one landing page for the whole edition: those a single run makes.
    assert snapshot(merged) == snapshot(serial)
    feed = json.loads((merged / "opds.json").read_text())
    assert json.dumps(feed).count('"application/epub+zip"') >= 5


@pytest.mark.parametrize("damage", ["removed", "altered"])
def test_a_dist_whose_landing_page_was_damaged_is_made_whole_again(small, serial, tmp_path,
                                                                   damage):
    """A run that changes nothing takes dist/'s catalog as it is, but only once its files
    are read back with the hashes its manifest lists."""
    dist = tmp_path / "dist"
    shutil.copytree(serial, dist)
    page = dist / "index.html"
    if damage == "removed":
        page.unlink()
    else:
        page.write_bytes(page.read_bytes().replace(b"Kazakhstan", b"Kazakstan"))
    code, out, err = run_cli("--project", str(small), "build", "--now", NOW, "--dist",
                             str(dist), "--cache", str(serial.parent / "cache"))
    assert code == 0, err
    assert snapshot(dist) == snapshot(serial)


def test_a_factsheet_epub_passes_epubcheck(serial, tmp_path):
    from readback import EPUBCHECK_SEVERITIES_THAT_FAIL, epubcheck
    messages = epubcheck(serial / "gocindex-2025/sao-tome-and-principe-draft.epub",
                         tmp_path / "report.json")
    assert [m for m in messages if m["severity"] in EPUBCHECK_SEVERITIES_THAT_FAIL] == []


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_damaged_shard_is_refused_with_a_code(serial, tmp_path, damage):
    shard = tmp_path / "shard"
    shutil.copytree(serial, shard)
    victim = shard / "gocindex-2025/kazakhstan-draft.pdf"
    if damage == "altered":
        victim.write_bytes(victim.read_bytes()[:-10] + b"tampered!\n")
    else:
        victim.unlink()
    code, _, err = run_cli("merge", str(tmp_path / "merged"), str(shard))
    assert code == 1 and " D004 " in err and "kazakhstan-draft.pdf" in err
    assert "Traceback" not in err and not (tmp_path / "merged").exists()


def test_a_run_that_changes_nothing_takes_the_catalog_as_it_is(small, serial, tmp_path,
                                                               monkeypatch):
    from publish.core import dist as dist_module

    def remade(manifest):
        raise AssertionError("the catalog was made again")

    dist = tmp_path / "dist"
    shutil.copytree(serial, dist)
    monkeypatch.setattr(dist_module, "catalog_files", remade)
    code, out, err = run_cli("--project", str(small), "build", "--now", NOW, "--dist",
                             str(dist), "--cache", str(serial.parent / "cache"))
    assert code == 0 and "5 unchanged" in out, err
    assert snapshot(dist) == snapshot(serial)
