"""The rules of PDF/UA-1 that a machine can check, checked on a PDF's bytes.

veraPDF, the checker publishers use, cannot be had on the machines publish runs on, so these
are the checks it would make that matter for what publish renders, each named after the
rule it proves (and the Matterhorn Protocol checkpoints it covers):

- ``tagged``: the catalog says the document is marked and holds a structure tree.
- ``content``: every piece of content on every page (text, paths, images) is inside an
  artifact, or inside marked content that the structure tree reaches (01-005). WeasyPrint
  leaves margin boxes out of the tree; :func:`publish.core.pdf.mark_pagination` makes them
  artifacts.
- ``roles``: every structure type is a standard one, or role-mapped to one (02-001).
- ``headings``: the first heading is H1 and none skips a level going down (14-002, 14-003).
- ``figures``: every Figure has alternative text (13-004).
- ``tables``: every table has header cells, and its data cells are tied to them, by Headers
  or by the header cells' Scope (15-003).
- ``language``: the catalog gives the document's language (11-006).
- ``title``: the metadata hold a title, and the viewer shows it instead of the file's name
  (06-003, 07-001, 07-002).
- ``fonts``: every font is embedded and maps its glyphs to Unicode.
- ``identifier``: the XMP metadata say PDF/UA-1 (06-002).

The checks read the PDF with pikepdf, in the process that verifies it: about 0.1 s for the
profile's seven pages. :func:`tagged_text` reads the text in the structure tree's order, as
a screen reader would.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pikepdf

RULES = ("tagged", "content", "roles", "headings", "figures", "tables", "language", "title",
         "fonts", "identifier")

# The standard structure types of PDF 1.7 (ISO 32000-1, 14.8.4).
STANDARD_ROLES = frozenset("""
Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private
P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot
Span Quote Note Reference BibEntry Code Link Annot Ruby RB RT RP Warichu WT WP
Figure Formula Form""".split())

# Operators that put something on the page: text, painted paths, images, shadings.
PAINTING = ("Tj", "TJ", "'", '"', "f", "F", "f*", "S", "s", "B", "B*", "b", "b*", "sh", "BI")
# What the scan of a content stream asks pikepdf for: the rest stays in C++.
SCANNED = " ".join(("BDC", "BMC", "EMC", "Do", *PAINTING))


@dataclass(frozen=True)
class Breach:
    """A rule the PDF breaks, and where."""
    rule: str
    message: str


def check_pdfua(pdf: pikepdf.Pdf) -> list[Breach]:
    """Every breach of the rules above in an open PDF; none for a PDF that keeps them."""
    root = pdf.Root
    tree = root.get("/StructTreeRoot")
    marked = root.get("/MarkInfo", {}).get("/Marked", False)
    if tree is None or not marked:
        return [Breach("tagged", "the PDF is not tagged: no structure tree, or MarkInfo does "
                                 "not say /Marked true")]
    role_map = _role_map(tree)
    elements = list(_walk(tree, role_map))
    return [*_content_breaches(pdf, elements), *_role_breaches(elements),
            *_heading_breaches(elements), *_figure_breaches(pdf, elements),
            *_table_breaches(elements, role_map), *_document_breaches(pdf)]


# Roles that only group or mark up text within a block: tagged_text names the block.
INLINE_ROLES = frozenset({"Span", "NonStruct", "Link", "Quote", "Code", "Reference", "Note",
                          "Div", "LBody"})


@dataclass(frozen=True)
class _Element:
    """A structure element met walking the tree in its order: its role (and the standard
    role it maps to), its kids, its page, and the role of the block it is in (itself, or its
    nearest ancestor whose role is not inline). Each is read once: the checks run on every
    PDF built, and a factsheet has some 1,100 elements."""
    node: pikepdf.Dictionary
    role: str
    standard: str
    kids: list
    page: pikepdf.Object | None
    block: str


def _walk(tree: pikepdf.Dictionary, role_map: dict[str, str]):
    """The structure elements in the tree's order (depth first, kids in order)."""
    pending = [(kid, None, "") for kid in reversed(_kids(tree))]
    seen = set()
    while pending:
        node, page, block = pending.pop()
        if not isinstance(node, pikepdf.Dictionary) or "/S" not in node:
            continue
        if node.objgen != (0, 0):
            if node.objgen in seen:  # a tree that loops is walked once
                continue
            seen.add(node.objgen)
        role = str(node.S).lstrip("/")
        standard = _standard(role, role_map)
        kids = _kids(node)
        element = _Element(node, role, standard, kids, node.get("/Pg", page),
                           block if standard in INLINE_ROLES else standard)
        yield element
        pending.extend((kid, element.page, element.block) for kid in reversed(kids))


def _role_map(tree: pikepdf.Dictionary) -> dict[str, str]:
    return {str(key).lstrip("/"): str(value).lstrip("/")
            for key, value in tree.get("/RoleMap", {}).items()}


def _standard(role: str, role_map: dict[str, str]) -> str:
    """The standard role a role maps to (itself if it is one; 16 hops at most, for a map
    that loops)."""
    for _ in range(16):
        if role in STANDARD_ROLES or role not in role_map:
            break
        role = role_map[role]
    return role


def _kids(node: pikepdf.Dictionary) -> list:
    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _marked_in_tree(elements: list[_Element]) -> set[tuple[tuple[int, int], int]]:
    """(page, MCID) of every marked-content sequence the tree reaches."""
    found = set()
    for element in elements:
        for kid in element.kids:
            if isinstance(kid, int) and element.page is not None:
                found.add((element.page.objgen, int(kid)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                page = kid.get("/Pg", element.page)
                if page is not None:
                    found.add((page.objgen, int(kid.MCID)))
    return found


def _content_breaches(pdf: pikepdf.Pdf, elements: list[_Element]) -> list[Breach]:
    in_tree = _marked_in_tree(elements)
    breaches = []
    for number, page in enumerate(pdf.pages, start=1):
        counts = {"outside": 0, "untagged": 0}
        _scan(page, page.obj, page.obj.objgen, in_tree, [], counts, set())
        if counts["outside"] or counts["untagged"]:
            breaches.append(Breach("content", f"page {number}: {counts['outside']} pieces of "
                                              "content neither tagged nor an artifact, in "
                                              f"{counts['untagged']} marked-content sequences "
                                              "that the structure tree does not reach"))
    return breaches


def _scan(content, owner, page: tuple[int, int], in_tree, stack: list[bool], counts: dict,
          forms: set) -> None:
    """Count, in a content stream (and the forms it draws), what is painted outside any
    artifact or reached marked content. `stack`: for each open marked-content sequence,
    whether it or one around it covers what it holds (an artifact, or tagged content the
    tree reaches). `owner`: the page or form whose resources the stream names."""
    resources = owner.get("/Resources", {})
    for operands, operator in pikepdf.parse_content_stream(content, SCANNED):
        name = str(operator)
        if name in ("BDC", "BMC"):
            covered = _covers(operands, page, in_tree)
            if covered is None:
                counts["untagged"] += 1
            stack.append(bool(covered) or bool(stack and stack[-1]))
        elif name == "EMC":
            if stack:
                stack.pop()
        elif stack and stack[-1]:
            continue
        elif name != "Do":
            counts["outside"] += 1
        else:
            thing = resources.get("/XObject", {}).get(operands[0])
            if thing is None:
                continue
            if thing.get("/Subtype") == "/Form" and thing.objgen not in forms:
                _scan(thing, thing, page, in_tree, stack, counts, forms | {thing.objgen})
            elif thing.get("/Subtype") == "/Image":
                counts["outside"] += 1


def _covers(operands, page, in_tree) -> bool | None:
    """Whether a marked-content sequence covers its content: True for an artifact or tagged
    content the tree reaches, None for tagged content it does not reach, False for a
    sequence that says neither (a BMC with another tag: its content needs an outer cover)."""
    tag = str(operands[0])
    if tag == "/Artifact":
        return True
    properties = operands[1] if len(operands) > 1 else None
    if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
        return True if (page, int(properties.MCID)) in in_tree else None
    return False


def _role_breaches(elements: list[_Element]) -> list[Breach]:
    unknown = {element.role for element in elements if element.standard not in STANDARD_ROLES}
    return [Breach("roles", f"structure type /{role} is neither standard nor role-mapped "
                            "to a standard type") for role in sorted(unknown)]


def _heading_breaches(elements: list[_Element]) -> list[Breach]:
    levels = [int(e.standard[1]) for e in elements if re.fullmatch(r"H[1-6]", e.standard)]
    breaches = []
    if levels and levels[0] != 1:
        breaches.append(Breach("headings", f"the first heading is H{levels[0]}, not H1"))
    for before, after in itertools.pairwise(levels):
        if after > before + 1:
            breaches.append(Breach("headings", f"H{after} follows H{before}: a heading level "
                                               "is skipped"))
    return breaches


def _figure_breaches(pdf: pikepdf.Pdf, elements: list[_Element]) -> list[Breach]:
    numbers = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    pages = sorted({numbers.get(e.page.objgen if e.page is not None else None, 0)
                    for e in elements if e.standard == "Figure"
                    and not str(e.node.get("/Alt", "")).strip()
                    and not str(e.node.get("/ActualText", "")).strip()})
    return [Breach("figures", f"a Figure on page {page} has no alternative text (an <img> "
                              "without alt, an <svg> without <title>)") for page in pages]


def _table_breaches(elements: list[_Element], role_map: dict[str, str]) -> list[Breach]:
    breaches = []
    tables = (e for e in elements if e.standard == "Table")
    for number, table in enumerate(tables, start=1):
        cells = [e for e in _walk(table.node, role_map) if e.standard in ("TH", "TD")]
        headers = [c for c in cells if c.standard == "TH"]
        if not headers:
            breaches.append(Breach("tables", f"table {number} has no header cell (TH)"))
            continue
        scoped = all("/Scope" in _attributes(c) for c in headers)
        loose = sum(1 for c in cells if c.standard == "TD"
                    and not len(_attributes(c).get("/Headers", ())))
        if loose and not scoped:
            breaches.append(Breach("tables", f"table {number}: {loose} data cell(s) tied to "
                                             "no header, by Headers or by a header's Scope"))
    return breaches


def _attributes(element: _Element) -> dict:
    """A table cell's attributes (an /A dictionary, or an array of them, owner /Table)."""
    owned = element.node.get("/A")
    found = {}
    for attributes in (owned if isinstance(owned, pikepdf.Array) else [owned]):
        if isinstance(attributes, pikepdf.Dictionary):
            found.update({str(key): value for key, value in attributes.items()})
    return found


def _document_breaches(pdf: pikepdf.Pdf) -> list[Breach]:
    root, breaches = pdf.Root, []
    if not str(root.get("/Lang", "")).strip():
        breaches.append(Breach("language", "the catalog gives no /Lang"))
    xmp = _xmp(pdf)
    if not str(pdf.docinfo.get("/Title", "")).strip() or "<dc:title>" not in xmp:
        breaches.append(Breach("title", "no title in the document information and the XMP "
                                        "metadata"))
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        breaches.append(Breach("title", "the viewer is not told to show the title "
                                        "(ViewerPreferences /DisplayDocTitle true)"))
    if not re.search(r'pdfuaid:part(="1"|>1<)', xmp):
        breaches.append(Breach("identifier", "the XMP metadata do not say PDF/UA-1 "
                                             "(pdfuaid:part 1)"))
    breaches += [Breach("fonts", message) for message in _font_problems(pdf)]
    return breaches


def _xmp(pdf: pikepdf.Pdf) -> str:
    metadata = pdf.Root.get("/Metadata")
    return metadata.read_bytes().decode("utf-8", "replace") if metadata is not None else ""


def _font_problems(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    for font in _fonts(pdf):
        name = str(font.get("/BaseFont", "(unnamed)")).lstrip("/")
        subtype = font.get("/Subtype")
        if subtype == "/Type3":
            if "/ToUnicode" not in font:
                problems.append(f"font {name} maps no glyph to Unicode (no /ToUnicode)")
            continue
        described = font.DescendantFonts[0] if subtype == "/Type0" else font
        descriptor = described.get("/FontDescriptor", {})
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"font {name} is not embedded")
        if "/ToUnicode" not in font:
            problems.append(f"font {name} maps no glyph to Unicode (no /ToUnicode)")
    return problems


def _fonts(pdf: pikepdf.Pdf):
    """The fonts that content uses directly (not a Type0 font's descendant)."""
    for thing in pdf.objects:
        if isinstance(thing, pikepdf.Dictionary) and thing.get("/Type") == "/Font" \
                and thing.get("/Subtype") not in ("/CIDFontType0", "/CIDFontType2"):
            yield thing


# Reading the text in the tree's order ---------------------------------------------------

def tagged_text(pdf: pikepdf.Pdf) -> list[tuple[str, str]]:
    """The text of the document as the structure tree orders it: for each element that holds
    marked content with text directly, the role of its block (a paragraph, a heading, a list
    item's label, a table cell) and its text. Artifacts are not in it: that is what a screen
    reader reads."""
    texts = _text_by_mcid(pdf)
    tree = pdf.Root.StructTreeRoot
    role_map = _role_map(tree)
    read = []
    for element in _walk(tree, role_map):
        parts = []
        for kid in element.kids:
            if isinstance(kid, int) and element.page is not None:
                parts.append(texts.get((element.page.objgen, int(kid)), ""))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                page = kid.get("/Pg", element.page)
                parts.append(texts.get((page.objgen, int(kid.MCID)), ""))
        if "".join(parts).strip():
            read.append((element.block, "".join(parts)))
    return read


def _text_by_mcid(pdf: pikepdf.Pdf) -> dict[tuple[tuple[int, int], int], str]:
    texts: dict = {}
    for page in pdf.pages:
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        maps = {}
        current, mcids = None, []
        for operands, operator in pikepdf.parse_content_stream(page):
            name = str(operator)
            if name == "BDC":
                properties = operands[1]
                mcid = properties.get("/MCID") if isinstance(properties,
                                                             pikepdf.Dictionary) else None
                mcids.append(None if mcid is None else int(mcid))
            elif name == "BMC":
                mcids.append(None)
            elif name == "EMC" and mcids:
                mcids.pop()
            elif name == "Tf":
                key = str(operands[0])
                if key not in maps:
                    maps[key] = _unicode_map(fonts.get(operands[0]))
                current = maps[key]
            elif name in ("Tj", "TJ", "'", '"') and current is not None:
                mcid = next((m for m in reversed(mcids) if m is not None), None)
                if mcid is None:
                    continue
                strings = operands[-1] if name == "TJ" else [operands[-1]]
                text = "".join(_decode(bytes(s), current) for s in strings
                               if isinstance(s, pikepdf.String))
                key = (page.obj.objgen, mcid)
                texts[key] = texts.get(key, "") + text
    return texts


def _unicode_map(font) -> tuple[int, dict[bytes, str]]:
    """A font's ToUnicode CMap: the length of its codes and what each code reads as."""
    if font is None or "/ToUnicode" not in font:
        return 1, {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    space = re.search(r"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap)
    width = len(space.group(1)) // 2 if space else 1
    mapping: dict[bytes, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[bytes.fromhex(code)] = _utf16(text)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                          block):
            start, end, base = int(low, 16), int(high, 16), int(text, 16)
            for offset in range(end - start + 1):
                mapping[(start + offset).to_bytes(width, "big")] = chr(base + offset)
    return width, mapping


def _utf16(hexadecimal: str) -> str:
    return bytes.fromhex(hexadecimal).decode("utf-16-be", "replace")


def _decode(data: bytes, font: tuple[int, dict[bytes, str]]) -> str:
    width, mapping = font
    return "".join(mapping.get(data[i:i + width], "") for i in range(0, len(data), width))
