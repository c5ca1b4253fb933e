"""Writing the PDF: WeasyPrint renders the print document, and every message it logs counts.

WeasyPrint reports trouble by logging, not raising: a missing image, a CSS error, a layout
that dropped content ("No anchor"). Rendering collects what it logs; errors always fail the
build, and warnings fail it in strict mode.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from .fetch import ProjectFetcher, RefusedURL
from .problems import ContentError, Problem

PDF_OPTIONS = {
    "pdf_variant": "pdf/ua-1",
    "pdf_identifier": None,       # set per publication, so the same input gives the same bytes
    "optimize_images": True,
}


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def renderer_messages():
    """Collect what WeasyPrint logs while rendering."""
    handler = _Collect()
    logger = weasyprint.LOGGER
    logger.addHandler(handler)
    propagate = logger.propagate
    logger.propagate = False
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def render_pdf(html: str, project_root: Path, identifier: bytes, *, strict: bool,
               source: Path | None = None) -> bytes:
    """The PDF of a print document, or a ContentError listing what the renderer reported."""
    fetcher = ProjectFetcher(project_root)
    fonts = FontConfiguration()
    with renderer_messages() as messages:
        try:
            document = weasyprint.HTML(string=html, base_url=f"{Path(project_root).resolve().as_uri()}/",
                                       url_fetcher=fetcher).render(font_config=fonts)
            data = document.write_pdf(**{**PDF_OPTIONS, "pdf_identifier": identifier})
        except RefusedURL as refusal:
            raise ContentError([Problem("R001", str(refusal), source)]) from None
    fatal = [m for m in messages if m.levelno >= logging.ERROR or strict]
    if fatal:
        raise ContentError([Problem("R001", f"WeasyPrint {m.levelname.lower()}: {m.getMessage()}",
                                    source) for m in fatal])
    return data
