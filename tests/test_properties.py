"""Property tests: whatever an author writes, `publish check` answers with coded problems or
none, and never with a traceback."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import PROJECT, copy_index_project, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publish.build import check
from publish.core.problems import CODES

PROFILE = Path("content/gocindex-2025/profiles/kyrgyzstan")
EDITION = Path("content/gocindex-2025")
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    copy_index_project(root)
    return root


def checked_with(project: Path, relative: Path, data: bytes):
    """`publish check` with one file replaced; the file is restored afterwards."""
    path = project / relative
    original = path.read_bytes()
    try:
        path.write_bytes(data)
        problems = check(project)
    finally:
        path.write_bytes(original)
    for problem in problems:
        assert problem.code in CODES
        assert problem.file is not None, problem
    return problems


YAML_PIECES = st.sampled_from([
    "country: ", "KG", "XX", "facts:", "  capital: ", "  population: ", "7224614", "-1",
    "funding_note: ", "embargo: ", '"2025-11-25T09:00:00+01:00"', "2025-11-25", "&a ", "*a",
    "<<: ", "[", "]", "{", "}", ", ", "- ", "? ", ": ", "'", '"', "\t", "\n", "  ",
    "!!python/object:os.system",
    "null", "~", "true", "1e400", ".nan", "#", "---", "...", "%YAML 1.1", "\u00e9", "\x00",
])
MARKDOWN_PIECES = st.sampled_from([
    "## ", "### ", "People", "Trade", "Drugs", "Human trafficking", "Heroin trade; Cocaine trade",
    "Financial crimes", "Nope", "\n", "\n\n", "Some words.", "*", "**", "_", "[a](", "](",
    "![b](", ")", "http://127.0.0.1/x", "file:///etc/passwd", "#top", "../../x.png", "<b>",
    "</b>", "<!--", "-->", "> ", "- ", "1. ", "```", "    code", "---", "|a|b|", "&amp;",
    "\\", "`", "\t", "\u2028", "\ufeff",
])


@SETTINGS
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_any_profile_yaml_gives_coded_problems(project, text):
    checked_with(project, PROFILE / "profile.yaml", text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.lists(MARKDOWN_PIECES, max_size=60).map("".join))
def test_any_narrative_gives_coded_problems(project, text):
    checked_with(project, PROFILE / "narrative.md", text.encode())


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_a_narrative_give_coded_problems(project, data):
    checked_with(project, PROFILE / "narrative.md", data)


@SETTINGS
@given(st.lists(YAML_PIECES | st.sampled_from(["title: ", "year: ", "2025", "dataset: ",
                                               "data/ocindex_2025.csv", "previous:",
                                               "score_bands:", "  - {from: 1, label: Low}"]),
                max_size=40).map("".join))
def test_any_edition_yaml_gives_coded_problems(project, text):
    problems = checked_with(project, EDITION / "edition.yaml", text.encode())
    assert problems  # an edition needs its keys: this text can never be complete


@SETTINGS
@given(st.lists(st.sampled_from(["KG", ",", "Kyrgyzstan", "Asia", "1", "10.5", "4.25", "x",
                                 "", "\n", '"', "nan", "-3", "1e3"]), max_size=80).map("".join))
def test_any_dataset_row_gives_coded_problems(project, row):
    path = project / EDITION / "data/ocindex_2025.csv"
    checked_with(project, EDITION / "data/ocindex_2025.csv",
                 path.read_bytes() + row.encode() + b"\n")


def test_the_command_line_never_shows_a_traceback(project):
    (project / PROFILE / "profile.yaml").write_text("country: [", encoding="utf-8")
    try:
        status, out, err = run_cli("--project", str(project), "check")
    finally:
        shutil.copy(PROJECT / PROFILE / "profile.yaml", project / PROFILE / "profile.yaml")
    assert status == 1 and "Traceback" not in err and " L002 " in err
