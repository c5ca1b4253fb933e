"""What a release gives those who receive it, as the build puts it in dist/: the raster cover
and its thumbnail beside each EPUB, the press-ready PDF a publication asks for, and the
catalogs (OPDS 2.0, OPDS 1.2) and landing page of everything in dist/, all listed in
SHA256SUMS and the manifest. The formats themselves are tested in test_cover.py,
test_press.py and test_catalog.py; here, that the build makes them from the real project."""
from __future__ import annotations

import hashlib
import json
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image

CATALOG = ("opds.json", "catalog.xml", "index.html")
ATOM = "{http://www.w3.org/2005/Atom}"


def _manifest(dist: Path) -> dict:
    return json.loads((dist / "manifest.json").read_text(encoding="utf-8"))


def _files(dist: Path) -> dict[tuple[str, str], str]:
    """(publication, kind) -> path, by the manifest."""
    return {(entry["publication"], entry["kind"]): entry["path"]
            for entry in _manifest(dist)["files"]}


def _epub_cover(epub: Path) -> tuple[str, bytes]:
    """The media type and bytes of the item an EPUB's package calls its cover-image."""
    with zipfile.ZipFile(epub) as archive:
        container = ET.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = ET.fromstring(archive.read(opf_path))
        (item,) = [item for item in opf.iter("{http://www.idpf.org/2007/opf}item")
                   if "cover-image" in (item.get("properties") or "").split()]
        base = opf_path.rpartition("/")[0]
        href = f"{base}/{item.get('href')}" if base else item.get("href")
        return item.get("media-type"), archive.read(href)


@pytest.fixture(scope="module", params=["profile", "book"])
def released(request, dist, manual, publication) -> tuple[Path, str]:
    """A released dist/ and the slug of the publication in it: the Kyrgyzstan profile, or
    the manual."""
    if request.param == "profile":
        return dist, publication.slug
    return manual.parent, "manual"


def test_every_file_is_in_the_sums_and_the_manifest(released):
    dist, _ = released
    result = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=dist,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summed = {line.split("  ", 1)[1] for line in (dist / "SHA256SUMS").read_text().splitlines()}
    present = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}
    assert present - summed == {"SHA256SUMS", "manifest.json"}
    manifest = _manifest(dist)
    listed = [*manifest["files"], *manifest["catalog"], *manifest.get("reports", [])]
    assert {entry["path"] for entry in listed} == summed
    for entry in listed:
        data = (dist / entry["path"]).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert {entry["path"] for entry in manifest["catalog"]} == set(CATALOG)


def test_a_release_carries_cover_thumbnail_and_press_pdf(released):
    dist, slug = released
    files = _files(dist)
    assert {kind for publication, kind in files if publication == slug} == {
        "pdf", "epub", "cover", "thumbnail", "press"}
    output = files[(slug, "pdf")].removesuffix(".pdf")
    assert files[(slug, "press")] == f"{output}-press.pdf"
    assert files[(slug, "cover")] == f"{output}-cover.png"
    # The cover in dist/ is the very image the EPUB carries as its cover.
    media_type, data = _epub_cover(dist / files[(slug, "epub")])
    assert media_type == "image/png"
    assert data == (dist / files[(slug, "cover")]).read_bytes()


def test_the_manifest_describes_each_publication(released):
    dist, slug = released
    (described,) = [p for p in _manifest(dist)["publications"] if p["slug"] == slug]
    assert described["title"] and described["language"] == "en"
    assert described["identifier"] and described["authors"] and described["publisher"]
    assert described["published"].endswith("Z") and described["draft"] is False


def test_the_catalogs_list_what_dist_holds(released):
    dist, slug = released
    files = _files(dist)
    feed = json.loads((dist / "opds.json").read_text(encoding="utf-8"))
    hrefs = {link["href"] for link in _opds_links(feed)}
    for kind in ("epub", "pdf"):
        assert files[(slug, kind)] in hrefs
    atom = ET.parse(dist / "catalog.xml").getroot()
    assert atom.tag == f"{ATOM}feed"
    lengths = {link.get("href"): link.get("length") for link in atom.iter(f"{ATOM}link")}
    for kind in ("epub", "pdf"):
        path = files[(slug, kind)]
        assert lengths[path] == str((dist / path).stat().st_size)
    page = (dist / "index.html").read_text(encoding="utf-8")
    for kind in ("epub", "pdf", "press", "thumbnail"):
        assert f'"{files[(slug, kind)]}"' in page


def _opds_links(node):
    """Every link object anywhere in an OPDS 2.0 feed."""
    if isinstance(node, dict):
        if "href" in node:
            yield node
        for value in node.values():
            yield from _opds_links(value)
    elif isinstance(node, list):
        for value in node:
            yield from _opds_links(value)


def test_review_copies_say_so_in_their_catalogs(factsheets):
    dist = factsheets.parent
    feed = json.loads((dist / "opds.json").read_text(encoding="utf-8"))
    assert "review cop" in json.dumps(feed["metadata"]).lower()
    assert len(_manifest(dist)["publications"]) == 5
    files = _files(dist)
    assert all((publication, "press") not in files for publication, _ in files)  # release only



def test_the_real_catalogs_validate(released, factsheets):
    """The catalogs the build wrote of the real project, released and as review copies,
    against the OPDS 2.0 JSON Schema (tests/schemas/opds/)."""
    from test_catalog import schema_errors
    for dist in (released[0], factsheets.parent):
        feed = json.loads((dist / "opds.json").read_text(encoding="utf-8"))
        assert schema_errors(feed) == [], dist


def test_the_catalog_gives_each_image_its_size(released):
    dist, slug = released
    files = _files(dist)
    feed = json.loads((dist / "opds.json").read_text(encoding="utf-8"))
    images = {image["href"]: image for publication in feed["publications"]
              for image in publication.get("images", [])}
    for kind in ("cover", "thumbnail"):
        image = images[files[(slug, kind)]]
        with Image.open(dist / files[(slug, kind)]) as png:
            assert (image["width"], image["height"]) == png.size
    assert (images[files[(slug, "cover")]]["height"]) >= 1600
