"""Fixtures: the real project, built once per test session, and copies of it to break."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from publish import cli
from publish.build import load_and_validate

PROJECT = Path(__file__).resolve().parent.parent
KYRGYZSTAN = str(PROJECT / "content/gocindex-2025/profiles/kyrgyzstan")


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run the command line in-process, as a user would, and capture what it says."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def loaded():
    """The project's content, loaded and validated: what every output must contain."""
    entries, problems = load_and_validate(PROJECT)
    assert not problems, problems
    return entries


@pytest.fixture(scope="session")
def publication(loaded):
    """The Kyrgyzstan profile: the one publication with a full narrative."""
    (entry,) = loaded
    (publication,) = [p for p in entry.publications() if p.profile and p.profile.narrative]
    return publication


@pytest.fixture(scope="session")
def embargo(publication) -> str:
    """The embargo instant of the publication, as its content writes it."""
    return publication.embargo.text


@pytest.fixture(scope="session")
def dist(tmp_path_factory, embargo) -> Path:
    """The public files of the real project, released once through the command line at the
    instant its embargo lifts."""
    out = tmp_path_factory.mktemp("dist")
    code, stdout, stderr = run_cli("--project", str(PROJECT), "release", KYRGYZSTAN,
                                   "--now", embargo, "--dist", str(out),
                                   "--cache", str(tmp_path_factory.mktemp("cache")))
    assert code == 0, stderr
    return out


@pytest.fixture(scope="session")
def pdf_path(dist, publication) -> Path:
    from publish.build import output_name
    path = dist / output_name(publication, ".pdf", draft=False)
    assert path.is_file()
    return path


@pytest.fixture
def broken_project(tmp_path) -> Path:
    """A copy of the known-good project to vary: content only, plus styles and fonts."""
    for folder in ("content", "styles", "fonts"):
        shutil.copytree(PROJECT / folder, tmp_path / folder)
    return tmp_path
