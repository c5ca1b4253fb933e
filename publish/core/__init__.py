"""The core: knows no kind of publication. It reads the project's files (confined), reports
problems, keeps the clock, renders and verifies PDFs and EPUBs, caches, runs workers and puts
outputs in place."""

from .libraries import install as _find_libraries_quickly

_find_libraries_quickly()  # before anything imports WeasyPrint: see libraries.py
