"""Fixtures: the real project, built once per test session, and copies of it to break."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from publish import cli
from publish.build import select

PROJECT = Path(__file__).resolve().parent.parent
KYRGYZSTAN = str(PROJECT / "content/gocindex-2025/profiles/kyrgyzstan")
MANUAL = PROJECT / "content/manual"
COUNTRIES = ("KG", "ST", "CI", "VC", "KZ")   # with accents and long names
EDITION = Path("content/gocindex-2025")


def earlier_dist(dist: Path) -> Path:
    """A dist/ as an earlier run left it: one output, listed in its manifest and sums."""
    output = dist / "gocindex-2025" / "earlier.pdf"
    output.parent.mkdir(parents=True)
    data = b"%PDF-1.7 earlier output"
    output.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    entry = {"path": "gocindex-2025/earlier.pdf", "publication": "gocindex-2025-earlier",
             "kind": "pdf", "draft": True, "embargo": None, "bytes": len(data), "sha256": digest}
    (dist / "manifest.json").write_text(json.dumps({"tool": "publish", "files": [entry]}))
    (dist / "SHA256SUMS").write_text(f"{digest}  gocindex-2025/earlier.pdf\n")
    return dist


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run the command line in-process, as a user would, and capture what it says."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def copy_index_project(root: Path) -> Path:
    """The project's edition of the Index, its styles and fonts: no other publication."""
    for folder in (EDITION, Path("styles"), Path("fonts")):
        shutil.copytree(PROJECT / folder, root / folder)
    return root


def make_small_edition(root: Path) -> Path:
    copy_index_project(root)
    for name in ("ocindex_2025.csv", "ocindex_2023.csv"):
        path = root / EDITION / "data" / name
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        kept = [row for row in rows if row.split(",", 1)[0] in COUNTRIES]
        path.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def loaded():
    """The project's content, loaded and validated: what every output must contain."""
    from publish.kinds.ocindex.selection import Loaded
    selection = select(PROJECT)
    assert not selection.every_problem(), selection.every_problem()
    return [source for source in selection.sources if isinstance(source, Loaded)]


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
    code, stdout, stderr = run_cli("--project", str(PROJECT), "release", "--allow-dirty", KYRGYZSTAN,
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


@pytest.fixture(scope="session")
def manual(tmp_path_factory) -> Path:
    """publish's own manual (a book), released once through the command line: its folder in
    dist/, holding manual.pdf and manual.epub."""
    out = tmp_path_factory.mktemp("manual")
    code, _, err = run_cli("--project", str(PROJECT), "release", "--allow-dirty", str(MANUAL),
                           "--dist", str(out / "dist"), "--cache", str(out / "cache"))
    assert code == 0, err
    return out / "dist/manual"


@pytest.fixture(scope="session")
def factsheets(tmp_path_factory) -> Path:
    """The small edition (five countries: four factsheets and the profile) built once, for
    tests that only read its outputs: its folder in dist/, such as kazakhstan-draft.epub."""
    root = make_small_edition(tmp_path_factory.mktemp("factsheets"))
    dist = tmp_path_factory.mktemp("factsheets-dist") / "dist"
    code, _, err = run_cli("--project", str(root), "build", "--dist", str(dist),
                           "--cache", str(dist.parent / "cache"))
    assert code == 0, err
    return dist / "gocindex-2025"


@pytest.fixture(scope="session")
def profile_epub(dist, publication) -> Path:
    """The Kyrgyzstan profile's EPUB, as released."""
    from publish.build import output_name
    return dist / output_name(publication, ".epub", draft=False)


@pytest.fixture(scope="session")
def factsheet_epub(factsheets) -> Path:
    """A factsheet's EPUB: Kazakhstan's, which has no narrative."""
    return factsheets / "kazakhstan-draft.epub"


@pytest.fixture(scope="session")
def book_epub(manual) -> Path:
    """An EPUB of the book kind: the manual's."""
    return manual / "manual.epub"


@pytest.fixture
def broken_project(tmp_path) -> Path:
    """A copy of the known-good project to vary: content only, plus styles and fonts."""
    copy_index_project(tmp_path)
    return tmp_path
