"""Templates: a kind's own, which a project may override file by file in its templates/.

A project's `templates/<kind>/` holds overrides for that kind alone (`templates/book/print.html`
changes books, not the Index's profiles); a file directly in `templates/` overrides the
template of that name for every kind of the project. The first found wins, in that order.

Every template renders in Jinja2's sandbox, so that a template from a project (or a
contributor) cannot reach Python's internals through the objects it is given (no
`__class__`, no `__globals__`); autoescaping is on, and an undefined variable is an error.
A project's templates are read through the project's confinement like every other file: a
link that leads outside, a pipe or a '..' is refused, never followed.
"""
from __future__ import annotations

from functools import cache, partial
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from .problems import ContentError, Problem
from .sources import Project

PROJECT_TEMPLATES = "templates"


class ProjectLoader(jinja2.BaseLoader):
    """Templates from a folder of the project's templates/, read through its confinement."""

    def __init__(self, project: Project, folder: Path):
        self.project = project
        self.folder = folder

    def get_source(self, environment, template):
        path = self.folder.joinpath(*split_template_path(template))  # refuses '..'
        if not self.project.exists(path):
            raise jinja2.TemplateNotFound(template)
        text = self.project.read_text(path)
        return text, str(path), lambda: False  # read once a run: a run sees one state


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, and no way to the file system: a template may read the values it is
    given, but not reach the project, a path, or their methods through them."""

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if isinstance(obj, _FILE_SYSTEM) or isinstance(value, _FILE_SYSTEM):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj) -> bool:
        if isinstance(getattr(obj, "__self__", None), _FILE_SYSTEM):
            return False
        return super().is_safe_callable(obj)


_FILE_SYSTEM = (Project, Path)


def template_environment(project: Project, kind_templates: Path,
                         kind_name: str | None = None) -> SandboxedEnvironment:
    """The environment a kind renders with in a project: the project's templates/<kind_name>/
    first, then its templates/, then the kind's own. One per state of the project's
    templates/: Jinja keeps a template by its name, so an override added while a process lives
    (tests, a preview) needs a fresh one."""
    return _environment(project, kind_templates, kind_name, _overrides(project))


def _overrides(project: Project) -> tuple:
    """What the project's templates/ holds, by name, size and time of change."""
    found = []
    for path in project.files_under(project.root / PROJECT_TEMPLATES):
        try:
            status = path.lstat()
        except OSError:
            continue
        found.append((path.as_posix(), status.st_size, status.st_mtime_ns))
    return tuple(found)


@cache
def _environment(project: Project, kind_templates: Path, kind_name: str | None,
                 overrides: tuple) -> SandboxedEnvironment:
    folder = project.root / PROJECT_TEMPLATES
    own = [ProjectLoader(project, folder / kind_name)] if kind_name else []
    environment = _Sandbox(
        loader=jinja2.ChoiceLoader([*own, ProjectLoader(project, folder),
                                    jinja2.FileSystemLoader(kind_templates)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # fit(text, width, size, ...): a text's font size and lines so that it fits a width,
    # measured with the project's fonts as a cover is drawn (publish.core.cover.fit).
    environment.globals["fit"] = partial(_fit, project)
    return environment


def _fit(project: Project, *arguments, **options):
    # Imported when a template fits a text: Pillow is not loaded by a run that renders
    # nothing (a rebuild where nothing changed).
    from .cover import fit
    return fit(project, *arguments, **options)


def template_problem(error: jinja2.TemplateError, project: Project) -> ContentError:
    """A template's mistake as a coded problem at its file and line, where Jinja knows them."""
    if isinstance(error, jinja2.TemplateNotFound):
        return ContentError([Problem("R005", f"template '{error.name}' not found",
                                     project.root / PROJECT_TEMPLATES,
                                     hint="name a template of the kind, or one in templates/")])
    if isinstance(error, jinja2.exceptions.SecurityError):
        return ContentError([Problem("R005", f"not allowed in a template: {error}",
                                     project.root / PROJECT_TEMPLATES,
                                     hint="templates may read the values they are given, "
                                          "never Python's internals")])
    file = getattr(error, "filename", None)
    line = getattr(error, "lineno", None)
    return ContentError([Problem("R005", f"{type(error).__name__}: {error.message or error}",
                                 Path(file) if file else project.root / PROJECT_TEMPLATES,
                                 line)])
