"""Reading the author's files, confined to the project: UTF-8 text and YAML that remembers
where each value came from.

Every file publish reads from a project goes through :meth:`Project.confine`: after symbolic
links and '..' are resolved it must lie inside the project (or the narrower folder a caller
names), and be a regular file; otherwise a coded problem, and the file is never opened.

YAML is loaded safely, refusing duplicate keys and anchors/aliases (a "billion laughs" needs
them) and files over a size limit. Mappings come back as :class:`Node` objects that keep the
line of every key, so later stages can point an author at the exact line of a problem.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .problems import ContentError, Problem, Problems, excerpt

MAX_SOURCE_BYTES = 2 * 1024 * 1024
# Fonts and images are read whole; none a publication needs is this large.
MAX_ASSET_BYTES = 64 * 1024 * 1024
# The project's folders a build's renderer may read; nothing else, and never the network.
ALLOWED_FOLDERS = ("content", "styles", "fonts")
# The project's folders whose files make the outputs (a preview watches them; a build guesses
# from their times whether it will render).
INPUT_FOLDERS = ("content", "templates", "styles", "fonts")


class Node(dict):
    """A YAML mapping that knows its file and the line of each of its keys."""

    file: Path
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser where PyYAML has it (its wheels do): ten times as fast as PyYAML's own,
# which is most of the time a run that builds nothing spends reading the content.
_SafeLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def _refuse_anchors(text: str) -> None:
    """Refuse anchors and aliases, before anything is built: an alias makes one node of many
    places, and a few of them a document of billions (a "billion laughs")."""
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("L008", "aliases are not allowed", event.start_mark)
        if getattr(event, "anchor", None):
            raise _Refused("L008", f"anchor &{event.anchor} is not allowed", event.start_mark)


class _Loader(_SafeLoader):
    file: Path

    def construct_mapping(self, node, deep=False):
        mapping = Node()
        mapping.file = self.file
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused("L008", "merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise _Refused("L006", f"keys must be text, not {excerpt(repr(key))}",
                               key_node.start_mark)
            if key in mapping:
                first = mapping.key_lines[key]
                raise _Refused("L007", f"key '{excerpt(key)}' appears again (first on line {first})",
                               key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)


class _Refused(Exception):
    def __init__(self, code, message, mark):
        super().__init__(message)
        self.code, self.message, self.mark = code, message, mark


@dataclass(frozen=True)
class Project:
    """The project folder. What publish reads of it is read through here, and only here."""
    root: Path

    @classmethod
    def at(cls, folder: Path) -> Project:
        return cls(Path(folder).resolve())

    def confine(self, path: Path, within: tuple[Path, ...] = (), *,
                named_at: tuple[Path, int | None] | None = None) -> Path:
        """`path` with links and '..' resolved, if it lies inside the project (or inside one
        of `within`, folders of the project); else a ContentError (L012). Where a YAML key
        named the path, `named_at` (file, line) is where the problem points."""
        path = Path(path)
        resolved = Path(os.path.realpath(path if path.is_absolute() else self.root / path))
        folders = [Path(os.path.realpath(folder)) for folder in within] or [self.root]
        if not any(resolved.is_relative_to(folder) for folder in folders):
            where = "the project" if folders == [self.root] else ", ".join(
                self.relative(folder) + "/" for folder in folders)
            file, line = named_at or (path, None)
            shown = excerpt(str(path) if named_at else path.name)
            raise ContentError([Problem("L012", f"'{shown}' leads outside {where}",
                                        file, line)])
        return resolved

    def relative(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix() or "."
        except ValueError:
            return "the project"

    def read_bytes(self, path: Path, limit: int = MAX_SOURCE_BYTES, *,
                   named_at: tuple[Path, int | None] | None = None) -> bytes:
        """The bytes of a regular file inside the project, at most `limit` of them."""
        path = Path(path)
        resolved = self.confine(path, named_at=named_at)
        where = named_at or (path, None)
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: a link put
            # in place after the check is refused, not followed.
            descriptor = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                                 | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContentError([Problem("L001", f"{excerpt(path.name)} not found", *where)]) \
                from None
        except OSError as error:
            reason = "is a symbolic link loop" if error.errno == errno.ELOOP else \
                f"cannot be read ({error.strerror})"
            raise ContentError([Problem("L013", f"{excerpt(path.name)} {reason}", *where)]) \
                from None
        with os.fdopen(descriptor, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                kind = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file"
                raise ContentError([Problem("L013", f"{excerpt(path.name)} is {kind}", *where)])
            if status.st_size > limit:
                raise ContentError([Problem("L009", f"{status.st_size:,} bytes, over the limit "
                                                    f"of {limit:,}", path)])
            data = stream.read(limit + 1)
        if len(data) > limit:  # grew while being read
            raise ContentError([Problem("L009", f"over the limit of {limit:,} bytes", path)])
        return data

    def read_text(self, path: Path, limit: int = MAX_SOURCE_BYTES, *,
                  named_at: tuple[Path, int | None] | None = None) -> str:
        """The UTF-8 text of an author's file, or a ContentError saying why it cannot be read."""
        data = self.read_bytes(path, limit, named_at=named_at)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise ContentError([Problem("L003", f"byte {data[error.start]:#04x} is not UTF-8",
                                        path, line)]) from None
        return text.removeprefix("\ufeff")

    def exists(self, path: Path) -> bool:
        """Whether something is at `path`, a dangling or looping link included: what is there
        is then read, and refused if it must be."""
        return os.path.lexists(path)

    def files_under(self, folder: Path) -> list[Path]:
        """The regular files under a folder of the project, for hashing: links are not
        followed, so nothing outside is hashed (a link that leads outside, or anything that
        is not a regular file, is refused when it is read)."""
        found = []
        for directory, folders, files in os.walk(folder):
            folders[:] = sorted(f for f in folders if f != "__pycache__")
            found.extend(Path(directory) / name for name in files)
        return sorted(found)

    def load_yaml(self, path: Path) -> Any:
        """Safely load one YAML file; mappings become :class:`Node` objects."""
        return parse_yaml(self.read_text(path), Path(path))


def parse_yaml(text: str, path: Path) -> Any:
    """Safely parse one YAML file's text; mappings become :class:`Node` objects."""
    loader = None
    try:
        _refuse_anchors(text)
        loader = _Loader(text)
        loader.file = path
        return loader.get_single_data()
    except _Refused as refusal:
        raise ContentError([Problem(refusal.code, refusal.message, path,
                                    refusal.mark.line + 1, refusal.mark.column + 1)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(filter(None, [error.context, error.problem]))
        raise ContentError([Problem("L002", message, path,
                                    mark.line + 1 if mark else None,
                                    mark.column + 1 if mark else None)]) from None
    except yaml.YAMLError as error:
        raise ContentError([Problem("L002", " ".join(str(error).split()), path)]) from None
    except RecursionError:
        raise ContentError([Problem("L002", "nested too deeply to read", path,
                                    hint="publish's YAML nests a few levels deep; look for a "
                                         "long run of '[' or '{'")]) from None
    finally:
        if loader is not None:
            loader.dispose()


class Fields:
    """Checks one YAML mapping against the keys it may and must have, collecting problems.

    >>> fields = Fields(node, problems, required={"title": str}, optional={"year": int})
    >>> fields.get("title")
    """

    def __init__(self, node: Any, problems: Problems, where: Path, *,
                 required: dict[str, type | tuple], optional: dict[str, type | tuple] = {},
                 what: str = "this mapping"):
        self.problems = problems
        self.node = node if isinstance(node, Node) else None
        self.values: dict[str, Any] = {}
        if self.node is None:
            problems.add("L006", f"{what} must be a mapping of keys to values",
                         where, getattr(node, "line", None))
            return
        allowed = {**required, **optional}
        for key in node:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                problems.add("L004", f"'{excerpt(key)}' is not a key of {what}", node.file,
                             node.line_of(key), hint=f"the keys of {what} are: {known}")
        for key, kind in allowed.items():
            if key not in node:
                if key in required:
                    problems.add("L005", f"{what} needs '{key}'", node.file, node.line)
                continue
            value = node[key]
            if not _is_kind(value, kind):
                problems.add("L006", f"'{key}' must be {_kind_name(kind)}, not {_kind_name(type(value))}",
                             node.file, node.line_of(key))
                continue
            self.values[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def line(self, key: str) -> int | None:
        return self.node.line_of(key) if self.node is not None else None

    @property
    def file(self) -> Path | None:
        return self.node.file if self.node is not None else None


def _is_kind(value, kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "a whole number", float: "a number", list: "a list",
             dict: "a mapping", Node: "a mapping", bool: "true or false", type(None): "empty"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
