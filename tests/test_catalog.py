"""The catalog of a dist/ folder (publish.core.catalog): opds.json checked against the official
OPDS 2.0 JSON Schema, catalog.xml read back as Atom, index.html opened in headless Chromium.

The dist/ folders are written here, as a release would leave them: one publication for each
country of the project's 2025 dataset (its continent and region as the Index's groups), with
small real files (PNG covers drawn by Pillow), and the manual as a book.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import random
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import referencing
from conftest import PROJECT
from PIL import Image

from publish.core import ace
from publish.core.catalog import SUMS as CATALOG_SUMS
from publish.core.catalog import CatalogError, catalog_files, human_size
from publish.core.dist import SUMS

SCHEMAS = Path(__file__).parent / "schemas" / "opds"
FEED_SCHEMA = "https://drafts.opds.io/schema/feed.schema.json"
DATASET = PROJECT / "content/gocindex-2025/data/ocindex_2025.csv"
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/terms/}"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
COLLECTION = "Global Organized Crime Index 2025"
PUBLISHER = "Global Initiative Against Transnational Organized Crime"
EMBARGO = "2025-11-25T09:00:00+01:00"
CATALOG = ("opds.json", "catalog.xml", "index.html")


# A dist/ folder, written for real


def png(width: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, width * 297 // 210), colour).save(out, "PNG")
    return out.getvalue()


COVER, THUMBNAIL = png(1600, (27, 74, 122)), png(400, (27, 74, 122))


def countries() -> list[dict]:
    with DATASET.open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def index_publication(country: dict, draft: bool) -> dict:
    name = country["country"]
    return {"slug": f"gocindex-2025-{country['iso2'].lower()}",
            "title": f"{name}: Global Organized Crime Index 2025", "language": "en",
            "identifier": f"urn:uuid:00000000-0000-4000-8000-{country['iso2'].encode().hex():0>12}",
            "authors": [PUBLISHER], "publisher": PUBLISHER,
            "description": f"Criminal markets, criminal actors and resilience in {name}.",
            "subjects": ["organized crime", country["region"]],
            "published": "2025-11-25T08:00:00Z", "kind": "ocindex", "variant": "profile",
            "collection": COLLECTION, "group": f"{country['continent']} / {country['region']}",
            "draft": draft, "embargo": EMBARGO if draft else None}


def book_publication(draft: bool) -> dict:
    return {"slug": "manual", "title": "The publish manual", "language": "en",
            "identifier": "urn:uuid:6f1d2c1e-4a77-4a8e-9a51-0d2f0b7c9e10",
            "authors": ["Ada Writer", "Ben Editor"], "publisher": PUBLISHER,
            "description": "How to write, build and release publications with publish.",
            "subjects": ["publishing"], "published": "2025-10-01T12:00:00+02:00",
            "kind": "book", "variant": "", "collection": "Manuals", "group": "",
            "draft": draft, "embargo": None}


def write_files(dist: Path, publication: dict, folder: str, name: str,
                kinds=("pdf", "epub", "cover", "thumbnail")) -> list[dict]:
    """The publication's files in dist/ (small, of the right kind), and their manifest entries."""
    contents = {"pdf": ("pdf", b"%PDF-1.7\n" + name.encode() * 40),
                "epub": ("epub", b"PK\x03\x04mimetypeapplication/epub+zip" + name.encode() * 90),
                "press": ("press.pdf", b"%PDF-1.6\nPDF/X-4 " + name.encode() * 300),
                "cover": ("cover.png", COVER), "thumbnail": ("thumbnail.png", THUMBNAIL)}
    entries = []
    for kind in kinds:
        suffix, data = contents[kind]
        path = f"{folder}/{name}.{suffix}"
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_bytes(data)
        entries.append({"path": path, "publication": publication["slug"], "kind": kind,
                        "draft": publication["draft"], "embargo": publication["embargo"],
                        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return entries


def release(dist: Path, draft: bool = False) -> dict:
    """A dist/ of the whole Index and the manual, and its manifest (written too)."""
    files, publications = [], []
    for number, country in enumerate(countries()):
        publication = index_publication(country, draft)
        kinds = ("pdf", "epub", "cover", "thumbnail") + (("press",) if number % 10 == 0 else ())
        files += write_files(dist, publication, "gocindex-2025", country["iso2"].lower(), kinds)
        publications.append(publication)
    book = book_publication(draft)
    files += write_files(dist, book, "manual", "manual", ("pdf", "epub", "press", "cover",
                                                         "thumbnail"))
    publications.append(book)
    manifest = {"tool": "publish", "version": "0.1.0", "source_commit": "0123abcd" * 5,
                "dirty": False, "files": sorted(files, key=lambda entry: entry["path"]),
                "publications": publications}
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    (dist / "SHA256SUMS").write_text("".join(f"{entry['sha256']}  {entry['path']}\n"
                                             for entry in manifest["files"]))
    return manifest


def with_catalog(dist: Path, manifest: dict) -> dict[str, bytes]:
    files = catalog_files(manifest)
    for name, data in files.items():
        (dist / name).write_bytes(data)
    return files


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[Path, dict, dict[str, bytes]]:
    dist = tmp_path_factory.mktemp("released") / "dist"
    manifest = release(dist)
    return dist, manifest, with_catalog(dist, manifest)


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> tuple[Path, dict, dict[str, bytes]]:
    dist = tmp_path_factory.mktemp("review") / "dist"
    manifest = release(dist, draft=True)
    return dist, manifest, with_catalog(dist, manifest)


# Reading the catalog back


def python_pattern(pattern: str) -> str:
    """An ECMA-262 pattern, as JSON Schema's are, in Python's syntax: the schema's BCP 47
    patterns name their groups `(?<name>...)`, which Python's re spells `(?P<name>...)`.
    Lookbehinds, `(?<=` and `(?<!`, stay as they are."""
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)


def python_patterns(node):
    """A schema with every pattern (`pattern` values, `patternProperties` keys) in Python's
    syntax, so that jsonschema, which hands them to re as they are, reads them as ECMA-262."""
    if isinstance(node, list):
        return [python_patterns(value) for value in node]
    if not isinstance(node, dict):
        return node
    translated = {}
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str):
            translated[key] = python_pattern(value)
        elif key == "patternProperties" and isinstance(value, dict):
            translated[key] = {python_pattern(name): python_patterns(subschema)
                               for name, subschema in value.items()}
        else:
            translated[key] = python_patterns(value)
    return translated


def validator() -> jsonschema.Draft7Validator:
    """The OPDS 2.0 feed schema, resolving every $ref to the copies in tests/schemas/opds/."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        contents = python_patterns(json.loads(path.read_text(encoding="utf-8")))
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
    registry = referencing.Registry().with_resources(resources)
    schema = registry.contents(FEED_SCHEMA)
    return jsonschema.Draft7Validator(schema, registry=registry,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def schema_errors(feed: dict) -> list[tuple[str, str]]:
    """Where the feed breaks the schema, and the keyword it breaks: (path, keyword)."""
    return sorted(("/".join(map(str, error.absolute_path)), error.validator)
                  for error in validator().iter_errors(feed))


class Links(HTMLParser):
    """Every href and src of a page, the text of its headings, and its ids."""

    def __init__(self):
        super().__init__()
        self.links, self.ids, self.headings, self.scripts = [], [], [], 0
        self._heading = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.links += [attributes[name] for name in ("href", "src") if name in attributes]
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "script":
            self.scripts += 1
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag, ""]

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[1] += data

    def handle_endtag(self, tag):
        if self._heading is not None and tag == self._heading[0]:
            self.headings.append((tag, self._heading[1].strip()))
            self._heading = None


def page(html: bytes) -> Links:
    parser = Links()
    parser.feed(html.decode("utf-8"))
    return parser


def atom_hrefs(xml: bytes) -> list[str]:
    return [link.get("href") for link in ET.fromstring(xml).iter(f"{ATOM}link")]


def json_hrefs(node) -> list[str]:
    if isinstance(node, dict):
        return [value for key, value in node.items() if key == "href"] + [
            href for value in node.values() for href in json_hrefs(value)]
    if isinstance(node, list):
        return [href for value in node for href in json_hrefs(value)]
    return []


def assert_resolve(hrefs: list[str], dist: Path, manifest: dict, ids: list[str]) -> None:
    """Every link is relative, and names a file the manifest lists, the catalog or the sums
    (or an anchor of the landing page)."""
    listed = {entry["path"] for entry in manifest["files"]} | {*CATALOG, "SHA256SUMS"}
    for href in hrefs:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not href.startswith("/"), href
        if not parts.path:  # an anchor of the page itself
            assert parts.fragment in ids, href
            continue
        assert unquote(parts.path) in listed, href
        assert (dist / unquote(parts.path)).is_file(), href


def chromium(url: str, *arguments: str) -> subprocess.CompletedProcess:
    browser = ace.chromium()
    assert browser is not None, "run scripts/setup.sh --test"
    done = subprocess.run([str(browser), "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", *arguments, url],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done


# OPDS 2.0


def test_opds_json_is_a_valid_opds_2_feed_of_every_publication(released):
    dist, manifest, files = released
    feed = json.loads(files["opds.json"])
    assert schema_errors(feed) == []
    assert feed["metadata"] == {"title": f"{PUBLISHER}: publications",
                                "identifier": feed["metadata"]["identifier"],
                                "modified": "2025-11-25T08:00:00Z", "numberOfItems": 194}
    assert feed["links"] == [
        {"rel": "self", "href": "opds.json", "type": "application/opds+json"},
        {"rel": "alternate", "href": "catalog.xml",
         "type": "application/atom+xml;profile=opds-catalog;kind=acquisition"},
        {"rel": "alternate", "href": "index.html", "type": "text/html"}]
    assert len(feed["publications"]) == 194
    assert "groups" not in feed and "navigation" not in feed


def test_an_opds_publication_says_everything_the_manifest_knows(released):
    dist, manifest, files = released
    feed = json.loads(files["opds.json"])
    [kyrgyzstan] = [publication for publication in feed["publications"]
                    if publication["metadata"]["title"].startswith("Kyrgyzstan:")]
    sizes = {entry["path"]: entry["bytes"] for entry in manifest["files"]}
    assert kyrgyzstan == {
        "metadata": {
            "@type": "http://schema.org/Book",
            "title": "Kyrgyzstan: Global Organized Crime Index 2025",
            "identifier": "urn:uuid:00000000-0000-4000-8000-000000004b47",
            "language": "en", "author": PUBLISHER, "publisher": PUBLISHER,
            "description": "Criminal markets, criminal actors and resilience in Kyrgyzstan.",
            "subject": ["organized crime", "Central Asia and the Caucasus"],
            "published": "2025-11-25T08:00:00Z", "modified": "2025-11-25T08:00:00Z",
            "belongsTo": {"collection": COLLECTION}},
        "links": [
            {"rel": OPEN_ACCESS, "href": "gocindex-2025/kg.pdf", "type": "application/pdf",
             "size": sizes["gocindex-2025/kg.pdf"]},
            {"rel": OPEN_ACCESS, "href": "gocindex-2025/kg.epub", "type": "application/epub+zip",
             "size": sizes["gocindex-2025/kg.epub"]},
            {"rel": "alternate", "href": "index.html#gocindex-2025-kg", "type": "text/html"}],
        "images": [{"href": "gocindex-2025/kg.cover.png", "type": "image/png"},
                   {"href": "gocindex-2025/kg.thumbnail.png", "type": "image/png"}]}


def test_the_press_pdf_is_not_offered_to_reading_apps(released):
    dist, manifest, files = released
    press = {entry["path"] for entry in manifest["files"] if entry["kind"] == "press"}
    assert len(press) == 21  # every tenth country, and the manual
    assert press.isdisjoint(json_hrefs(json.loads(files["opds.json"])))
    assert press.isdisjoint(atom_hrefs(files["catalog.xml"]))
    assert press <= set(page(files["index.html"]).links)


def test_the_schema_rejects_a_broken_feed(released):
    feed = json.loads(released[2]["opds.json"])
    broken = copy.deepcopy(feed)
    del broken["links"][0]                                           # no self link
    broken["publications"][0]["links"] = [{"rel": "alternate", "href": "index.html"}]
    broken["publications"][1]["metadata"]["language"] = "not a language"
    broken["publications"][2]["links"][0]["size"] = 0
    broken["publications"][3]["metadata"]["modified"] = "25 November 2025"
    broken["publications"][4]["metadata"]["identifier"] = "not a URI"
    broken["publications"][5]["images"][0]["href"] = "a cover.png"
    assert schema_errors(broken) == [
        ("links", "contains"),
        ("publications/0/links", "contains"),
        ("publications/1/metadata/language", "pattern"),
        ("publications/2/links/0/size", "exclusiveMinimum"),
        ("publications/3/metadata/modified", "format"),
        ("publications/4/metadata/identifier", "format"),
        ("publications/5/images/0/href", "format")]


def test_the_schema_checks_formats():
    """Without jsonschema's format extra, date-time and uri would pass unchecked."""
    checked = validator().format_checker.checkers
    assert {"date-time", "date", "uri", "uri-reference", "uri-template"} <= set(checked)


# OPDS 1.2


def test_catalog_xml_is_an_opds_1_2_acquisition_feed(released):
    dist, manifest, files = released
    feed = ET.fromstring(files["catalog.xml"])
    assert files["catalog.xml"].startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == f"{PUBLISHER}: publications"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", feed.findtext(f"{ATOM}id"))
    assert feed.findtext(f"{ATOM}updated") == "2025-11-25T08:00:00Z"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == PUBLISHER
    assert feed.find(f"{ATOM}subtitle") is None
    atom_type = "application/atom+xml;profile=opds-catalog;kind=acquisition"
    assert [(link.get("rel"), link.get("href"), link.get("type"))
            for link in feed.findall(f"{ATOM}link")] == [
        ("self", "catalog.xml", atom_type), ("start", "catalog.xml", atom_type),
        ("alternate", "opds.json", "application/opds+json"),
        ("alternate", "index.html", "text/html")]
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 194
    for entry in entries:  # RFC 4287's required elements, and OPDS's acquisitions
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}title")
        assert entry.findtext(f"{ATOM}updated") and entry.findtext(f"{ATOM}author/{ATOM}name")
        kinds = [link.get("type") for link in entry.findall(f"{ATOM}link[@rel='{OPEN_ACCESS}']")]
        assert kinds == ["application/pdf", "application/epub+zip"]


def test_an_atom_entry_says_everything_the_manifest_knows(released):
    dist, manifest, files = released
    feed = ET.fromstring(files["catalog.xml"])
    [entry] = [entry for entry in feed.findall(f"{ATOM}entry")
               if entry.findtext(f"{ATOM}title") == "The publish manual"]
    sizes = {item["path"]: str(item["bytes"]) for item in manifest["files"]}
    assert entry.findtext(f"{ATOM}id") == "urn:uuid:6f1d2c1e-4a77-4a8e-9a51-0d2f0b7c9e10"
    assert entry.findtext(f"{ATOM}updated") == "2025-10-01T10:00:00Z"
    assert entry.findtext(f"{ATOM}published") == "2025-10-01T10:00:00Z"
    assert entry.findtext(f"{DC}issued") == "2025-10-01T10:00:00Z"
    assert [author.text for author in entry.iter(f"{ATOM}name")] == ["Ada Writer", "Ben Editor"]
    assert entry.findtext(f"{DC}language") == "en"
    assert entry.findtext(f"{DC}publisher") == PUBLISHER
    assert entry.findtext(f"{ATOM}summary") == ("How to write, build and release publications "
                                                "with publish.")
    assert [category.attrib for category in entry.findall(f"{ATOM}category")] == [
        {"term": "publishing", "label": "publishing"}]
    assert [link.attrib for link in entry.findall(f"{ATOM}link")] == [
        {"rel": OPEN_ACCESS, "href": "manual/manual.pdf", "type": "application/pdf",
         "length": sizes["manual/manual.pdf"], "title": "PDF"},
        {"rel": OPEN_ACCESS, "href": "manual/manual.epub", "type": "application/epub+zip",
         "length": sizes["manual/manual.epub"], "title": "EPUB"},
        {"rel": "http://opds-spec.org/image", "href": "manual/manual.cover.png",
         "type": "image/png"},
        {"rel": "http://opds-spec.org/image/thumbnail", "href": "manual/manual.thumbnail.png",
         "type": "image/png"},
        {"rel": "alternate", "href": "index.html#manual", "type": "text/html"}]


# Every link, in all three


def test_every_link_is_relative_and_names_a_listed_file(released):
    dist, manifest, files = released
    landing = page(files["index.html"])
    assert_resolve(json_hrefs(json.loads(files["opds.json"])), dist, manifest, landing.ids)
    assert_resolve(atom_hrefs(files["catalog.xml"]), dist, manifest, landing.ids)
    assert_resolve(landing.links, dist, manifest, landing.ids)
    # Every file of the release is on the page.
    assert {entry["path"] for entry in manifest["files"]} <= set(landing.links)


def test_a_path_with_spaces_and_accents_is_percent_encoded(tmp_path):
    manifest = {"files": [], "publications": [book_publication(False)]}
    manifest["files"] = write_files(tmp_path, manifest["publications"][0], "Côte d'Ivoire",
                                    "rapport final")
    files = with_catalog(tmp_path, manifest)
    hrefs = atom_hrefs(files["catalog.xml"])
    assert "C%C3%B4te%20d%27Ivoire/rapport%20final.pdf" in hrefs
    assert_resolve(hrefs, tmp_path, manifest, ["manual"])
    assert_resolve(json_hrefs(json.loads(files["opds.json"])), tmp_path, manifest, ["manual"])


# The landing page


def test_the_landing_page_lists_every_group_in_chromium(released, tmp_path):
    dist, manifest, files = released
    url = (dist / "index.html").as_uri()
    dom = chromium(url, "--dump-dom").stdout.decode("utf-8")
    regions = sorted({f"{row['continent']} / {row['region']}" for row in countries()})
    assert len(regions) == 21
    landing = page(dom.encode())
    assert landing.scripts == 0
    assert landing.headings[0] == ("h1", f"{PUBLISHER}: publications")
    assert [text for tag, text in landing.headings if tag == "h1"] == [landing.headings[0][1]]
    assert [text for tag, text in landing.headings if tag == "h2"] == [
        "Contents", COLLECTION, "Manuals"]
    assert [text for tag, text in landing.headings if tag == "h3"] == regions
    assert dom.count('<tr id="gocindex-2025-') == 193
    assert '<html lang="en">' in dom
    assert "Kyrgyzstan: Global Organized Crime Index 2025" in dom
    assert 'alt="Cover of Kyrgyzstan: Global Organized Crime Index 2025"' in dom
    assert '<a href="SHA256SUMS" type="text/plain">SHA256SUMS</a>' in dom
    assert 'class="review"' not in dom and "Review cop" not in dom
    screenshot = tmp_path / "landing.png"
    chromium(url, f"--screenshot={screenshot}", "--window-size=1280,2000")
    with Image.open(screenshot) as image:
        assert image.size == (1280, 2000)
        # Drawn, not blank: the covers' blue is on it.
        assert (27, 74, 122) in {colour for count, colour in image.convert("RGB").getcolors(1 << 24)}


def test_the_landing_page_gives_each_file_its_size_and_hash(released):
    dist, manifest, files = released
    html = files["index.html"].decode("utf-8")
    manual = [entry for entry in manifest["files"] if entry["publication"] == "manual"]
    row = html[html.index('<tr id="manual">'):]
    row = row[:row.index("</tr>")]
    for entry in manual:
        assert entry["sha256"] in row
    press = next(entry for entry in manual if entry["kind"] == "press")
    assert (f'<a href="manual/manual.press.pdf" type="application/pdf">Press PDF</a> '
            f'<span class="meta">{human_size(press["bytes"])}</span>') in row
    assert 'Published <time datetime="2025-10-01T10:00:00Z">2025-10-01</time>' in row


def test_titles_are_text_everywhere(tmp_path):
    publication = book_publication(False)
    publication["title"] = 'Crime & <script>alert("x")</script> "markets"'
    publication["description"] = "Less < more & \x07bell"
    manifest = {"files": write_files(tmp_path, publication, "manual", "manual"),
                "publications": [publication]}
    files = with_catalog(tmp_path, manifest)
    assert json.loads(files["opds.json"])["publications"][0]["metadata"]["title"] == \
        publication["title"]
    entry = ET.fromstring(files["catalog.xml"]).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == publication["title"]
    assert entry.findtext(f"{ATOM}summary") == "Less < more & bell"
    dom = chromium((tmp_path / "index.html").as_uri(), "--dump-dom").stdout.decode("utf-8")
    assert page(dom.encode()).scripts == 0
    assert ("<strong>Crime &amp; &lt;script&gt;alert(\"x\")&lt;/script&gt; \"markets\"</strong>"
            in dom)


# Review copies


def test_review_copies_say_so_in_every_file(review):
    dist, manifest, files = review
    note = ("Review copies under embargo until 2025-11-25T09:00:00+01:00: not for "
            "distribution before then.")
    feed = json.loads(files["opds.json"])
    assert schema_errors(feed) == []
    assert feed["metadata"]["title"] == f"{PUBLISHER}: publications (review copies)"
    assert feed["metadata"]["subtitle"] == feed["metadata"]["description"] == note
    assert {publication["metadata"]["subtitle"] for publication in feed["publications"]} == {
        "Review copy under embargo until 2025-11-25T09:00:00+01:00",
        "Review copy, not the released file"}  # the manual has no embargo
    atom = ET.fromstring(files["catalog.xml"])
    assert atom.findtext(f"{ATOM}title") == f"{PUBLISHER}: publications (review copies)"
    assert atom.findtext(f"{ATOM}subtitle") == note
    html = files["index.html"].decode("utf-8")
    assert f'<p class="review" role="note">{note}</p>' in html
    assert html.count('<span class="badge">Review copy</span>') == 194
    released = catalog_files({**manifest, "publications": [
        {**item, "draft": False, "embargo": None} for item in manifest["publications"]],
        "files": [{**item, "draft": False} for item in manifest["files"]]})
    assert json.loads(released["opds.json"])["metadata"]["identifier"] != \
        feed["metadata"]["identifier"]  # the review feed is another feed


def test_several_embargoes_are_given_as_a_range(tmp_path):
    early, late = book_publication(True), book_publication(True)
    early["embargo"] = "2025-11-25T09:00:00+01:00"
    late.update(slug="later", identifier="urn:uuid:11111111-2222-4333-8444-555555555555",
                embargo="2025-12-01T00:00:00Z")
    manifest = {"files": write_files(tmp_path, late, "later", "later")
                + write_files(tmp_path, early, "manual", "manual"),
                "publications": [late, early]}
    metadata = json.loads(catalog_files(manifest)["opds.json"])["metadata"]
    assert metadata["subtitle"] == (
        "Review copies under embargo until dates from 2025-11-25T09:00:00+01:00 to "
        "2025-12-01T00:00:00Z, as each publication says: not for distribution before then.")


# Determinism


def test_the_same_manifest_in_any_order_gives_the_same_bytes(released):
    dist, manifest, files = released
    assert catalog_files(copy.deepcopy(manifest)) == files
    shuffled = copy.deepcopy(manifest)
    random.Random(14).shuffle(shuffled["files"])
    random.Random(15).shuffle(shuffled["publications"])
    assert catalog_files(shuffled) == files


# Odd manifests


def test_without_publications_the_files_are_catalogued_by_slug(released, tmp_path):
    dist, manifest, files = released
    bare = {"tool": "publish", "files": [entry for entry in manifest["files"]
                                         if entry["publication"] in ("manual", "gocindex-2025-kg")]}
    catalog = catalog_files(bare)
    feed = json.loads(catalog["opds.json"])
    assert schema_errors(feed) == []
    assert [publication["metadata"]["title"] for publication in feed["publications"]] == [
        "gocindex-2025-kg", "manual"]
    assert feed["metadata"]["title"] == "Publications"
    atom = ET.fromstring(catalog["catalog.xml"])
    assert [entry.findtext(f"{ATOM}title") for entry in atom.findall(f"{ATOM}entry")] == [
        "gocindex-2025-kg", "manual"]
    assert atom.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"  # nothing dates them
    landing = page(catalog["index.html"])
    assert [text for tag, text in landing.headings if tag == "h2"] == [
        "Contents", "Other publications"]
    assert_resolve(landing.links, dist, bare, landing.ids)


def test_a_publication_without_cover_or_group_or_description(tmp_path):
    publication = {**book_publication(False), "description": "", "group": ""}
    manifest = {"files": write_files(tmp_path, publication, "manual", "manual", ("pdf", "epub")),
                "publications": [publication]}
    files = catalog_files(manifest)
    [opds] = json.loads(files["opds.json"])["publications"]
    assert schema_errors(json.loads(files["opds.json"])) == []
    assert "images" not in opds and "description" not in opds["metadata"]
    entry = ET.fromstring(files["catalog.xml"]).find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}summary") is None
    assert "<img" not in files["index.html"].decode("utf-8")


def test_the_reports_are_linked_with_their_hashes(released):
    dist, manifest, files = released
    report = b"<!DOCTYPE html><title>Accessibility</title>"
    digest = hashlib.sha256(report).hexdigest()
    with_report = {**manifest, "reports": [{"path": "accessibility.html", "bytes": len(report),
                                            "sha256": digest}]}
    html = catalog_files(with_report)["index.html"].decode("utf-8")
    assert (f'<a href="accessibility.html">accessibility.html</a> (43 bytes, SHA-256 '
            f'<code>{digest}</code>)') in html
    # The feeds are for reading apps: the reports are not in them.
    assert catalog_files(with_report)["opds.json"] == files["opds.json"]


def test_an_empty_release_is_still_a_valid_catalog():
    files = catalog_files({"tool": "publish", "files": []})
    feed = json.loads(files["opds.json"])
    assert schema_errors(feed) == []
    assert feed["navigation"] == [{"href": "index.html", "type": "text/html",
                                   "title": "Publications"}]
    assert ET.fromstring(files["catalog.xml"]).find(f"{ATOM}entry") is None
    assert "0 publications." in files["index.html"].decode("utf-8")


def test_an_unreadable_date_is_an_error_naming_the_publication(tmp_path):
    publication = {**book_publication(False), "published": "1 October 2025"}
    manifest = {"files": write_files(tmp_path, publication, "manual", "manual"),
                "publications": [publication]}
    with pytest.raises(CatalogError, match="^publication 'manual': '1 October 2025' is not an "
                                           "ISO 8601 date-time with a UTC offset$"):
        catalog_files(manifest)


def test_an_unreadable_embargo_is_an_error_naming_the_publication(tmp_path):
    publication = {**book_publication(True), "embargo": "2025-11-25"}
    manifest = {"files": write_files(tmp_path, publication, "manual", "manual"),
                "publications": [publication]}
    with pytest.raises(CatalogError, match="^publication 'manual': '2025-11-25' is a date "
                                           "alone; give the time and its UTC offset$"):
        catalog_files(manifest)


def test_two_different_descriptions_of_one_publication_are_refused(tmp_path):
    publication = book_publication(False)
    manifest = {"files": write_files(tmp_path, publication, "manual", "manual"),
                "publications": [publication, {**publication, "title": "Another"}]}
    with pytest.raises(CatalogError, match="describes publication 'manual' twice"):
        catalog_files(manifest)
    manifest["publications"][1] = dict(publication)  # the same, twice: two shards agreeing
    assert catalog_files(manifest)


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1.0 kB"), (81_234, "81 kB"),
    (999_499, "999 kB"), (999_999, "1.0 MB"), (1_234_567, "1.2 MB"), (9_999_999, "10 MB"),
    (12_345_678, "12 MB"),
    (3_400_000_000, "3.4 GB")])
def test_human_sizes(size, text):
    assert human_size(size) == text


def test_the_catalog_names_the_sums_as_the_release_writes_them():
    # dist.py owns the name; the catalog keeps a copy, as dist.py is to import the catalog.
    assert CATALOG_SUMS == SUMS
