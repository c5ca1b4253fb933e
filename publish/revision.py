"""A git revision of the project, built into a scratch folder: one side of `publish diff`.

The revision's files are taken with `git archive` (never a checkout: the project's working
tree, its dist/ and its index stay as they are) and built there by this publish, as review
copies, into the scratch folder's own dist/. The project's cache is shared: an entry is keyed
by everything that made it, so a publication the revision has unchanged is not rendered again.
"""
from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from .build import CACHE_FOLDER, build
from .core.dist import git_output
from .core.problems import ContentError, Problem


class RevisionError(Exception):
    """A revision that git does not know, or that does not build."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(problem.format() for problem in problems))


def resolve(root: Path, name: str) -> str:
    """The commit `name` names in the project's repository."""
    commit = git_output(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{name}^{{commit}}")
    if commit is None:
        raise RevisionError([Problem("D006", f"'{name}' names no commit of the repository at "
                                             f"{root}")])
    return commit.strip()


def build_revision(root: Path, commit: str, scratch: Path, paths: list[Path] = (),
                   jobs: int = 1) -> Path:
    """Build the commit of the project at `root` into `scratch`; its dist/."""
    try:
        project = _extract(root, commit, scratch / "source")
    except subprocess.CalledProcessError as error:
        raise RevisionError([Problem("D007", f"{commit[:12]}: git archive: "
                                             + error.stderr.decode(errors="replace").strip())]) from None
    dist = scratch / "dist"
    try:
        report = build(project, paths, dist, jobs=jobs, cache_dir=root / CACHE_FOLDER)
    except ContentError as error:
        raise RevisionError([Problem("D007", f"{commit[:12]}: "
                                             + problem.format().splitlines()[0])
                             for problem in error.problems]) from None
    if report.failed:
        raise RevisionError([Problem("D007", f"{commit[:12]}: {slug} failed; "
                                             + problems[0].format().splitlines()[0])
                             for slug, problems in sorted(report.failed.items())])
    return dist


def _extract(root: Path, commit: str, target: Path) -> Path:
    """The project's files at `commit` under `target`; the project's folder there (the
    project may be a folder inside its repository)."""
    prefix = (git_output(root, "rev-parse", "--show-prefix") or "").strip()
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", commit,
                              "--", prefix or "."], capture_output=True, check=True, timeout=600)
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")  # refuses links out and absolute paths
    return target / prefix if prefix else target
