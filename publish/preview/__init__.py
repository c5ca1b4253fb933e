"""`publish preview`: the project's publications in a browser, rendered again as files change.

The preview reads as a loop: load the project (:mod:`.session`), serve its pages
(:mod:`.server`, :mod:`.pages`), and, until stopped, watch its files (:mod:`.watch`), load
again where they changed, and render the publications whose pages are open and whose cache key
changed: the PDF as `publish build` makes it, its pages as images (:mod:`.images`), then its
EPUB. Nothing is rendered before its page is opened, so the server starts in seconds whatever
the size of the project.

Review copies only, held in memory and in a private scratch folder that is removed at the
end: a preview never writes to dist/ or to the build cache. Rendering and forking happen in the
main thread (publish forks from it alone: :func:`publish.core.limits.die_with_parent`); the
server's threads only read the state.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import Session
    from .watch import Watcher

log = logging.getLogger("publish")

DEFAULT_PORT = 8000

__all__ = ["DEFAULT_PORT", "serve"]


def serve(root: Path, port: int = DEFAULT_PORT, on_ready: Callable[[str], None] | None = None,
          open_first: list[str] = ()) -> None:
    """Serve the preview of the project at `root` until interrupted (KeyboardInterrupt, or
    the caller's signal handling): `on_ready` is told its address once it serves.
    PortUnavailable if the port is taken. `open_first`: slugs to render at once, as if their
    page were open."""
    # Imported here: the command line names DEFAULT_PORT in its help, and every other
    # command would otherwise load the server too.
    from .server import HOST, make_server
    from .session import Session
    from .watch import Watcher

    with tempfile.TemporaryDirectory(prefix="publish-preview-") as scratch:
        session = Session(root, Path(scratch))
        watcher = Watcher(session.root)
        session.load()
        server = make_server(session, port)
        thread = Thread(target=server.serve_forever, name="preview-server", daemon=True)
        thread.start()
        try:
            if on_ready:
                on_ready(f"http://{HOST}:{server.server_address[1]}/")
            for slug in open_first:
                session.open(slug)
            _warm_up()
            _follow(session, watcher)
        finally:
            server.shutdown()
            server.server_close()


def _warm_up() -> None:
    """The renderer warmed up in this process, so that every render forked from it starts warm
    (a preview renders again and again)."""
    from ..core.limits import prepare_to_render
    from ..core.pdf import warm_up
    prepare_to_render(2, warm_up)


def _follow(session: Session, watcher: Watcher) -> None:
    """Forever: load again what changed, render what is open and not current."""
    from .watch import POLL_SECONDS
    while True:
        changed = watcher.changes()
        if changed:
            log.info("preview: %d file(s) changed", len(changed))
            try:
                session.load(changed)
            except Exception:  # publish's own failure: the pages keep the last state
                log.exception("publish: loading the project again failed")
        entry = session.next_to_render()
        if entry is not None:
            session.render(entry)
            continue
        with session.lock:  # until a page is opened, or the time to look at the files again
            session.lock.wait(POLL_SECONDS)
