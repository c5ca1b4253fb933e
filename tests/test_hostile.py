"""Hostile and broken content: refused clearly, nothing leaked, nothing half-written.

Each case lays a file of tests/hostile/ (or a small edit) over a copy of the known-good
project and runs a strict build. It must end in a coded problem naming a file, a non-zero
exit and no traceback; no output may contain the secret kept outside the project; dist/
stays as it was; and the local HTTP server must receive no request.
"""
from __future__ import annotations

import hashlib
import http.server
import os
import struct
import threading
import zlib
from pathlib import Path

import pytest
from conftest import earlier_dist, run_cli

HOSTILE = Path(__file__).parent / "hostile"
EDITION = Path("content/gocindex-2025")
PROFILE = EDITION / "profiles/kyrgyzstan"
SECRET = "SECRET-7d1f0c2b-do-not-leak"
LIMITS = ("--time-limit", "10", "--memory-limit", "1500")


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def setting(broken_project, tmp_path_factory, server):
    """The project copy, a secret outside it, and a dist/ holding an earlier output."""
    outside = tmp_path_factory.mktemp("outside")
    secret = outside / "secret.txt"
    secret.write_text(SECRET)
    dist = earlier_dist(broken_project / "dist")
    return {"root": broken_project, "secret": secret, "server": server, "dist": dist}


def fill(text: str, s: dict, folder: Path) -> str:
    return (text.replace("{SECRET}", str(s["secret"]))
            .replace("{ESCAPE}", os.path.relpath(s["secret"], folder))
            .replace("{SERVER}", s["server"]))


def append_css(name):
    def apply(s):
        css = s["root"] / "styles" / "print.css"
        with css.open("a", encoding="utf-8") as stream:
            stream.write("\n" + fill((HOSTILE / name).read_text(), s, css.parent))
    return apply


def replace(relative: Path, name: str | None = None, data: bytes | None = None):
    def apply(s):
        target = s["root"] / relative
        if name is not None:
            target.write_text(fill((HOSTILE / name).read_text(), s, target.parent))
        elif data is None:
            target.unlink()
        else:
            target.write_bytes(data)
    return apply


def narrative_paragraph(markdown: str, image: str | None = None, maker=None):
    """Add a paragraph under the first indicator (and a file beside the narrative)."""
    def apply(s):
        narrative = s["root"] / PROFILE / "narrative.md"
        if image:
            (narrative.parent / Path(image).name).write_bytes((HOSTILE / image).read_bytes())
        if maker:
            maker(narrative.parent)
        text = narrative.read_text()
        head = "### Human trafficking\n"
        narrative.write_text(text.replace(head, head + "\n" + fill(markdown, s, narrative.parent)
                                          + "\n", 1))
    return apply


def enormous_png(folder: Path) -> None:
    """A 20,000 x 20,000 PNG: a few hundred kilobytes that decode to 400 megapixels."""
    width = height = 20000
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    (folder / "enormous.png").write_bytes(png)


# (name, how to break the project, the code, the file the problem must name)
CASES = [
    ("css file: URL", append_css("css-file-url.css"), "V020", "styles/print.css"),
    ("css .. escape", append_css("css-dotdot-escape.css"), "V020", "styles/print.css"),
    ("css http import", append_css("css-http-import.css"), "V020", "styles/print.css"),
    ("css http font", append_css("css-http-font.css"), "V020", "styles/print.css"),
    ("css content from outside", append_css("css-content-url.css"), "V020", "styles/print.css"),
    ("css var() bomb", append_css("css-var-bomb.css"), "R003", str(PROFILE)),
    ("css counter bomb", append_css("css-counter-bomb.css"), "R003", str(PROFILE)),
    ("svg <use> fan-out", narrative_paragraph("![A chart](svg-use-bomb.svg)", "svg-use-bomb.svg"),
     "R003", str(PROFILE)),
    ("enormous image", narrative_paragraph("![A map](enormous.png)", maker=enormous_png),
     "R001", str(PROFILE)),
    ("markdown file: link", narrative_paragraph("See [this](file://{SECRET})."), "V018",
     str(PROFILE / "narrative.md")),
    ("markdown attachment link", narrative_paragraph("See [the report](report.pdf)."), "V018",
     str(PROFILE / "narrative.md")),
    ("markdown http image", narrative_paragraph("![x]({SERVER}/image.png)"), "V019",
     str(PROFILE / "narrative.md")),
    ("markdown .. image", narrative_paragraph("![x](../../../../../../etc/hosts.png)"), "V019",
     str(PROFILE / "narrative.md")),
    ("markdown raw HTML", narrative_paragraph('<img src="file://{SECRET}"> <script>x</script>'),
     "V016", str(PROFILE / "narrative.md")),
    ("markdown deep nesting", replace(PROFILE / "narrative.md", "narrative-deep.md"), "V016",
     str(PROFILE / "narrative.md")),
    ("YAML bomb", replace(PROFILE / "profile.yaml", "yaml-bomb.yaml"), "L008",
     str(PROFILE / "profile.yaml")),
    ("YAML duplicate keys", replace(PROFILE / "profile.yaml", "yaml-duplicate-keys.yaml"),
     "L007", str(PROFILE / "profile.yaml")),
    ("YAML deep nesting", replace(PROFILE / "profile.yaml", "yaml-deep.yaml"), "L002",
     str(PROFILE / "profile.yaml")),
    ("YAML oversized", replace(PROFILE / "profile.yaml", data=b"# padding\n" * 300_000
                               + b"country: KG\n"), "L009", str(PROFILE / "profile.yaml")),
    ("invalid UTF-8", replace(PROFILE / "narrative.md", data=b"## People\n\n\xff\xfe\xc3\x28\n"),
     "L003", str(PROFILE / "narrative.md")),
    ("empty profile", replace(PROFILE / "profile.yaml", data=b""), "L006",
     str(PROFILE / "profile.yaml")),
    ("empty narrative", replace(PROFILE / "narrative.md", data=b""), "V013",
     str(PROFILE / "narrative.md")),
    ("empty dataset", replace(EDITION / "data/ocindex_2025.csv", data=b""), "L010",
     str(EDITION / "data/ocindex_2025.csv")),
    ("missing outline", replace(EDITION / "outline.yaml"), "L001", str(EDITION / "outline.yaml")),
    ("missing stylesheet", replace(Path("styles/fonts.css")), "L001", "styles/fonts.css"),
]


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, breaking, code, culprit", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_refused(setting, name, breaking, code, culprit):
    breaking(setting)
    before = _tree(setting["dist"])
    requests = len(Recorder.requests)
    status, out, err = run_cli("--project", str(setting["root"]), "build", "--strict", *LIMITS,
                               "--dist", str(setting["dist"]),
                               str(setting["root"] / PROFILE))
    assert status != 0
    lines = [line for line in err.splitlines() if f" {code} " in line]
    assert lines, err
    assert any(line.strip().startswith(culprit) for line in lines), err
    assert "Traceback" not in err + out
    assert SECRET not in err + out
    assert _tree(setting["dist"]) == before
    assert not any(p.name.startswith(".dist.staging") for p in setting["root"].iterdir())
    assert len(Recorder.requests) == requests, Recorder.requests


def test_the_fetcher_refuses_what_the_checks_missed(setting, tmp_path):
    """The renderer's own safety net, met directly: no network, nothing outside."""
    from publish.core.pdf import render_pdf
    from publish.core.problems import ContentError
    from publish.core.sources import Project
    for url in (f"file://{setting['secret']}", f"{setting['server']}/x.png",
                "styles/../../../../../../../etc/hostname"):
        html = f'<html lang="en"><title>t</title><body><img src="{url}" alt="x"></body></html>'
        with pytest.raises(ContentError) as raised:
            render_pdf(html, Project.at(setting["root"]), b"0" * 32, strict=True)
        (problem,) = raised.value.problems
        assert problem.code == "R001" and "refused" in problem.message
        assert SECRET not in problem.message
    assert Recorder.requests == []


# -- the project's own files, turned against it ---------------------------------------------
# Each case is released over the whole project (all or nothing, so nothing renders): a coded
# problem naming its file, no byte of the canary in any output or log, dist/ unchanged.

CANARY = "CANARY-3f9a1c77-outside-the-project"


def symlink_to_canary(relative: Path):
    def apply(root: Path, canary: Path):
        target = root / relative
        target.unlink(missing_ok=True)  # a file the project has, or one it adds
        target.symlink_to(canary)
    return apply


def set_key(old: str, new: str, relative: Path = EDITION / "edition.yaml"):
    def apply(root: Path, canary: Path):
        path = root / relative
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new.replace("{CANARY}", str(canary)).replace(
            "{ESCAPE}", os.path.relpath(canary, path.parent))))
    return apply


def symlink_loop(root: Path, canary: Path):
    narrative = root / PROFILE / "narrative.md"
    narrative.unlink()
    (narrative.parent / "loop.md").symlink_to(narrative)
    narrative.symlink_to(narrative.parent / "loop.md")


def fifo(relative: Path):
    def apply(root: Path, canary: Path):
        (root / relative).unlink(missing_ok=True)
        os.mkfifo(root / relative)
    return apply


def enormous_narrative(root: Path, canary: Path):
    with (root / PROFILE / "narrative.md").open("r+b") as stream:
        stream.truncate(200 * 1024 * 1024)  # sparse: 200 MB that take no room on disk


STRANGE_FOLDER = "evil\nname\u202egnp"


def strange_folder(root: Path, canary: Path):
    folder = root / EDITION / "profiles" / STRANGE_FOLDER
    folder.mkdir()
    (folder / "narrative.md").write_text((root / PROFILE / "narrative.md").read_text())


DATASET_KEY = 'dataset: data/ocindex_2025.csv'
PREVIOUS_KEY = '  dataset: data/ocindex_2023.csv'

# (name, how to break the project, the code, the file the problem must name)
PROJECT_CASES = [
    ("symlinked narrative", symlink_to_canary(PROFILE / "narrative.md"), "L012",
     str(PROFILE / "narrative.md")),
    ("symlinked profile.yaml", symlink_to_canary(PROFILE / "profile.yaml"), "L012",
     str(PROFILE / "profile.yaml")),
    ("symlinked dataset", symlink_to_canary(EDITION / "data/ocindex_2025.csv"), "L012",
     str(EDITION / "edition.yaml")),
    ("symlinked stylesheet", symlink_to_canary(Path("styles/print.css")), "L012",
     "styles/print.css"),
    ("dataset: traversal", set_key(DATASET_KEY, "dataset: {ESCAPE}"), "L012",
     str(EDITION / "edition.yaml")),
    ("dataset: absolute", set_key(DATASET_KEY, "dataset: {CANARY}"), "L012",
     str(EDITION / "edition.yaml")),
    ("dataset: /etc/passwd", set_key(DATASET_KEY, "dataset: ../../../../../../../etc/passwd"),
     "L012", str(EDITION / "edition.yaml")),
    ("previous dataset: traversal", set_key(PREVIOUS_KEY, "  dataset: {ESCAPE}"), "L012",
     str(EDITION / "edition.yaml")),
    ("previous dataset: absolute", set_key(PREVIOUS_KEY, "  dataset: {CANARY}"), "L012",
     str(EDITION / "edition.yaml")),
    ("symlink loop", symlink_loop, "L013", str(PROFILE / "narrative.md")),
    ("FIFO as narrative", fifo(PROFILE / "narrative.md"), "L013", str(PROFILE / "narrative.md")),
    ("FIFO beside the narrative", fifo(PROFILE / "notes.txt"), "L013",
     str(PROFILE / "notes.txt")),
    ("200 MB narrative", enormous_narrative, "L009", str(PROFILE / "narrative.md")),
    ("newline and bidi override in a folder name", strange_folder, "V012",
     str(EDITION / "profiles" / "evil\\x0aname\\u202egnp" / "narrative.md")),
    ("wrong country code", set_key("country: KG", "country: KZ", PROFILE / "profile.yaml"),
     "V022", str(PROFILE / "profile.yaml")),
]


@pytest.mark.parametrize("name, breaking, code, culprit", PROJECT_CASES,
                         ids=[c[0] for c in PROJECT_CASES])
def test_hostile_project_files_are_refused(broken_project, tmp_path_factory, name, breaking,
                                           code, culprit):
    canary = tmp_path_factory.mktemp("outside") / "canary.txt"
    canary.write_text(f"{CANARY}\n" * 100)
    dist = earlier_dist(broken_project / "dist")
    before = _tree(dist)
    breaking(broken_project, canary)
    status, out, err = run_cli("--project", str(broken_project), "release", "--now",
                               "2030-01-01T00:00:00Z", *LIMITS, "--dist", str(dist))
    assert status == 1, err
    lines = [line for line in err.splitlines() if f" {code} " in line]
    assert any(line.startswith(culprit + ":") or line.startswith(culprit + " ")
               for line in lines), err
    assert "Traceback" not in err + out
    assert CANARY not in err + out and "root:x:0:0" not in err + out
    assert "\u202e" not in err and not any(line.startswith("name") for line in err.splitlines())
    assert _tree(dist) == before
    assert not any(CANARY.encode() in p.read_bytes() for p in dist.rglob("*") if p.is_file())
    assert not list(broken_project.glob(".dist.staging-*"))
