"""The preview's pages: the index of publications and each publication's page, as HTML.

Everything an author reads comes from the session's state; every text from content is
escaped. A page polls the version of the state and, when it changed, replaces its body with
the new one, so that it updates without a flash and keeps its scroll position. The page images
are named after their pixels, so only the pages that changed are fetched again.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from .session import Entry, Session

STYLE = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #dfe3ea; --paper: #fff; --desk: #eef0f4;
  --accent: #1f5fbf; --ok: #1d7a46; --busy: #a86400; --bad: #b3261e;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Open Sans", sans-serif; color: var(--ink); }
body { margin: 0; background: var(--desk); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header { position: sticky; top: 0; z-index: 1; background: var(--paper);
  border-bottom: 1px solid var(--line); padding: 10px 24px; display: flex; flex-wrap: wrap;
  align-items: baseline; gap: 6px 18px; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header .back { color: var(--muted); }
header nav { margin-left: auto; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 14px; }
main { padding: 20px 24px 48px; }
.state { font-size: 13px; font-weight: 600; padding: 1px 9px; border-radius: 10px;
  background: #e7ebf2; color: var(--muted); white-space: nowrap; }
.state.ok { background: #e3f3ea; color: var(--ok); }
.state.busy { background: #fbf0dc; color: var(--busy); }
.state.bad { background: #fbe5e3; color: var(--bad); }
.problems { background: var(--paper); border: 1px solid #efc2bd; border-left: 4px solid var(--bad);
  border-radius: 4px; padding: 12px 18px; margin: 0 auto 20px; max-width: 1100px; }
.problems h2 { font-size: 15px; margin: 0 0 6px; color: var(--bad); }
.problems pre { white-space: pre-wrap; margin: 6px 0; font: 13px/1.45 ui-monospace,
  "DejaVu Sans Mono", monospace; }
.problems.unwritten { border-color: #f0dcb4; border-left-color: var(--busy); }
.problems.unwritten h2 { color: var(--busy); }
.note { color: var(--muted); text-align: center; margin: 40px 0; }
.pages { display: flex; flex-wrap: wrap; justify-content: center; gap: 28px; }
.pages.stale img { opacity: .55; }
figure { margin: 0; }
figure img { display: block; max-width: calc(100vw - 48px); height: auto; background: var(--paper);
  box-shadow: 0 1px 3px rgba(0,0,0,.18), 0 4px 14px rgba(0,0,0,.08); }
figcaption { text-align: center; color: var(--muted); font-size: 12px; margin-top: 6px; }
.chapters { max-width: 1100px; margin: 28px auto 0; color: var(--muted); font-size: 14px; }
.chapters ol { display: flex; flex-wrap: wrap; gap: 2px 18px; padding-left: 18px; margin: 4px 0; }
table { border-collapse: collapse; background: var(--paper); width: 100%; max-width: 1100px;
  margin: 0 auto 24px; border: 1px solid var(--line); }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid var(--line); font-size: 14px; }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
td.embargo { color: var(--muted); white-space: nowrap; }
.filter { display: block; max-width: 1100px; margin: 0 auto 16px; }
.filter input { font: inherit; padding: 5px 10px; width: 320px; max-width: 100%;
  border: 1px solid var(--line); border-radius: 4px; }
"""

# Asks for the state's version five times a second, and swaps in the page's new body when it
# changed. A poll, not a request held open until a change (long polling, Server-Sent Events):
# a request left pending keeps a headless browser's page loading, and so hangs every check of
# the page; five tiny requests a second cost nothing on the loopback.
POLL_MS = 200
SCRIPT = """
let version = %d;
async function follow() {
  try {
    const answer = await fetch('/version', {cache: 'no-store'});
    const next = (await answer.json()).version;
    if (next !== version) { version = next; await refresh(); }
  } catch (error) { /* the preview stopped or restarts: keep asking */ }
  setTimeout(follow, %d);
}
async function refresh() {
  const answer = await fetch(location.pathname, {cache: 'no-store'});
  const page = new DOMParser().parseFromString(await answer.text(), 'text/html');
  const box = document.getElementById('filter'), typing = box && box === document.activeElement;
  document.title = page.title;
  document.getElementById('live').replaceWith(page.getElementById('live'));
  const again = document.getElementById('filter');
  if (box && again) { again.value = box.value; if (typing) again.focus(); }
  filter();
}
function filter() {
  const box = document.getElementById('filter');
  if (!box) return;
  const words = box.value.toLowerCase();
  for (const row of document.querySelectorAll('tbody tr'))
    row.hidden = !row.textContent.toLowerCase().includes(words);
}
document.addEventListener('input', filter);
setTimeout(follow, 0);
"""


def _document(title: str, live: str, version: int, search: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style>"
            f"<script>{SCRIPT % (version, POLL_MS)}</script></head><body>{search}"
            f'<div id="live">{live}</div></body></html>')


def state(entry: Entry, problems: int) -> tuple[str, str]:
    """What an author reads of a publication's state, and its colour's class."""
    if problems:
        return f"{problems} problem{'s' if problems != 1 else ''}", "bad"
    if entry.job is None:
        return "not in the project", ""
    if entry.building or (entry.opened and not entry.current):
        return "building\u2026", "busy"
    if entry.current and entry.shown.failure:
        return "failed", "bad"
    if entry.current:
        return "up to date", "ok"
    return "not rendered yet", ""


def _embargo(entry: Entry) -> str:
    if entry.embargo is None:
        return "no embargo"
    if entry.embargoed:
        return f"embargoed until {escape(entry.embargo)}"
    return f"embargo lifted ({escape(entry.embargo)})"


def _problems(problems, root: Path) -> str:
    if not problems:
        return ""
    items = "".join(f"<pre>{escape(problem.format(root))}</pre>" for problem in problems)
    count = len(problems)
    return (f'<section class="problems" id="problems"><h2>{count} problem'
            f'{"s" if count != 1 else ""} to fix</h2>{items}</section>')


def _unwritten(entry: Entry, root: Path) -> str:
    """A narrative in progress: what is not written yet, which a release would refuse."""
    if not entry.unwritten:
        return ""
    items = "".join(f"<pre>{escape(problem.format(root))}</pre>" for problem in entry.unwritten)
    return (f'<section class="problems unwritten" id="unwritten"><h2>A review copy of work in '
            f"progress: {len(entry.unwritten)} part(s) not yet written</h2><p>Each has a "
            f"placeholder in the pages; publish release refuses the publication until they "
            f"are written.</p>{items}</section>")


def index(session: Session) -> str:
    entries = sorted(session.entries.values(), key=lambda entry: (entry.kind, entry.slug))
    rows = []
    for entry in entries:
        if not entry.present and not entry.opened:
            continue
        text, colour = state(entry, len(entry.every_problem(session.general)))
        rows.append(f'<tr><td><a href="/p/{escape(entry.slug)}/">{escape(entry.title)}</a></td>'
                    f"<td>{escape(entry.kind)}</td><td class=\"embargo\">{_embargo(entry)}</td>"
                    f'<td><span class="state {colour}">{text}</span></td></tr>')
    count = len(rows)
    live = (f'<header><h1>publish preview</h1><span class="state">{count} publication'
            f'{"s" if count != 1 else ""}</span><nav>{escape(str(session.root))}</nav></header>'
            f"<main>{_problems(session.general, session.root)}"
            f'<label class="filter">Find <input id="filter" type="search" '
            f'placeholder="a title, a kind, a state" autocomplete="off"></label>'
            f"<table><thead><tr><th>Publication</th><th>Kind</th><th>Embargo</th>"
            f'<th>State</th></tr></thead><tbody>{"".join(rows)}</tbody></table></main>')
    return _document("publish preview", live, session.version)


def publication(session: Session, entry: Entry) -> str:
    problems = entry.every_problem(session.general)
    text, colour = state(entry, len(problems))
    shown = entry.shown
    links = []
    if shown and shown.pdf:
        links.append(f'<a href="{escape(shown.pdf_name)}">PDF</a>')
    if shown and shown.epub:
        links.append(f'<a href="{escape(shown.epub_name)}">EPUB</a>')
    if shown and shown.chapters:
        links.append('<a href="#chapters">EPUB chapters</a>')
    live = (f'<header><a class="back" href="/">\u2190 All publications</a>'
            f"<h1>{escape(entry.title)}</h1>"
            f'<span class="state {colour}" id="state">{text}</span>'
            f'<span class="state">{_embargo(entry)}</span>'
            f"<nav>{' '.join(links)}</nav></header>"
            f"<main>{_problems(problems, session.root)}{_unwritten(entry, session.root)}"
            f"{_pages(entry)}{_chapters(entry)}</main>")
    return _document(f"{text} \u00b7 {entry.title}", live, session.version)


def _pages(entry: Entry) -> str:
    shown = entry.shown
    if shown is None or not shown.pages:
        if shown is not None and shown.failure and not shown.pages:
            return f'<p class="note">publish failed: {escape(shown.failure)}</p>'
        return '<p class="note">The pages appear here as soon as they are rendered.</p>'
    # Dimmed while they are not what the files make now: being rendered again, or kept from
    # before a problem.
    fresh = entry.current and not entry.building and not (shown.problems or shown.failure)
    stale = "" if fresh else " stale"
    figures = "".join(
        f'<figure><img src="page-{page.number}-{page.digest}.png" width="{page.width}" '
        f'height="{page.height}" alt="Page {page.number}"><figcaption>{page.number}'
        f"</figcaption></figure>" for page in shown.pages)
    return f'<div class="pages{stale}" id="pages">{figures}</div>'


def _chapters(entry: Entry) -> str:
    shown = entry.shown
    if shown is None or not shown.chapters:
        return ""
    items = "".join(f'<li><a href="epub/{escape(name)}">{escape(title)}</a></li>'
                    for title, name in shown.chapters)
    return (f'<section class="chapters" id="chapters">The EPUB, document by document:'
            f"<ol>{items}</ol></section>")
