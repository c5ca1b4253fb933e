"""Kinds of publication: each tells the core what to build."""
