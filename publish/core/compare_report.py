"""The report of a comparison: a folder a reviewer opens in a browser (index.html and the page
images beside it), that needs nothing else: no script, no font or stylesheet from elsewhere.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2

from .compare import Comparison, PageChange

TEMPLATE = "compare_report.html"
INDEX = "index.html"
# Where the comparison's page images go, inside the report's folder.
IMAGES = "pages"


def write_report(comparison: Comparison, folder: Path) -> Path:
    """Write the report of `comparison`, whose images are already under folder/pages/, to
    folder/index.html; its path."""
    folder = Path(folder)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def relative(path: Path | None) -> str | None:
        # Links relative to index.html, so that the folder can be zipped and moved.
        return None if path is None else Path(os.path.relpath(path, folder)).as_posix()

    environment.filters["relative"] = relative
    environment.filters["percent"] = _percent
    html = environment.get_template(TEMPLATE).render(
        comparison=comparison, changed=comparison.having("changed"),
        added=comparison.having("added"), removed=comparison.having("removed"),
        unchanged=comparison.having("unchanged"), page_label=_page_label)
    index = folder / INDEX
    index.write_text(html, encoding="utf-8")
    return index


def _percent(share: float) -> str:
    """A share of a page's pixels, readable at any size: a word is well under 1%."""
    if share >= 0.995:
        return "the whole page"
    if share < 0.001:
        return "under 0.1% of the page"
    return f"{share:.1%} of the page"


def _page_label(change: PageChange) -> str:
    if change.before is None:
        return f"Page {change.page}: a new page"
    if change.after is None:
        return f"Page {change.page}: no longer there"
    return f"Page {change.page}: {_percent(change.share)} changed"


def prepare_folder(folder: Path) -> bool:
    """Whether the report may be written to `folder`: new, empty, or an earlier report,
    whose page images are then removed (they would be mixed with this comparison's)."""
    if not folder.exists():
        folder.mkdir(parents=True)
        return True
    if not folder.is_dir():
        return False
    present = {path.name for path in folder.iterdir()}
    if not present <= {INDEX, IMAGES}:
        return False
    shutil.rmtree(folder / IMAGES, ignore_errors=True)
    return True
