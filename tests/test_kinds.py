"""Kinds of publication: found by the `kind:` of a configuration, built in or installed from
elsewhere through the entry point group publish.kinds, and built by the core alike."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT, copy_index_project, run_cli
from readback import pdf_pages_text, pdffonts, squeeze

from publish.core.verify import verify_epub

OUTSIDE = Path(__file__).parent / "outside"  # memokind: a package, not part of publish
NOW = "2026-06-01T00:00:00Z"


def memo_project(root: Path, config: str) -> Path:
    (root / "content/note").mkdir(parents=True)
    (root / "content/note/memo.yaml").write_text(config)
    shutil.copytree(PROJECT / "fonts", root / "fonts")
    return root


MEMO = "kind: memo\ntitle: A memo from outside\ntext: Built by a kind publish has never seen.\n"


@pytest.fixture
def installed(monkeypatch):
    """memokind on the path, as if installed: its dist-info declares the entry point."""
    monkeypatch.syspath_prepend(str(OUTSIDE))


def test_a_kind_from_outside_publish_builds_a_pdf_and_an_epub(installed, tmp_path):
    root = memo_project(tmp_path / "project", MEMO)
    code, out, err = run_cli("--project", str(root), "build", "--now", NOW, "--check")
    assert code == 0, err
    pdf = root / "dist/note/memo-draft.pdf"
    assert squeeze("A memo from outside Built by a kind publish has never seen.") in squeeze(
        "".join(pdf_pages_text(pdf)))
    epub = (root / "dist/note/memo-draft.epub").read_bytes()
    assert verify_epub(epub) == []
    assert b"Built by a kind publish has never seen." in zipfile.ZipFile(
        root / "dist/note/memo-draft.epub").read("EPUB/memo.xhtml")
    # Its own stylesheet, from its own folder, took its font from the project's fonts/.
    assert any("+Memo-Sans" in font["name"] for font in pdffonts(pdf))


def test_a_kind_from_outside_gets_the_same_guarantees(installed, tmp_path):
    """Its embargo holds a release back; its configuration's mistakes are coded problems."""
    embargoed = memo_project(tmp_path / "embargoed", MEMO + 'embargo: "2030-01-01T00:00:00Z"\n')
    code, _, err = run_cli("--project", str(embargoed), "release", "--now", NOW,
                           "--allow-dirty")
    assert code != 0 and "memo-note" in err and "2030-01-01T00:00:00Z" in err
    assert not (embargoed / "dist").exists()
    broken = memo_project(tmp_path / "broken", "kind: memo\ntitle: No text\n")
    code, _, err = run_cli("--project", str(broken), "check")
    assert code == 1 and "content/note/memo.yaml" in err and " L005 " in err


def test_an_unknown_kind_is_named_with_the_known_ones(tmp_path):
    root = memo_project(tmp_path / "project", "title: x\n\nkind: memo\n")
    code, _, err = run_cli("--project", str(root), "check")
    assert code == 1
    assert err.startswith("content/note/memo.yaml:3: L014 unknown kind: no kind named 'memo'")
    assert "book" in err and "ocindex" in err


def test_a_kind_that_fails_to_load_is_a_problem_not_a_traceback(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "brokenkind").mkdir(parents=True)
    (site / "brokenkind/__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    (site / "brokenkind-0.1.dist-info").mkdir()
    (site / "brokenkind-0.1.dist-info/METADATA").write_text("Name: brokenkind\nVersion: 0.1\n")
    (site / "brokenkind-0.1.dist-info/entry_points.txt").write_text(
        "[publish.kinds]\nmemo = brokenkind:MemoKind\n")
    monkeypatch.syspath_prepend(str(site))
    root = memo_project(tmp_path / "project", MEMO)
    code, _, err = run_cli("--project", str(root), "check")
    assert code == 1 and " L015 " in err and "broken on purpose" in err
    assert "Traceback" not in err


def test_a_configuration_that_forgot_its_kind_is_not_skipped(tmp_path):
    root = copy_index_project(tmp_path / "project")
    edition = root / "content/gocindex-2025/edition.yaml"
    edition.write_text(edition.read_text().replace("\nkind: ocindex\n", "\n"))
    code, _, err = run_cli("--project", str(root), "check")
    assert code == 1 and err.startswith("content/gocindex-2025: L005 ") and "kind:" in err


@pytest.mark.parametrize("command", [
    ["check"], ["build", "content/gocindex-2025/profiles/kyrgyzstan"]])
def test_a_configuration_that_cannot_be_read_is_said_once(tmp_path, command):
    """Its YAML's error is the cause; before, it was followed by two that it caused: that no
    file of the folder names a kind (L005), and that the path is in no configured folder."""
    root = copy_index_project(tmp_path / "project")
    edition = root / "content/gocindex-2025/edition.yaml"
    edition.write_text("\t" + edition.read_text())
    dist = ["--dist", str(tmp_path / "dist")] if command[0] == "build" else []
    code, _, err = run_cli("--project", str(root), *command, *dist)
    assert code == 1 and err.startswith("content/gocindex-2025/edition.yaml:1:1: L002 ")
    assert err.count(" L0") == 1 and "1 problem found." in err
    assert not (tmp_path / "dist").exists()
