"""`publish check` on small variations of the known-good project: each fails with its code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli

from publish.kinds.ocindex.validate import UNWRITTEN

EDITION = Path("content/gocindex-2025")
PROFILE = EDITION / "profiles/kyrgyzstan"
NARRATIVE = PROFILE / "narrative.md"
DATASET = EDITION / "data/ocindex_2025.csv"


def edit(root: Path, relative: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old`; returns the line it was on."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def move_section(root: Path, title: str, before: str) -> int:
    """Move the '## title' section, whole, in front of '## before'."""
    path = root / NARRATIVE
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=## )", text)
    moving = next(p for p in parts if p.startswith(f"## {title}\n"))
    parts.remove(moving)
    index = next(i for i, p in enumerate(parts) if p.startswith(f"## {before}\n"))
    parts.insert(index, moving)
    new = "".join(parts)
    path.write_text(new, encoding="utf-8")
    return new[: new.index(moving)].count("\n") + 1


def score_cell(root: Path, iso2: str, column: int, value: str) -> int:
    path = root / DATASET
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if line.startswith(f"{iso2},"):
            cells = line.rstrip("\n").split(",")
            cells[4 + column] = value
            lines[number - 1] = ",".join(cells) + "\n"
            path.write_text("".join(lines), encoding="utf-8")
            return number
    raise AssertionError(iso2)


def empty_funding_note(root: Path) -> int:
    path = root / PROFILE / "profile.yaml"
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("funding_note:")]
    path.write_text(head + 'funding_note: "  "\n', encoding="utf-8")
    return head.count("\n") + 1


def drop_section(root: Path, title: str) -> None:
    path = root / NARRATIVE
    parts = re.split(r"(?m)^(?=## )", path.read_text(encoding="utf-8"))
    path.write_text("".join(p for p in parts if not p.startswith(f"## {title}\n")),
                    encoding="utf-8")


def duplicate_section(root: Path, title: str) -> int:
    path = root / NARRATIVE
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=## )", text)
    section = next(p for p in parts if p.startswith(f"## {title}\n"))
    path.write_text(text + "\n" + section, encoding="utf-8")
    return text.count("\n") + 2


# (name, how to break the project, the code, the file, the line or None)
CASES = [
    ("malformed YAML",
     lambda r: edit(r, PROFILE / "profile.yaml", "capital: Bishkek", "capital: [Bishkek") + 1,
     "L002", PROFILE / "profile.yaml"),
    ("unknown key",
     lambda r: edit(r, PROFILE / "profile.yaml", "  capital:", "  capitol:"),
     "L004", PROFILE / "profile.yaml"),
    ("missing key",
     lambda r: (edit(r, EDITION / "edition.yaml", "publisher: Global", "# publisher: Global"), None)[1],
     "L005", EDITION / "edition.yaml"),
    ("wrong kind of value",
     lambda r: edit(r, PROFILE / "profile.yaml", "population: 7224614", "population: many"),
     "L006", PROFILE / "profile.yaml"),
    ("duplicate key",
     lambda r: edit(r, PROFILE / "profile.yaml", "  area_km2: 199950",
                    "  area_km2: 199950\n  area_km2: 1") + 1,
     "L007", PROFILE / "profile.yaml"),
    ("YAML alias",
     lambda r: edit(r, PROFILE / "profile.yaml", "capital: Bishkek", "capital: &c Bishkek"),
     "L008", PROFILE / "profile.yaml"),
    ("section missing",
     lambda r: drop_section(r, "Trade"),
     "V001", NARRATIVE),
    ("section duplicated",
     lambda r: duplicate_section(r, "Drugs"),
     "V002", NARRATIVE),
    ("section out of order",
     lambda r: move_section(r, "Drugs", "People"),
     "V003", NARRATIVE),
    ("unknown section",
     lambda r: edit(r, NARRATIVE, "## Trade\n", "## Commerce\n"),
     "V004", NARRATIVE),
    ("unknown indicator",
     lambda r: edit(r, NARRATIVE, "### Arms trafficking\n", "### Arms dealing\n"),
     "V005", NARRATIVE),
    ("indicator under the wrong section",
     lambda r: edit(r, NARRATIVE, "### Arms trafficking\n", "### Flora crimes\n"),
     "V006", NARRATIVE),
    ("indicator with no narrative",
     lambda r: edit(r, NARRATIVE, "### Heroin trade; Cocaine trade;", "### Heroin trade;") - 2,
     "V007", NARRATIVE),
    ("score missing",
     lambda r: score_cell(r, "KG", 0, ""),
     "V009", DATASET),
    ("score out of range",
     lambda r: score_cell(r, "FR", 3, "10.50"),
     "V010", DATASET),
    ("score not in half points",
     lambda r: score_cell(r, "KG", 31, "4.25"),
     "V011", DATASET),
    ("country not in the dataset",
     lambda r: edit(r, PROFILE / "profile.yaml", "country: KG", "country: XK"),
     "V012", PROFILE / "profile.yaml"),
    ("empty funding note",
     lambda r: empty_funding_note(r),
     "V013", PROFILE / "profile.yaml"),
    ("indicator heading without a paragraph",
     lambda r: edit(r, NARRATIVE, "### Heroin trade; Cocaine trade;",
                    "### Heroin trade\n\n### Cocaine trade;"),
     "V013", NARRATIVE),
    ("indicator out of order",
     lambda r: edit(r, NARRATIVE, "### Human trafficking\n", "### Human smuggling\n") and
     edit(r, NARRATIVE, "### Human smuggling\n\nKyrgyzstan's porous",
          "### Human trafficking\n\nKyrgyzstan's porous"),
     "V015", NARRATIVE),
    ("embargo as a date alone",
     lambda r: edit(r, EDITION / "edition.yaml", 'embargo: "2025-11-25T09:00:00+01:00"',
                    'embargo: "2025-11-25"'),
     "L011", EDITION / "edition.yaml"),
    ("embargo without a UTC offset",
     lambda r: edit(r, EDITION / "edition.yaml", 'embargo: "2025-11-25T09:00:00+01:00"',
                    'embargo: "2025-11-25T09:00:00"'),
     "L011", EDITION / "edition.yaml"),
    ("embargo as a bare YAML timestamp",
     lambda r: edit(r, EDITION / "edition.yaml", 'embargo: "2025-11-25T09:00:00+01:00"',
                    'embargo: 2025-11-25T09:00:00+01:00'),
     "L011", EDITION / "edition.yaml"),
    ("embargo that is not a date",
     lambda r: edit(r, PROFILE / "profile.yaml", "country: KG", 'country: KG\nembargo: "soon"') + 1,
     "L011", PROFILE / "profile.yaml"),
    ("not UTF-8",
     lambda r: (r / NARRATIVE).write_bytes(
         (r / NARRATIVE).read_bytes().replace(b"Bishkek", b"Bi\xffhkek", 1)) and None,
     "L003", NARRATIVE),
    ("unsupported Markdown",
     lambda r: edit(r, NARRATIVE, "## Trade\n", "## Trade\n\n- a list item\n") + 2,
     "V016", NARRATIVE),
]


@pytest.mark.parametrize("name, breaking, code, relative", CASES, ids=[c[0] for c in CASES])
def test_check_reports_the_problem(broken_project, name, breaking, code, relative):
    line = breaking(broken_project)
    status, out, err = run_cli("--project", str(broken_project), "check")
    # What a narrative in progress lacks is a warning (a review copy is still made), the rest
    # are errors.
    assert status == (0 if code in UNWRITTEN else 1), out
    where = f"{relative}:{line}" if line else f"{relative}"
    matching = [entry for entry in err.split("\n") if f" {code} " in entry]
    assert matching, err
    assert any(entry.strip().startswith(where + (":" if line else "")) for entry in matching), err
    assert "hint:" in err
    assert "Traceback" not in err


def test_known_good_project_passes(project):
    status, out, err = run_cli("--project", str(project), "check")
    assert (status, err) == (0, "")
    assert "No problems" in out


def test_every_problem_is_reported_in_one_run(broken_project):
    drop_section(broken_project, "Trade")
    score_cell(broken_project, "KG", 31, "4.25")
    edit(broken_project, PROFILE / "profile.yaml", "  capital:", "  capitol:")
    status, _, err = run_cli("--project", str(broken_project), "check")
    assert status == 1
    for code in ("V001", "V011", "L004"):
        assert f" {code} " in err, err


def test_a_failed_build_writes_nothing(broken_project):
    duplicate_section(broken_project, "Trade")
    dist = broken_project / "dist"
    status, _, err = run_cli("--project", str(broken_project), "build",
                             str(broken_project / PROFILE))
    assert status == 1 and " V002 " in err
    assert not dist.exists()


def test_build_of_a_path_outside_the_project_is_refused(project, tmp_path):
    status, _, err = run_cli("--project", str(project), "build", str(tmp_path),
                             "--dist", str(tmp_path / "dist"))
    assert status == 1 and " L012 " in err
    assert not (tmp_path / "dist").exists()


def test_build_of_an_unknown_path_is_refused(project, tmp_path):
    status, _, err = run_cli("--project", str(project), "build", "content/gocindex-2025/nowhere",
                             "--dist", str(tmp_path / "dist"))
    assert status == 1 and " L001 " in err
    assert not (tmp_path / "dist").exists()
