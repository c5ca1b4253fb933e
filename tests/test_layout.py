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


def test_build_and_the_cli_name_no_kind():
    """The pipeline speaks to kinds through publish.core.kind only: the built-in ones are a
    name -> module map (publish/kinds/__init__.py), loaded when a configuration names them."""
    for path in (PROJECT / "publish/build.py", PROJECT / "publish/cli.py"):
        kinds = [m for m in imported_modules(path) if m.startswith("publish.kinds.")]
        assert kinds == [], path.name


def test_kinds_do_not_import_one_another():
    kinds = [folder for folder in (PROJECT / "publish/kinds").iterdir()
             if (folder / "__init__.py").is_file()]
    assert {folder.name for folder in kinds} >= {"ocindex", "book"}
    for folder in kinds:
        others = tuple(f"publish.kinds.{other.name}" for other in kinds if other != folder)
        offenders = {path.name: module for path in folder.rglob("*.py")
                     for module in imported_modules(path) if module.startswith(others)}
        assert offenders == {}, folder.name


def code_words(path) -> str:
    """A module's names and string values, without its docstrings and comments (prose may
    give examples; code may not know them)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            words.append(node.name)
        elif isinstance(node, ast.arg):
            words.append(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            words.append(node.value)
    return " ".join(words).lower()


def test_the_core_says_nothing_of_the_index():
    for path in sorted(CORE.rglob("*.py")):
        words = code_words(path)
        found = [word for word in ("countr", "dataset", "narrative", "factsheet", "indicator",
                                   "ocindex", "edition") if word in words]
        assert found == [], f"{path.name}: {found}"
