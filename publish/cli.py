"""The command line: parse arguments, call the pipeline, turn problems into messages and exit codes.

`main(argv, stdout, stderr) -> int` is what the console script and the tests call.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .build import build, select
from .core.clock import ENVIRONMENT, InstantError
from .core.dist import merge
from .core.limits import DEFAULT_LIMITS
from .core.problems import ContentError, EmbargoNotLifted, Problem, visible
from .core.progress import Progress, summary
from .core.workers import usable_cores
from .listing import listing
from .preview import DEFAULT_PORT

if TYPE_CHECKING:
    from .core.compare import Comparison

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_EMBARGOED = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="publish", description=(
        "Build print PDFs and EPUBs from structured content (YAML + Markdown)."))
    parser.add_argument("--version", action="version", version=f"publish {__version__}")
    parser.add_argument("--project", type=Path, default=Path.cwd(), metavar="DIR",
                        help="the project folder, holding content/, styles/ and fonts/ "
                             "(default: the current folder)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="say more: what is being built, and the traceback of any "
                             "failure of publish itself")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build_cmd = commands.add_parser("build", help="build review copies (drafts) into dist/")
    release_cmd = commands.add_parser("release", help=(
        "build the public files into dist/; refused before the embargo (exit status 3)"))
    for command in (build_cmd, release_cmd):
        command.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                             help="an edition or profile folder, relative to the project "
                                  "(default: all of content/)")
        command.add_argument("--dist", type=Path, metavar="DIR",
                             help="where outputs go, relative to the current folder; it then "
                                  "holds exactly this run's outputs (default: dist/ in the "
                                  "project)")
        command.add_argument("--now", metavar="INSTANT", help=(
            f"the current time, as an ISO 8601 date-time with UTC offset (default: "
            f"${ENVIRONMENT}, else the system clock)"))
        command.add_argument("--time-limit", type=_seconds, metavar="SECONDS",
                             default=DEFAULT_LIMITS["time_limit"],
                             help="stop rendering a PDF after this long (default: %(default)s)")
        command.add_argument("--memory-limit", type=_mebibytes, metavar="MIB",
                             default=DEFAULT_LIMITS["memory_limit"],
                             help="memory a PDF's rendering may use (default: %(default)s)")
        command.add_argument("--jobs", "-j", type=_workers, default=usable_cores(), metavar="N",
                             help="worker processes (default: one per core this process may "
                                  "use, %(default)s here)")
        command.add_argument("--shard", type=_shard, metavar="K/N",
                             help="build only the K-th of N deterministic slices of the "
                                  "publications (for a CI matrix; see 'publish merge')")
        command.add_argument("--cache", type=Path, metavar="DIR",
                             help="where finished outputs are kept for reuse "
                                  "(default: .publish-cache/ in the project)")
        command.add_argument("--quiet", "-q", action="store_true",
                             help="no progress: only problems, the files written and the summary")
    release_cmd.add_argument("--allow-dirty", action="store_true",
                             help="release even with uncommitted or untracked changes "
                                  "(the manifest says so)")
    release_cmd.add_argument("--ace-all", action="store_true",
                             help="run Ace by DAISY on every EPUB, not only on one publication "
                                  "of each kind and variant (seconds per EPUB)")
    build_cmd.add_argument("--check", action="store_true", dest="check_epub",
                           help="also run EPUBCheck on every EPUB (publish release always does)")
    build_cmd.add_argument("--strict", action="store_true",
                           help="fail on any warning of the renderer, not only on errors")

    merge_cmd = commands.add_parser("merge", help=(
        "assemble the dist/ folders of shards (build --shard K/N) into one"))
    merge_cmd.add_argument("target", type=Path, metavar="DIST", help="the folder to make")
    merge_cmd.add_argument("shards", type=Path, nargs="+", metavar="SHARD",
                           help="the shards' dist/ folders")

    list_cmd = commands.add_parser("list", help=(
        "list every publication: its name (which commands take instead of a path), kind, "
        "embargo, state and what dist/ holds of it"))
    list_cmd.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                          help="a folder of content/, or a publication's name (default: all)")
    list_cmd.add_argument("--json", action="store_true", help="as JSON, for scripts")
    list_cmd.add_argument("--dist", type=Path, metavar="DIR",
                          help="the outputs folder to report on (default: dist/ in the project)")
    list_cmd.add_argument("--now", metavar="INSTANT", help=(
        "the current time, for the embargoes (default: $PUBLISH_NOW, else the system clock)"))
    diff_cmd = commands.add_parser(
        "diff", help="compare two builds, publication by publication (exit status 1 if any "
                     "differs)",
        description="Compare two builds publication by publication: added, removed, unchanged "
                    "(the same bytes) or changed; for a changed PDF, the words and the figures "
                    "that changed, and the pages that look different. Exit status: 0 nothing "
                    "changed, 1 something did, 2 trouble (a folder that is not a dist/, a "
                    "revision git does not know or that does not build).")
    diff_cmd.add_argument("old", metavar="OLD", help=(
        "the build before: a dist/ folder, or a git revision of the project (HEAD~1, main, "
        "a tag), built with this publish into a scratch folder"))
    diff_cmd.add_argument("new", metavar="NEW", help="the build after: the same")
    # default=[]: else argparse names an optional PATH among the arguments missing
    diff_cmd.add_argument("paths", nargs="*", type=Path, default=[], metavar="PATH", help=(
        "what to build of a revision: an edition or profile folder, relative to the project "
        "(default: all of content/); only the publications built are compared"))
    diff_cmd.add_argument("--report", type=Path, metavar="DIR", help=(
        "write an HTML report there (index.html and the page images), to open in a browser"))
    diff_cmd.add_argument("--jobs", "-j", type=_workers, default=usable_cores(), metavar="N",
                          help="worker processes to build a revision (default: %(default)s)")
    preview_cmd = commands.add_parser("preview", help=(
        "serve review copies in a browser, rendered again as files change; never writes "
        "dist/"), description=(
        "Serve the project's publications at http://127.0.0.1:PORT/ (this machine only). "
        "A publication is rendered when its page is first opened, and again, with the page "
        "updating by itself, when a file it depends on changes under content/, templates/, "
        "styles/ or fonts/. Content problems show on the page until they are fixed. "
        "Outputs are review copies kept in a temporary folder: dist/ and the build cache are "
        "never written. Ctrl-C stops it."))
    preview_cmd.add_argument("path", nargs="?", type=Path, metavar="PATH",
                             help="a publication's folder to render at once, as if its page "
                                  "were open, such as content/manual (default: none)")
    preview_cmd.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="N",
                             help="the port to serve on (default: %(default)s)")

    check_cmd = commands.add_parser("check", help="validate content without rendering")
    check_cmd.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                           help="an edition or profile folder, relative to the project "
                                "(default: all of content/)")
    return parser


def print_problems(problems: list[Problem], root: Path, stream) -> None:
    for problem in problems:
        print(problem.format(root), file=stream)
    count = len(problems)
    print(f"{count} problem{'s' if count != 1 else ''} found.", file=stream)


def main(argv: list[str] | None = None, stdout=None, stderr=None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    # What the library logs goes to this run's stderr, for this run only.
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("publish")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return _run(args, stdout, stderr)
    finally:
        logger.removeHandler(handler)


def _run(args, stdout, stderr) -> int:
    root = args.project.resolve()
    if not root.is_dir():
        print(f"publish: --project {visible(args.project)}: no such folder", file=stderr)
        return EXIT_USAGE
    if args.command == "check":
        return _run_command(_check, args, root, stdout, stderr)
    if args.command == "list":
        return _run_command(_list, args, root, stdout, stderr)
    if args.command == "diff":
        return _run_command(_diff, args, root, stdout, stderr)
    if args.command == "preview":
        return _preview(args, root, stdout, stderr)
    return _stoppable(_merge if args.command == "merge" else _build, args, root, stdout, stderr)


class Interrupted(BaseException):
    """A signal asked the run to stop. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on the way (one publication's failure) takes it for a problem."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stoppable(command, args, root: Path, stdout, stderr) -> int:
    """A command that writes: Ctrl-C or SIGTERM stop it at once, and it says what was left.

    The stop unwinds through the code that cleans up: workers and renderers are killed, the
    staging folder is removed, the cache keeps only whole entries, dist/ is not exchanged."""
    try:
        with _terminate_raises():
            return _run_command(command, args, root, stdout, stderr)
    except KeyboardInterrupt:
        return _interrupted(signal.SIGINT, _target(args, root), stderr)
    except Interrupted as stop:
        return _interrupted(stop.signum, _target(args, root), stderr)


@contextmanager
def _terminate_raises():
    """SIGTERM raises Interrupted, as SIGINT raises KeyboardInterrupt; the previous handler is
    restored after, for callers of main() that have their own."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; a thread's caller handles signals
        return

    def interrupt(signum, frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(signum: int, target: str, stderr) -> int:
    print(f"publish: interrupted by {signal.Signals(signum).name}; {target}/ is as it was",
          file=stderr)
    return 128 + signum  # the shell's convention for a command stopped by a signal


def _target(args, root: Path) -> str:
    """The folder a writing command was to change, as the user would name it."""
    if args.command == "merge":
        return str(args.target)
    return _relative(args.dist, root) if args.dist else "dist"


def _run_command(command, args, root: Path, stdout, stderr) -> int:
    try:
        return command(args, root, stdout, stderr)
    except EmbargoNotLifted as refusal:
        for name, instant, left in refusal.waiting:
            print(f"publish: {name} is embargoed until {instant} ({left} from now); "
                  "nothing was written", file=stderr)
        return EXIT_EMBARGOED
    except InstantError as error:
        print(f"publish: {error}", file=stderr)
        return EXIT_USAGE
    except ContentError as error:
        print_problems(error.problems, root, stderr)
        return EXIT_PROBLEMS
    except OSError as error:
        print(f"publish: {visible(error.filename or '')}: {error.strerror or error}",
              file=stderr)
        return EXIT_PROBLEMS


def _check(args, root: Path, stdout, stderr) -> int:
    selection = select(root, args.paths)
    problems = selection.every_problem()
    report_incomplete({p.slug: list(p.incomplete) for p in selection.publications()
                       if p.incomplete}, root, stderr)
    if problems:
        print_problems(problems, root, stderr)
        return EXIT_PROBLEMS
    print("No problems found.", file=stdout)
    return EXIT_OK


def _list(args, root: Path, stdout, stderr) -> int:
    selection = select(root, args.paths)
    selection.problems.raise_if_any()
    listed = listing(selection, args.dist or root / "dist", args.now)
    if args.json:
        print(json.dumps([item.as_dict() for item in listed], indent=2, ensure_ascii=False),
              file=stdout)
        return EXIT_OK
    rows = [("NAME", "KIND", "EMBARGO", "STATE", "IN DIST", "TITLE")] + [
        (item.name or item.slug, f"{item.kind} {item.variant}".strip(), _embargo(item),
         item.state if item.state == "sound" else f"{item.state} ({item.problems})",
         item.dist, item.title) for item in listed]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[5], file=stdout)
    return EXIT_OK


def _embargo(item) -> str:
    if item.embargo is None:
        return "none"
    return "lifted" if item.embargo_lifted else f"until {item.embargo}"


def _preview(args, root: Path, stdout, stderr) -> int:
    """Serve until Ctrl-C (exit status 130) or SIGTERM (143); nothing is left to clean up by
    then, since a preview writes only to a temporary folder, removed as it stops."""
    from .preview import serve
    from .preview.server import PortUnavailable
    opened = []
    if args.path is not None:
        problems, opened = _slugs(root, args.path)
        if problems:
            print_problems(problems, root, stderr)
            return EXIT_PROBLEMS

    def ready(address: str) -> None:
        print(f"publish: previewing {root} at {address} (Ctrl-C stops)", file=stdout, flush=True)

    try:
        with _terminate_raises():
            serve(root, args.port, ready, opened)
    except KeyboardInterrupt:
        signum = signal.SIGINT
    except Interrupted as stop:
        signum = stop.signum
    except InstantError as error:
        print(f"publish: {error}", file=stderr)
        return EXIT_USAGE
    except PortUnavailable as error:
        print(f"publish: {error} (another preview may be using it; choose another with "
              "--port)", file=stderr)
        return EXIT_USAGE
    print("publish: preview stopped", file=stderr)
    return 128 + signum


def _slugs(root: Path, path: Path) -> tuple[list[Problem], list[str]]:
    """The publications a path names, or the problems of naming it."""
    selection = select(root, [path])
    if selection.problems:
        return list(selection.problems), []
    return [], [p.slug for source in selection.sources for p in source.publications()]


def _merge(args, root: Path, stdout, stderr) -> int:
    merged = merge(args.target, args.shards)
    print(f"merged {len(merged)} files from {len(args.shards)} shards into {args.target}",
          file=stdout)
    return EXIT_OK


def _build(args, root: Path, stdout, stderr) -> int:
    release = args.command == "release"
    result = build(root, args.paths, args.dist, now=args.now,
                   strict=getattr(args, "strict", False), release=release,
                   check_epub=True if release else args.check_epub,
                   jobs=args.jobs, shard=args.shard, cache_dir=args.cache,
                   progress=None if args.quiet else Progress(stderr, _is_terminal(stderr)),
                   time_limit=args.time_limit, memory_limit=args.memory_limit,
                   allow_dirty=getattr(args, "allow_dirty", False),
                   ace_all=getattr(args, "ace_all", False),
                   on_wait=lambda folder: print(
                       f"publish: another run is working in {visible(folder)}; waiting for it "
                       "to end", file=stderr, flush=True))
    if result.failed:
        report_failures(result, root, stderr)
    report_incomplete(result.incomplete, root, stderr)
    for path in result.written:
        print(f"wrote {_relative(path, root)}", file=stdout)
    print(summary(result), file=stdout)
    return EXIT_PROBLEMS if result.failed else EXIT_OK


def report_incomplete(incomplete: dict[str, list[Problem]], root: Path, stream) -> None:
    """Warnings: review copies made of content still being written."""
    for slug, problems in sorted(incomplete.items()):
        print(f"{slug}: a review copy of work in progress, with a placeholder for each part "
              "not yet written (publish release refuses it until they are):", file=stream)
        for problem in problems:
            print("  " + problem.format(root).replace("\n", "\n  "), file=stream)


def _diff(args, root: Path, stdout, stderr) -> int:
    # Imported here: comparing loads Pillow and poppler's helpers, which no other command needs.
    from .core.compare import CompareError, compare
    from .core.compare_report import IMAGES, prepare_folder, write_report
    from .revision import RevisionError
    if args.report is not None and not prepare_folder(args.report):
        print(f"publish: --report {visible(args.report)}: the folder holds files that are not "
              "a report of publish diff; name an empty or new folder", file=stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="publish-diff-") as scratch:
        try:
            old = _side(args.old, root, Path(scratch) / "old", args, stderr)
            new = _side(args.new, root, Path(scratch) / "new", args, stderr)
        except CompareError as error:
            print(error.problem.format(), file=stderr)
            return EXIT_USAGE
        except RevisionError as error:
            for problem in error.problems:
                print(problem.format(), file=stderr)
            return EXIT_USAGE
        images = (args.report if args.report is not None else Path(scratch)) / IMAGES
        try:
            comparison = compare(old, new, images)
        except (OSError, subprocess.SubprocessError) as error:
            # poppler missing, or a PDF it cannot read: no comparison, which is not "changed"
            print(f"publish: cannot compare the PDFs: {visible(str(error))}", file=stderr)
            return EXIT_USAGE
        if args.paths:
            comparison = comparison.only_built()
        _print_comparison(comparison, stdout)
        if args.report is not None:
            index = write_report(comparison, args.report)
            print(f"Report: {index}", file=stdout)
    return EXIT_PROBLEMS if comparison.differs else EXIT_OK


def _side(name: str, root: Path, scratch: Path, args, stderr):
    """A dist/ folder as it is, or a git revision built into `scratch`."""
    from .core.compare import read_side
    from .revision import build_revision, resolve
    if Path(name).exists():
        return read_side(Path(name), name)
    commit = resolve(root, name)
    print(f"publish: building {visible(name)} ({commit[:12]}) in a scratch folder", file=stderr,
          flush=True)
    dist = build_revision(root, commit, scratch, args.paths, jobs=args.jobs)
    return read_side(dist, f"{name} ({commit[:12]})", revision=commit)


def _print_comparison(comparison: Comparison, stdout) -> None:
    print(f"Before: {visible(comparison.old.label)}", file=stdout)
    print(f"After:  {visible(comparison.new.label)}", file=stdout)
    for publication in comparison.publications:
        if publication.status != "unchanged":
            print(f"  {publication.status:8} {publication.slug}{publication.summary}",
                  file=stdout)
    counts = {status: len(comparison.having(status))
              for status in ("changed", "added", "removed", "unchanged")}
    print(", ".join(f"{count} {status}" for status, count in counts.items()) + ".", file=stdout)


def report_failures(report, root: Path, stream) -> None:
    for slug, problems in sorted(report.failed.items()):
        print(f"{slug} failed:", file=stream)
        for problem in problems:
            print("  " + problem.format(root).replace("\n", "\n  "), file=stream)


def _is_terminal(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not K/N, such as 1/4") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"'{text}': K must be from 1 to N")
    return k, n


def _seconds(text: str) -> float:
    """A time limit: a number of seconds above 0 (a limit of 0, or none, would fail every
    publication as too slow, and an infinite one cannot be waited for)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds above 0, "
                                         "such as 180")
    return seconds


def _mebibytes(text: str) -> int:
    return _whole(text, 1, "a number of MiB above 0, such as 3072")


def _workers(text: str) -> int:
    return _whole(text, 1, "a number of worker processes, 1 or more")


def _port(text: str) -> int:
    return _whole(text, 0, "a port from 1 to 65535 (or 0: any free port)", most=65535)


def _whole(text: str, least: int, what: str, most: int | None = None) -> int:
    try:
        number = int(text)
    except ValueError:
        number = least - 1
    if number < least or (most is not None and number > most):
        raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
    return number


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
