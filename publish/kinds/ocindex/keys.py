"""What a country profile's outputs depend on, for the cache key: its edition's files (ranks
draw on every country) and its own folder."""
from __future__ import annotations

from ...core.cache import cache_key, digest_files
from ...core.sources import Project
from .load import Edition, Publication


def edition_digest(project: Project, edition: Edition) -> str:
    """The edition's files: edition.yaml, the outline, both datasets."""
    return digest_files(project, [edition.file, edition.outline.file, edition.dataset.file,
                                  edition.previous.file], project.root)


def publication_key(project: Project, publication: Publication, shared: str,
                    options: dict) -> str:
    """The cache key of one publication: `shared` covers the tool, the design and the edition."""
    profile = publication.profile
    own = {"publication": publication.slug,
           "profile": digest_files(project, project.files_under(profile.dir), profile.dir)
           if profile else None}
    return cache_key(shared, own, options)
