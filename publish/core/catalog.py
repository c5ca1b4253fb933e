"""The catalog of a dist/ folder: an OPDS 2.0 feed (opds.json), an OPDS 1.2 Atom feed
(catalog.xml) and a landing page (index.html), written at dist/'s root beside manifest.json.

All three come from the manifest alone, so that merging dist/ shards gives one catalog of
everything, and the same manifest gives the same bytes: no clock, no locale, every list in an
order of its own, whatever order the manifest lists things in. Every link is relative to
dist/, so that the folder can be served from anywhere.

Press-ready PDFs (kind "press", PDF/X-4 for printers) are on the landing page but not in the
feeds: a reading app offered two PDFs picks one by its type alone, and the press file (bleed,
crop marks, print colour) is the wrong one to read.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

from .clock import InstantError, parse_instant, utc_text

OPDS_JSON, ATOM, LANDING = "opds.json", "catalog.xml", "index.html"
CATALOG = (OPDS_JSON, ATOM, LANDING)  # the files catalog_files makes, at dist/'s root
# The manifest's record of what made its catalog (catalog_maker()): a run whose manifest says
# the same as dist/'s, this included, may take dist/'s catalog as it is.
CATALOG_MAKER = "catalog_maker"
SUMS = "SHA256SUMS"   # dist.py's name for it; not imported, as dist.py will import this module
OPDS_JSON_TYPE = "application/opds+json"
ATOM_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
BOOK = "http://schema.org/Book"

# What each kind of file is: its media type, its name on the landing page, and whether a
# reading app is offered it in the feeds. The landing page lists files in this order.
KINDS = {
    "pdf": ("application/pdf", "PDF", True),
    "epub": ("application/epub+zip", "EPUB", True),
    "press": ("application/pdf", "Press PDF", False),
    "cover": ("image/png", "Cover image", False),
    "thumbnail": ("image/png", "Thumbnail", False),
}
OTHER_KIND = ("application/octet-stream", None, False)
# Where nothing in the manifest dates a publication: Atom requires a date, the clock may not
# give it.
NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)
# The namespace of the identifiers made up for publications and feeds that have none.
NAMESPACE = uuid.UUID("5b0c0a2e-53a9-4f55-9f0a-3c6d1d0e8f41")
TEMPLATES = Path(__file__).parent
ATOM_TEMPLATE, LANDING_TEMPLATE = "catalog_atom.xml", "catalog_landing.html"
TEMPLATE_NAMES = (ATOM_TEMPLATE, LANDING_TEMPLATE)


@cache
def catalog_maker() -> str:
    """What makes the catalog, as a digest: this module, its templates, and Jinja's version."""
    # Jinja's version from its metadata, not Jinja: a run that keeps its catalog needs no Jinja.
    from importlib.metadata import version
    digest = hashlib.sha256(version("jinja2").encode())
    for path in sorted([Path(__file__), *TEMPLATES.glob("catalog_*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


class CatalogError(ValueError):
    """The manifest cannot be catalogued (an unreadable date, two different descriptions of
    one publication): a bug in what wrote it, not in the content."""


@dataclass(frozen=True)
class File:
    path: str
    kind: str
    size: int
    sha256: str
    draft: bool
    embargo: str | None

    @property
    def href(self) -> str:
        """The file's URL relative to dist/: its path, percent-encoded."""
        return quote(self.path, safe="/")

    @property
    def media_type(self) -> str:
        return KINDS.get(self.kind, OTHER_KIND)[0]

    @property
    def label(self) -> str:
        return KINDS.get(self.kind, OTHER_KIND)[1] or self.kind

    @property
    def for_readers(self) -> bool:
        return KINDS.get(self.kind, OTHER_KIND)[2]

    @property
    def human_size(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True)
class Entry:
    """One publication as the catalog shows it: its metadata, and its files in dist/."""
    slug: str
    title: str
    identifier: str
    language: str | None
    authors: tuple[str, ...]
    publisher: str | None
    description: str
    subjects: tuple[str, ...]
    published: datetime | None
    kind: str
    variant: str
    collection: str
    group: str
    draft: bool
    embargo: str | None
    files: tuple[File, ...]
    # An image's size in pixels by its kind (cover, thumbnail), where the manifest gives it.
    image_sizes: tuple[tuple[str, int, int], ...] = ()

    def file(self, kind: str) -> File | None:
        return next((file for file in self.files if file.kind == kind), None)

    @property
    def acquisitions(self) -> tuple[File, ...]:
        return tuple(file for file in self.files if file.for_readers)

    @property
    def images(self) -> tuple[File, ...]:
        # The cover first, as in the OPDS 2.0 specification's example: the largest image.
        return tuple(file for file in (self.file("cover"), self.file("thumbnail")) if file)

    @property
    def updated(self) -> datetime:
        """When the entry last changed, as far as the manifest says: when it was published,
        else when its embargo lifts."""
        if self.published is not None:
            return self.published
        if self.embargo is not None:
            return _instant(self.embargo, self.slug)
        return NO_DATE

    @property
    def review_note(self) -> str | None:
        if not self.draft:
            return None
        if self.embargo:
            return f"Review copy under embargo until {self.embargo}"
        return "Review copy, not the released file"

    @property
    def sort_key(self) -> tuple:
        return (self.title.casefold(), self.title, self.variant, self.slug)


@dataclass(frozen=True)
class Group:
    name: str
    anchor: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Collection:
    name: str
    anchor: str
    groups: tuple[Group, ...]

    @property
    def count(self) -> int:
        return sum(len(group.entries) for group in self.groups)


@dataclass(frozen=True)
class Catalog:
    """What the three files say, read once from the manifest."""
    title: str
    identifier: str
    entries: tuple[Entry, ...]
    collections: tuple[Collection, ...]
    publisher: str | None
    review_note: str | None
    updated: datetime
    version: str | None
    source_commit: str | None
    dirty: bool | None
    reports: tuple[File, ...]


def catalog_files(manifest: dict) -> dict[str, bytes]:
    """The catalog of the dist/ folder that `manifest` describes: file name -> its bytes."""
    catalog = _read_catalog(manifest)
    environment = _environment()
    return {
        OPDS_JSON: _opds_json(catalog),
        ATOM: environment.get_template(ATOM_TEMPLATE).render(
            catalog=catalog, names=_names()).encode("utf-8"),
        LANDING: environment.get_template(LANDING_TEMPLATE).render(
            catalog=catalog, names=_names()).encode("utf-8"),
    }


# Reading the manifest


def _read_catalog(manifest: dict) -> Catalog:
    files_by_slug: dict[str, list[File]] = {}
    for item in manifest.get("files") or []:
        files_by_slug.setdefault(item.get("publication") or "", []).append(_file(item))
    described = _publications(manifest.get("publications") or [])
    entries = sorted((_entry(slug, described.get(slug, {}), files)
                      for slug, files in files_by_slug.items()),
                     key=lambda entry: entry.sort_key)
    collections = _collections(entries)
    publishers = {entry.publisher for entry in entries if entry.publisher}
    publisher = publishers.pop() if len(publishers) == 1 else None
    review_note = _review_note(entries)
    base = _title(collections, publisher)
    reports = sorted((_file({**item, "kind": "report"}) for item in manifest.get("reports") or []),
                     key=lambda file: file.path)
    return Catalog(
        title=f"{base} (review copies)" if review_note else base,
        identifier=_feed_identifier(entries, review_note is not None),
        entries=tuple(entries), collections=collections, publisher=publisher,
        review_note=review_note,
        updated=max((entry.updated for entry in entries), default=NO_DATE),
        version=manifest.get("version"), source_commit=manifest.get("source_commit"),
        dirty=manifest.get("dirty"), reports=tuple(reports))


def _file(item: dict) -> File:
    return File(path=item["path"], kind=item.get("kind") or "", size=int(item.get("bytes") or 0),
                sha256=item.get("sha256") or "", draft=bool(item.get("draft")),
                embargo=item.get("embargo") or None)


def _publications(items: list[dict]) -> dict[str, dict]:
    """The manifest's publications by slug. Merged shards may each list one publication:
    that is fine as long as they describe it the same way."""
    by_slug: dict[str, dict] = {}
    for item in items:
        slug = item.get("slug") or ""
        if slug in by_slug and by_slug[slug] != item:
            raise CatalogError(f"the manifest describes publication {slug!r} twice, differently")
        by_slug[slug] = item
    return by_slug


def _entry(slug: str, item: dict, files: list[File]) -> Entry:
    """A publication from its description (empty where the manifest has none: its slug is its
    title) and its files."""
    files = sorted(files, key=lambda file: (_kind_order(file.kind), file.path))
    embargoes = sorted({file.embargo for file in files if file.embargo},
                       key=lambda text: (_instant(text, slug), text))
    published = item.get("published")
    embargo = item.get("embargo") or (embargoes[-1] if embargoes else None)
    if embargo is not None:
        _instant(embargo, slug)  # readable, or the error names the publication
    return Entry(
        slug=slug, title=item.get("title") or slug or "(no publication)",
        identifier=item.get("identifier") or f"urn:uuid:{uuid.uuid5(NAMESPACE, slug)}",
        language=item.get("language") or None,
        authors=tuple(item.get("authors") or ()), publisher=item.get("publisher") or None,
        description=item.get("description") or "", subjects=tuple(item.get("subjects") or ()),
        published=_instant(published, slug) if published else None,
        kind=item.get("kind") or "", variant=item.get("variant") or "",
        collection=item.get("collection") or "", group=item.get("group") or "",
        draft=bool(item.get("draft")) or any(file.draft for file in files),
        embargo=embargo,
        files=tuple(files), image_sizes=_image_sizes(item.get("images")))


def _image_sizes(images) -> tuple[tuple[str, int, int], ...]:
    """(kind, width, height) of each image the manifest sizes: {"cover": [1200, 1800]}."""
    if not isinstance(images, dict):
        return ()
    return tuple((kind, size[0], size[1]) for kind, size in sorted(images.items())
                 if isinstance(size, list) and len(size) == 2
                 and all(isinstance(n, int) and n > 0 for n in size))


def _kind_order(kind: str) -> tuple[int, str]:
    order = list(KINDS)
    return (order.index(kind), "") if kind in order else (len(order), kind)


def _instant(text: str, slug: str) -> datetime:
    try:
        return parse_instant(text).astimezone(UTC)
    except InstantError as error:
        raise CatalogError(f"publication {slug!r}: {error}") from None


def _collections(entries: list[Entry]) -> tuple[Collection, ...]:
    """Entries by collection, then by group (a region of the Index), each in name order; the
    anchors are numbered in that order, so they depend on the names alone."""
    names = sorted({entry.collection for entry in entries}, key=_name_key)
    collections = []
    for number, name in enumerate(names, start=1):
        members = [entry for entry in entries if entry.collection == name]
        group_names = sorted({entry.group for entry in members}, key=_name_key)
        groups = tuple(
            Group(group, f"collection-{number}-group-{index}",
                  tuple(entry for entry in members if entry.group == group))
            for index, group in enumerate(group_names, start=1))
        collections.append(Collection(name, f"collection-{number}", groups))
    return tuple(collections)


def _name_key(name: str) -> tuple:
    # The unnamed collection or group last; casefold is Unicode's, not the locale's.
    return (name == "", name.casefold(), name)


def _title(collections: tuple[Collection, ...], publisher: str | None) -> str:
    named = [collection.name for collection in collections if collection.name]
    if len(named) == 1 and len(collections) == 1:
        return named[0]
    if publisher:
        return f"{publisher}: publications"
    return "Publications"


def _review_note(entries: list[Entry]) -> str | None:
    """What the feeds and the page say when any file is a review copy; None when none is."""
    drafts = [entry for entry in entries if entry.draft]
    if not drafts:
        return None
    embargoes = sorted({entry.embargo for entry in drafts if entry.embargo},
                       key=lambda text: (parse_instant(text), text))  # each read by _entry
    if not embargoes:
        return "Review copies, not the released files: not for distribution."
    if len(embargoes) == 1:
        return (f"Review copies under embargo until {embargoes[0]}: "
                "not for distribution before then.")
    return (f"Review copies under embargo until dates from {embargoes[0]} to {embargoes[-1]}, "
            "as each publication says: not for distribution before then.")


def _feed_identifier(entries: list[Entry], drafts: bool) -> str:
    """An id that stays the same while the catalog covers the same collections, however many
    publications they hold (a feed's Atom id is permanent): from the collections' names, else
    from dist/'s top folders. The review copies' feed is a different feed."""
    names = sorted({entry.collection for entry in entries if entry.collection})
    if not names:
        names = sorted({file.path.split("/")[0] for entry in entries for file in entry.files})
    key = "\n".join(["review" if drafts else "release", *names])
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, key)}"


# Writing


def human_size(size: int) -> str:
    """A size as people read it, in SI units: "812 bytes", "81 kB", "1.2 MB", "12 MB"."""
    if size < 1000:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    units = ("kB", "MB", "GB", "TB")
    for unit in units:
        value /= 1000
        shown = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
        # 999,999 bytes read "1.0 MB", not "1000 kB".
        if float(shown) < 1000 or unit == units[-1]:
            return f"{shown} {unit}"
    raise AssertionError("unreachable: the last unit returns")


def _names() -> dict:
    return {"opds_json": OPDS_JSON, "atom": ATOM, "landing": LANDING, "sums": SUMS,
            "opds_json_type": OPDS_JSON_TYPE, "atom_type": ATOM_TYPE, "open_access": OPEN_ACCESS}


def prepare() -> None:
    """Compile the catalog's templates, and digest what makes it, ahead of need: the process
    that places a one-off build's outputs does it while the PDF renders elsewhere."""
    catalog_maker()
    for name in TEMPLATE_NAMES:
        _environment().get_template(name)


@cache  # one environment a process, which keeps the templates it has compiled
def _environment():
    import jinja2
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    environment.filters["utc"] = utc_text
    environment.filters["xml_text"] = _xml_text
    return environment


def _xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (control characters), which content may
    hold but no feed reader could parse."""
    return "".join(character for character in str(text)
                   if character in "\t\n\r" or not (ord(character) < 0x20
                                                    or 0xFFFE <= ord(character) <= 0xFFFF
                                                    or 0xD800 <= ord(character) <= 0xDFFF))


def _opds_json(catalog: Catalog) -> bytes:
    feed: dict = {"metadata": _feed_metadata(catalog), "links": [
        {"rel": "self", "href": OPDS_JSON, "type": OPDS_JSON_TYPE},
        {"rel": "alternate", "href": ATOM, "type": ATOM_TYPE},
        {"rel": "alternate", "href": LANDING, "type": "text/html"},
    ]}
    publications = [_opds_publication(entry) for entry in catalog.entries if entry.acquisitions]
    if publications:
        # One flat list rather than "groups": every OPDS 2.0 client lists a feed's
        # publications, while clients show groups as short carousels meant to link to a
        # feed of their own, which a single file cannot offer.
        feed["publications"] = publications
    else:
        # A feed needs publications, navigation or groups: with nothing to read, the page.
        feed["navigation"] = [{"href": LANDING, "type": "text/html", "title": catalog.title}]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _feed_metadata(catalog: Catalog) -> dict:
    metadata: dict = {"title": catalog.title, "identifier": catalog.identifier,
                      "modified": utc_text(catalog.updated),
                      "numberOfItems": sum(1 for entry in catalog.entries if entry.acquisitions)}
    if catalog.review_note:
        metadata["subtitle"] = catalog.review_note
        metadata["description"] = catalog.review_note
    return metadata


def _opds_link(rel: str, file: File) -> dict:
    link: dict = {"rel": rel, "href": file.href, "type": file.media_type}
    if file.size > 0:  # the schema's size is a positive integer
        link["size"] = file.size
    return link


def _opds_publication(entry: Entry) -> dict:
    metadata: dict = {"@type": BOOK, "title": entry.title, "identifier": entry.identifier}
    if entry.draft:
        metadata["subtitle"] = entry.review_note
    if entry.language:
        metadata["language"] = entry.language
    if entry.authors:
        metadata["author"] = entry.authors[0] if len(entry.authors) == 1 else list(entry.authors)
    if entry.publisher:
        metadata["publisher"] = entry.publisher
    if entry.description:
        metadata["description"] = entry.description
    if entry.subjects:
        metadata["subject"] = list(entry.subjects)
    if entry.published is not None:
        metadata["published"] = utc_text(entry.published)
    metadata["modified"] = utc_text(entry.updated)
    if entry.collection:
        metadata["belongsTo"] = {"collection": entry.collection}
    publication: dict = {"metadata": metadata, "links": [
        _opds_link(OPEN_ACCESS, file) for file in entry.acquisitions]}
    publication["links"].append({"rel": "alternate", "href": f"{LANDING}#{quote(entry.slug)}",
                                 "type": "text/html"})
    if entry.images:
        # Width and height where the manifest gives them, so that an app picks the image
        # the size it shows; never guessed.
        sizes = {kind: (width, height) for kind, width, height in entry.image_sizes}
        publication["images"] = [
            {"href": file.href, "type": file.media_type,
             **({"width": sizes[file.kind][0], "height": sizes[file.kind][1]}
                if file.kind in sizes else {})}
            for file in entry.images]
    return publication
