"""WeasyPrint's C libraries, found without running a compiler.

WeasyPrint opens each of its libraries (GObject, Pango, HarfBuzz, Fontconfig...) by trying a
list of names, the Windows and macOS ones first. cffi hands each name that does not open as it
is to ctypes.util.find_library, which on Linux runs ldconfig, then gcc, then ld, for every
name: 22 searches and about 80 processes, 0.3 s of every command that renders (WeasyPrint
issue 1125).

While WeasyPrint's module of libraries (`weasyprint.text.ffi`) runs, each search is answered
from one reading of ldconfig's cache with the very expression ctypes matches it with, which is
the first thing ctypes tries and what finds them on a system whose packages installed them.
Where that cannot stand for the whole search, nothing changes: no ldconfig cache, or
LD_LIBRARY_PATH or LIBRARY_PATH set (folders gcc and ld would search besides). And should the
module fail to load its libraries so, it runs again with the search of ctypes.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import os
import re
import struct
import subprocess
import sys
from functools import cache

FFI_MODULE = "weasyprint.text.ffi"
# ctypes.util's names of the C library's variant per machine, in ldconfig's listing.
_ABI_TYPES = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit",
              "sparc64-64": "libc6,64bit", "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


@cache
def ldconfig_cache() -> bytes:
    """`ldconfig -p`, read as ctypes reads it; empty where it cannot be read."""
    try:
        return subprocess.run(["/sbin/ldconfig", "-p"], stdin=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              env={"LC_ALL": "C", "LANG": "C"}, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return b""


def find_in_ldconfig_cache(name: str) -> str | None:
    """ctypes.util's first step on Linux (`_findSoname_ldconfig`), from the cache read once."""
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    pattern = rb"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(name).encode(),
                                                 _ABI_TYPES.get(machine, "libc6").encode())
    found = re.search(pattern, ldconfig_cache())
    return os.fsdecode(found.group(1)) if found else None


def quick_search_applies() -> bool:
    """Whether ldconfig's cache can stand for the whole search of ctypes.util."""
    return (sys.platform.startswith("linux") and not os.environ.get("LD_LIBRARY_PATH")
            and not os.environ.get("LIBRARY_PATH") and bool(ldconfig_cache()))


@contextlib.contextmanager
def quick_library_search():
    """ctypes.util.find_library answered from ldconfig's cache while the block runs."""
    import ctypes.util
    regular = ctypes.util.find_library
    ctypes.util.find_library = find_in_ldconfig_cache
    try:
        yield
    finally:
        ctypes.util.find_library = regular


class _QuickLoader(importlib.abc.Loader):
    """Runs WeasyPrint's module of libraries under the quick search, else as it is."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if quick_search_applies():
            try:
                # What WeasyPrint prints when a library is missing is for the search below.
                with contextlib.redirect_stdout(io.StringIO()), quick_library_search():
                    self.loader.exec_module(module)
                return
            except OSError:
                pass
        self.loader.exec_module(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != FFI_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuickLoader(spec.loader)
        return spec


def install() -> None:
    """The quick search for WeasyPrint's libraries, in this process, once."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
