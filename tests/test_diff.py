"""publish diff: two real builds of the small edition compared, as a reviewer would.

Each state of the content is built once for the module (with one cache, so that a build
renders only what its edit touched): the edition as committed to git, the same with one
sentence added to the Kyrgyzstan narrative, and the same with one score of Kazakhstan raised.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EDITION, make_small_edition, run_cli
from PIL import Image

from publish.core.compare import compare, read_side

NARRATIVE = EDITION / "profiles/kyrgyzstan/narrative.md"
DATA = EDITION / "data/ocindex_2025.csv"
SENTENCE = "Authorities dismantled a child\ntrafficking ring in 2024"
INSERTED = ", and a second one in the south the same year"


def _git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=Reviewer",
                    "-c", "user.email=reviewer@example.org", *arguments],
                   check=True, capture_output=True)


def _build(project: Path, dist: Path, cache: Path) -> Path:
    code, _, err = run_cli("--project", str(project), "build", "-q", "--dist", str(dist),
                           "--cache", str(cache))
    assert code == 0, err
    return dist


def _variant(base: Path, folder: Path, edit) -> Path:
    """A copy of the committed project's content, edited."""
    shutil.copytree(base, folder, ignore=shutil.ignore_patterns(".git", ".publish-cache"))
    edit(folder)
    return folder


def _add_sentence(root: Path) -> None:
    path = root / NARRATIVE
    text = path.read_text(encoding="utf-8")
    assert text.count(SENTENCE) == 1
    path.write_text(text.replace(SENTENCE, SENTENCE + INSERTED), encoding="utf-8")


def _raise_score(root: Path) -> None:
    """Kazakhstan's human trafficking, 6.00 in 2025, becomes 8.00."""
    path = root / DATA
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    column = header.split(",").index("Human trafficking")
    for index, row in enumerate(rows):
        cells = row.split(",")
        if cells[0] == "KZ":
            assert cells[column] == "6.00"
            cells[column] = "8.00"
            rows[index] = ",".join(cells)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The small edition committed to a git repository, and the dist/ of each state."""
    root = tmp_path_factory.mktemp("diff")
    base = make_small_edition(root / "base")
    _git(base, "init", "-q")
    _git(base, "add", ".")
    _git(base, "commit", "-q", "-m", "The small edition")
    cache = base / ".publish-cache"   # the cache a revision's build uses too
    return {
        "project": base,
        "base": _build(base, root / "base-dist", cache),
        "sentence": _build(_variant(base, root / "sentence", _add_sentence),
                           root / "sentence-dist", cache),
        "score": _build(_variant(base, root / "score", _raise_score), root / "score-dist", cache),
    }


def test_identical_builds_report_nothing(builds, tmp_path):
    code, out, err = run_cli("diff", str(builds["base"]), str(builds["base"]),
                             "--report", str(tmp_path / "report"))
    assert (code, err) == (0, "")
    assert out.splitlines()[2:] == ["0 changed, 0 added, 0 removed, 5 unchanged.",
                                    f"Report: {tmp_path / 'report' / 'index.html'}"]
    html = (tmp_path / "report/index.html").read_text(encoding="utf-8")
    assert "Every publication is the same, byte for byte." in html
    assert not (tmp_path / "report/pages").exists()


@pytest.fixture(scope="module")
def sentence_report(builds, tmp_path_factory) -> tuple[int, str, str, Path]:
    """publish diff of the edition before and after the sentence was added, with a report."""
    report = tmp_path_factory.mktemp("sentence-report")
    code, out, err = run_cli("diff", str(builds["base"]), str(builds["sentence"]),
                             "--report", str(report))
    return code, out, err, report


def test_a_sentence_added_is_one_changed_publication_and_its_words(builds, sentence_report,
                                                                    tmp_path):
    code, out, err, report = sentence_report
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"Before: {builds['base']}", f"After:  {builds['sentence']}",
        "  changed  gocindex-2025-kyrgyzstan: 1 text change, page 2",
        "1 changed, 0 added, 0 removed, 4 unchanged.", f"Report: {report / 'index.html'}"]
    comparison = compare(read_side(builds["base"], "before"),
                         read_side(builds["sentence"], "after"), tmp_path)
    (changed,) = comparison.having("changed")
    (words,) = changed.words
    assert words.removed == ()
    assert " ".join(words.added) == "and a second one in the south the same year,"
    assert words.before[-3:] == ("ring", "in", "2024,")
    assert words.after[:3] == ("but", "gaps", "in")
    assert changed.figures == []
    # A sentence changes the PDF and the EPUB, not the cover drawn from the title.
    assert changed.kinds == {"epub": "changed", "pdf": "changed", "cover": "same",
                             "thumbnail": "same"}


def test_the_report_shows_words_pages_and_differences(sentence_report):
    report = sentence_report[3]
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "<ins>and a second one in the south the same year,</ins>" in html
    pages = sorted(path.relative_to(report).as_posix() for path in (report / "pages").rglob("*"))
    assert pages == ["pages/gocindex-2025-kyrgyzstan",
                     "pages/gocindex-2025-kyrgyzstan/page-2-after.png",
                     "pages/gocindex-2025-kyrgyzstan/page-2-before.png",
                     "pages/gocindex-2025-kyrgyzstan/page-2-difference.png"]
    for name in pages[1:]:
        assert f'src="{name}"' in html
    before, after, difference = (Image.open(report / name) for name in sorted(pages[1:]))
    assert before.size == after.size == difference.size == (621, 877)  # A4 at 75 dpi


def test_a_score_edited_shows_its_figures_and_pages(builds, tmp_path):
    code, out, err = run_cli("diff", str(builds["base"]), str(builds["score"]))
    assert (code, err) == (1, "")
    assert out.splitlines()[2:4] == [
        "  changed  gocindex-2025-kazakhstan: 10 figures, pages 1, 2",
        "1 changed, 0 added, 0 removed, 4 unchanged."]
    comparison = compare(read_side(builds["base"], "before"),
                         read_side(builds["score"], "after"), tmp_path / "pages")
    (changed,) = comparison.having("changed")
    assert changed.words == []
    figures = [(f.page, " ".join(f.before[-2:]), f.old, f.new, f.delta) for f in changed.figures]
    assert figures == [
        (1, "Caucasus CRIMINALITY", "4.45", "4.52", "+0.07"),       # the criminality score
        (1, "RESILIENCE 4.67", "-0.02", "+0.05", "+0.07"),          # its change since 2023
        (1, "2 3", "4.50", "4.63", "+0.13"),                        # criminal markets
        (1, "3 4.63", "+0.17", "+0.30", "+0.13"),
        (1, "Human trafficking", "6.00", "8.00", "+2.00"),          # the score edited
        (1, "trafficking 8.00", "0.00", "+2.00", "+2.00"),
        (1, "PEOPLE average", "4.50", "5.17", "+0.67"),             # its group's average
        (1, "average 5.17", "-0.17", "+0.50", "+0.67"),
        (2, "Human trafficking", "6.00", "8.00", "+2.00"),          # the indicators' page
        (2, "trafficking 8.00", "0.00", "+2.00", "+2.00")]
    assert [page.page for page in changed.pages] == [1, 2]
    assert changed.pages_compared == (3, 3)


def test_a_git_revision_is_built_and_compared(builds, tmp_path):
    project = builds["project"]
    _add_sentence(project)   # uncommitted: HEAD is still the edition as built in "base"
    try:
        code, out, err = run_cli("--project", str(project), "diff", "HEAD",
                                 str(builds["sentence"]))
        same, same_out, same_err = run_cli("--project", str(project), "diff", "HEAD",
                                           str(builds["base"]))
    finally:
        _git(project, "checkout", "--", ".")
    head = subprocess.run(["git", "-C", str(project), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert (code, err) == (1, f"publish: building HEAD ({head[:12]}) in a scratch folder\n")
    assert out.splitlines() == [
        f"Before: HEAD ({head[:12]})", f"After:  {builds['sentence']}",
        "  changed  gocindex-2025-kyrgyzstan: 1 text change, page 2",
        "1 changed, 0 added, 0 removed, 4 unchanged."]
    assert (same, same_out.splitlines()[-1]) == (0, "0 changed, 0 added, 0 removed, 5 unchanged.")
    assert not (project / "dist").exists()   # the project's dist/ is never touched


def test_drafts_meet_their_released_files_by_publication(builds, tmp_path):
    """A file renamed (kyrgyzstan-draft.pdf to kyrgyzstan.pdf) is the same publication."""
    renamed = tmp_path / "dist"
    shutil.copytree(builds["base"], renamed)
    manifest = json.loads((renamed / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        old = entry["path"]
        entry["path"] = old.replace("-draft", "")
        (renamed / old).rename(renamed / entry["path"])
    (renamed / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, _ = run_cli("diff", str(builds["base"]), str(renamed))
    assert (code, out.splitlines()[-1]) == (0, "0 changed, 0 added, 0 removed, 5 unchanged.")


def test_a_publication_only_one_side_has_is_added_or_removed(builds, tmp_path):
    fewer = tmp_path / "dist"
    shutil.copytree(builds["base"], fewer)
    manifest = json.loads((fewer / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = [entry for entry in manifest["files"]
                         if entry["publication"] != "gocindex-2025-kazakhstan"]
    (fewer / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, _ = run_cli("diff", str(fewer), str(builds["base"]))
    assert (code, out.splitlines()[2:]) == (1, [
        "  added    gocindex-2025-kazakhstan",
        "0 changed, 1 added, 0 removed, 4 unchanged."])
    code, out, _ = run_cli("diff", str(builds["base"]), str(fewer))
    assert (code, out.splitlines()[2]) == (1, "  removed  gocindex-2025-kazakhstan")


def test_a_folder_that_is_not_a_dist_is_a_usage_error(builds, tmp_path):
    code, out, err = run_cli("diff", str(tmp_path), str(builds["base"]))
    assert (code, out) == (2, "")
    assert err == (f"{tmp_path}: D005 not a dist/ folder of publish's: it holds no "
                   "manifest.json\n    hint: name a folder that 'publish build' or 'publish "
                   "release' made (it holds manifest.json and the files it lists), or a git "
                   "revision of the project\n")


def test_an_unknown_revision_is_a_usage_error(builds):
    project = builds["project"]
    code, out, err = run_cli("--project", str(project), "diff", "no-such-branch",
                             str(builds["base"]))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"D006 not a git revision of the project: 'no-such-branch' names no commit of the "
        f"repository at {project}",
        "    hint: name a commit, branch or tag that 'git rev-parse' knows in the project's "
        "repository (fetch it first in a shallow clone), or a dist/ folder"]
