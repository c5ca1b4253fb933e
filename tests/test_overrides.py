"""A project's own templates and stylesheets: they win over the kind's, they count in the cache
key, and they get no more rights than any other content."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import KYRGYZSTAN, PROJECT, run_cli
from readback import pdf_pages_text, squeeze

PROFILE = Path(KYRGYZSTAN).relative_to(PROJECT)
KIND_TEMPLATES = PROJECT / "publish/kinds/ocindex/templates"
NOW = "2026-01-01T00:00:00Z"
CANARY = "CANARY-5b0e-template-outside"


def build(root: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("--project", str(root), "build", "--now", NOW, "--dist", str(root / "dist"),
                   "--cache", str(root / "cache"), str(root / PROFILE), *args)


def pages(root: Path) -> list[str]:
    return pdf_pages_text(root / "dist/gocindex-2025/kyrgyzstan-draft.pdf")


def test_a_project_template_overrides_the_kinds_and_invalidates_the_cache(broken_project):
    assert build(broken_project)[0] == 0
    assert "SEAT OF GOVERNMENT" not in pages(broken_project)[0].upper()
    templates = broken_project / "templates"
    templates.mkdir()
    dashboard = (KIND_TEMPLATES / "dashboard.html").read_text()
    assert dashboard.count("<dt>Capital</dt>") == 1
    (templates / "dashboard.html").write_text(
        dashboard.replace("<dt>Capital</dt>", "<dt>Seat of government</dt>"))
    code, out, err = build(broken_project)
    assert code == 0, err
    assert "1 built" in out  # not the cached output of the kind's template
    assert "SEAT OF GOVERNMENT" in pages(broken_project)[0].upper()  # CSS sets capitals


def test_stylesheets_are_configuration(broken_project):
    (broken_project / "styles/house.css").write_text(
        '@page { @top-center { content: "HOUSE STYLE"; font-family: "Publish Open Sans"; } }\n')
    edition = broken_project / "content/gocindex-2025/edition.yaml"
    edition.write_text(edition.read_text() + "stylesheets:\n  print: [styles/fonts.css, "
                       "styles/print.css, styles/house.css]\n")
    code, out, err = build(broken_project)
    assert code == 0, err
    for number, page in enumerate(pages(broken_project), start=1):
        assert "HOUSESTYLE" in squeeze(page), f"page {number}"
    manifest = json.loads((broken_project / "dist/manifest.json").read_text())
    assert sorted(entry["kind"] for entry in manifest["files"]) == [
        "cover", "epub", "pdf", "thumbnail"]


def test_a_stylesheet_outside_styles_is_refused(broken_project):
    edition = broken_project / "content/gocindex-2025/edition.yaml"
    lines = edition.read_text().count("\n")
    edition.write_text(edition.read_text() + "stylesheets:\n  print: [../../../../etc/passwd]\n")
    code, _, err = run_cli("--project", str(broken_project), "check")
    assert code == 1
    assert err.startswith(f"content/gocindex-2025/edition.yaml:{lines + 2}: L012 "), err
    assert "root:x" not in err


def escape_template(templates: Path, canary: Path) -> None:
    (templates / "print.html").symlink_to(canary)


# (name, what templates/print.html says, or a function making it, the code)
HOSTILE_TEMPLATES = [
    ("Python internals", "{{ page.__class__.__init__.__globals__ }}", "R005"),
    ("a method that reaches out", "{{ page.publication.edition.project.read_text('/etc/passwd') }}",
     "R005"),
    ("include by traversal", '{% include "../../../../../../etc/passwd" %}', "R005"),
    ("include by absolute path", '{% include "/etc/passwd" %}', "R005"),
    ("a link to a file outside", escape_template, "L012"),
    ("a syntax error", "{% for %}", "R005"),
]


@pytest.mark.parametrize("name, template, code", HOSTILE_TEMPLATES,
                         ids=[case[0] for case in HOSTILE_TEMPLATES])
def test_a_hostile_project_template_is_refused(broken_project, tmp_path_factory, name,
                                               template, code):
    canary = tmp_path_factory.mktemp("outside") / "canary.html"
    canary.write_text(CANARY)
    templates = broken_project / "templates"
    templates.mkdir()
    if callable(template):
        template(templates, canary)
    else:
        (templates / "print.html").write_text(template)
    code_, out, err = build(broken_project)
    assert code_ == 1
    assert f" {code} " in err, err
    assert "Traceback" not in err + out
    assert CANARY not in err + out and "root:x:0:0" not in err + out
    assert not (broken_project / "dist").exists()


def test_a_project_stylesheet_overrides_the_kinds_and_invalidates_the_cache(broken_project):
    assert build(broken_project)[0] == 0
    kinds = (PROJECT / "publish/kinds/ocindex/styles/print.css").read_text()
    assert kinds.count("content: string(country);") == 1
    (broken_project / "styles/print.css").write_text(
        kinds.replace("content: string(country);", 'content: "HOUSE EDITION " string(country);'))
    code, out, err = build(broken_project)
    assert code == 0, err
    assert "1 built" in out  # not the cached output of the kind's stylesheet
    running_heads = [page for page in pages(broken_project)[1:] if "HOUSE EDITION" in page]
    assert running_heads and len(running_heads) == len(pages(broken_project)) - 1


def test_a_kinds_own_folder_of_templates_overrides_for_that_kind_alone(broken_project):
    dashboard = (KIND_TEMPLATES / "dashboard.html").read_text()
    for kind, label in (("book", "Book capital"), ("ocindex", "Index capital")):
        folder = broken_project / "templates" / kind
        folder.mkdir(parents=True)
        (folder / "dashboard.html").write_text(
            dashboard.replace("<dt>Capital</dt>", f"<dt>{label}</dt>"))
    (broken_project / "templates/dashboard.html").write_text(
        dashboard.replace("<dt>Capital</dt>", "<dt>Every kind capital</dt>"))
    code, _, err = build(broken_project)
    assert code == 0, err
    first = pages(broken_project)[0].upper()
    assert "INDEX CAPITAL" in first
    assert "BOOK CAPITAL" not in first and "EVERY KIND CAPITAL" not in first
