"""A narrative in progress: a review copy shows what is written, with a visible placeholder
for each section and indicator not yet written, and says so as warnings; a release refuses
it until it is complete."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EDITION, make_small_edition, run_cli
from readback import pdf_pages_text, squeeze

NOW = "2026-01-01T00:00:00Z"   # after the edition's embargo
NARRATIVE = EDITION / "profiles/kyrgyzstan/narrative.md"


def unwrite(narrative: Path, *headings: str) -> None:
    """Remove each heading (## section or ### indicator) with its text, up to the next
    heading of its level or above."""
    text = narrative.read_text(encoding="utf-8")
    for heading in headings:
        level = heading.split(" ")[0]
        pattern = rf"^{re.escape(heading)}\n.*?(?=^#{{1,{len(level)}}} |\Z)"
        text, count = re.subn(pattern, "", text, count=1, flags=re.M | re.S)
        assert count == 1, heading
    narrative.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def in_progress(tmp_path_factory) -> Path:
    root = make_small_edition(tmp_path_factory.mktemp("wip"))
    unwrite(root / NARRATIVE, "### Human smuggling", "## Criminal actors")
    return root


@pytest.fixture(scope="module")
def review_copy(in_progress, tmp_path_factory):
    dist = tmp_path_factory.mktemp("wip-dist") / "dist"
    code, out, err = run_cli("--project", str(in_progress), "build", "--dist", str(dist),
                             str(in_progress / NARRATIVE.parent))
    return code, err, dist / "gocindex-2025/kyrgyzstan-draft.pdf"


def test_a_narrative_in_progress_builds_as_a_review_copy_with_warnings(review_copy):
    code, err, pdf = review_copy
    assert code == 0, err
    assert "a review copy of work in progress" in err
    assert re.search(r"narrative\.md: V001 .*no '## Criminal actors' section", err)
    assert re.search(r"narrative\.md:\d+: V007 .*nothing is written on 'Human smuggling'", err)
    assert pdf.is_file()


def test_each_part_not_yet_written_has_its_placeholder_in_the_pages(review_copy):
    _, _, pdf = review_copy
    text = squeeze(" ".join(pdf_pages_text(pdf)))
    assert squeeze("Not yet written: Human smuggling.") in text
    assert squeeze("Not yet written: Mafia-style groups, Criminal networks, State-embedded "
                   "actors, Foreign actors, Private sector actors.") in text
    # Each in its place: the indicator's under its section, before the next section's
    # heading (the last "CRIMINAL ACTORS": the first is the dashboard's chart).
    assert text.index(squeeze("Not yet written: Human smuggling.")) \
        < text.rindex(squeeze("CRIMINAL ACTORS")) \
        < text.index(squeeze("Not yet written: Mafia-style groups"))


def test_check_warns_of_what_is_not_written_and_passes(in_progress):
    code, out, err = run_cli("--project", str(in_progress), "check")
    assert code == 0 and "No problems found." in out
    assert " V001 " in err and " V007 " in err


def test_a_release_refuses_a_narrative_in_progress(in_progress, tmp_path):
    dist = tmp_path / "dist"
    code, out, err = run_cli("--project", str(in_progress), "release", "--now", NOW,
                             "--dist", str(dist), str(in_progress / NARRATIVE.parent))
    assert code == 1
    assert " V001 " in err and " V007 " in err
    assert not dist.exists()
