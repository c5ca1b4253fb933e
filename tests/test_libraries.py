"""WeasyPrint's C libraries found from ldconfig's cache (publish/core/libraries.py): the same
libraries as ctypes' own search finds, without its compiler runs, and its search again where
the cache cannot stand for it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig: Linux")

# The shared objects a process has loaded once WeasyPrint is imported.
LOADED = """
import sys
{prelude}
import weasyprint
print("\\n".join(sorted({{line.split()[-1] for line in open("/proc/self/maps")
                          if ".so" in line}})))
"""


def _python(code: str, tmp_path: Path, **environment) -> tuple[str, bool]:
    """What `code` prints, and whether it ran gcc or ld: stand-ins for both, first on PATH,
    leave a mark when run (and then fail, as a search that finds nothing does)."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    mark = tmp_path / "compiler-ran"
    for tool in ("gcc", "ld"):
        (tools / tool).write_text(f"#!/bin/sh\ntouch {mark}\nexit 1\n")
        (tools / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", **environment}
    for name in ("LD_LIBRARY_PATH", "LIBRARY_PATH"):
        if name not in environment:
            env.pop(name, None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    ran = mark.exists()
    mark.unlink(missing_ok=True)
    return result.stdout, ran


def test_the_same_libraries_without_running_a_compiler(tmp_path):
    quick, compiled = _python(LOADED.format(prelude="import publish.core"), tmp_path)
    regular, compiled_before = _python(LOADED.format(prelude=""), tmp_path)
    assert compiled_before, "WeasyPrint's own import no longer runs gcc or ld: see libraries.py"
    assert not compiled
    assert quick == regular
    assert "libpango-1.0" in quick and "libharfbuzz" in quick


def test_library_paths_of_the_environment_keep_the_whole_search(tmp_path):
    code = LOADED.format(prelude="import publish.core")
    _, compiled = _python(code, tmp_path, LD_LIBRARY_PATH=str(tmp_path))
    assert compiled
    _, compiled = _python(code, tmp_path, LIBRARY_PATH=str(tmp_path))
    assert compiled


def test_an_import_that_fails_under_the_quick_search_runs_again(tmp_path):
    """Where the libraries cannot be loaded under the quick search, WeasyPrint's module runs
    again with ctypes' own search, and what it printed meanwhile is not seen. (On Linux the
    quick search hardly fails: WeasyPrint's names include each library's soname, which opens
    without any search; here it fails on purpose, saying what WeasyPrint says.)"""
    prelude = """
import contextlib
import publish.core.libraries as libraries
@contextlib.contextmanager
def failing():
    print("WeasyPrint could not import some external libraries.")
    raise OSError("cannot load library 'gobject-2.0-0'")
    yield
libraries.quick_library_search = failing
"""
    out, compiled = _python(LOADED.format(prelude=prelude), tmp_path)
    regular, _ = _python(LOADED.format(prelude=""), tmp_path)
    assert compiled
    assert out == regular
