"""Publications by name: `publish list` shows each one (name, kind, embargo, state, what
dist/ holds), and every command takes its name instead of a path, a factsheet's too."""
from __future__ import annotations

import json

import pytest
from conftest import PROJECT, make_small_edition, run_cli

from publish.build import select

BEFORE, AFTER = "2025-11-25T07:59:59Z", "2025-11-25T08:00:00Z"   # the embargo: 09:00 +01:00


def listed(*argv: str) -> list[dict]:
    code, out, err = run_cli("--project", str(PROJECT), "list", "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def test_every_publication_is_listed_once_with_a_name_of_its_own():
    entries = listed()
    assert [e["slug"] for e in entries] == sorted(p.slug for p in select(PROJECT).publications())
    assert len({e["name"] for e in entries}) == len(entries) == 194
    by_name = {e["name"]: e for e in entries}
    assert (by_name["kyrgyzstan"]["kind"], by_name["kyrgyzstan"]["variant"]) \
        == ("ocindex", "profile")
    assert by_name["kazakhstan"]["variant"] == "factsheet"
    assert by_name["manual"]["kind"] == "book" and by_name["manual"]["embargo"] is None
    assert {e["state"] for e in entries} == {"sound"}


def test_the_embargo_lifts_at_its_instant():
    assert listed("kyrgyzstan", "--now", BEFORE)[0]["embargo_lifted"] is False
    assert listed("kyrgyzstan", "--now", AFTER)[0]["embargo_lifted"] is True


def test_what_dist_holds_is_listed(dist):
    (entry,) = listed("kyrgyzstan", "--dist", str(dist))
    assert entry["dist"] == "released"
    assert listed("kazakhstan", "--dist", str(dist))[0]["dist"] == "not built"


def test_the_table_reads_by_name():
    code, out, _ = run_cli("--project", str(PROJECT), "list", "kyrgyzstan", "manual",
                           "--now", AFTER)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:5] == ["NAME", "KIND", "EMBARGO", "STATE", "IN"]
    assert lines[1].split()[:5] == ["kyrgyzstan", "ocindex", "profile", "lifted", "sound"]
    assert lines[2].split()[:4] == ["manual", "book", "none", "sound"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return make_small_edition(tmp_path_factory.mktemp("names"))


@pytest.mark.parametrize("name", ["kazakhstan", "gocindex-2025-kazakhstan"])
def test_a_factsheet_builds_by_its_name(small, tmp_path, name):
    dist = tmp_path / "dist"
    code, out, err = run_cli("--project", str(small), "build", name, "--dist", str(dist))
    assert code == 0, err
    assert sorted(p.name for p in (dist / "gocindex-2025").iterdir()) == [
        "kazakhstan-draft-cover.png", "kazakhstan-draft-thumbnail.png", "kazakhstan-draft.epub",
        "kazakhstan-draft.pdf"]


def test_names_and_paths_together_build_each_once(small, tmp_path):
    dist = tmp_path / "dist"
    profile = str(small / "content/gocindex-2025/profiles/kyrgyzstan")
    code, out, err = run_cli("--project", str(small), "build", "kyrgyzstan", profile,
                             "kazakhstan", "--dist", str(dist))
    assert code == 0, err
    assert out.rstrip().splitlines()[-1].startswith("2 publications: ")
    assert sorted(p.name for p in (dist / "gocindex-2025").iterdir() if p.suffix != ".png") == [
        "kazakhstan-draft.epub", "kazakhstan-draft.pdf", "kyrgyzstan-draft.epub",
        "kyrgyzstan-draft.pdf"]


def test_an_unknown_name_is_a_problem_with_a_hint(small, tmp_path):
    code, _, err = run_cli("--project", str(small), "build", "atlantis",
                           "--dist", str(tmp_path / "dist"))
    assert code == 1
    assert "L001" in err and "no file, folder or publication named 'atlantis'" in err
    assert "publish list" in err
    assert not (tmp_path / "dist").exists()


def test_a_folder_of_content_by_its_name_is_the_folder(small):
    code, out, err = run_cli("--project", str(small), "list", "--json", "gocindex-2025")
    assert code == 0, err
    assert len(json.loads(out)) == 5
