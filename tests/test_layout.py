"""The layout the design asks for: a core that knows no kind of publication."""
from __future__ import annotations

import ast

from conftest import PROJECT

CORE = PROJECT / "publish" / "core"


def imported_modules(path) -> list[str]:
    """Every module a file imports, relative imports resolved against its package."""
    package = path.relative_to(PROJECT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            found.append(".".join([*base, *(node.module or "").split(".")]).strip("."))
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_the_core_imports_no_kind_and_not_the_pipeline():
    offenders = {path.name: module for path in sorted(CORE.rglob("*.py"))
                 for module in imported_modules(path)
                 if module.startswith(("publish.kinds", "publish.build", "publish.cli"))}
    assert offenders == {}


def test_the_check_sees_relative_imports():
    # The rule above would pass on anything if relative imports were not resolved.
    modules = imported_modules(PROJECT / "publish" / "kinds" / "ocindex" / "load.py")
    assert "publish.core.sources" in modules and "publish.kinds.ocindex.outline" in modules
