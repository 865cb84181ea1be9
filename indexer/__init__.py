"""Search over entries: the analyzer, the schema, builds and queries. Imports kb, never webapp."""

from indexer.build import BuildLockedError, BuildReport, IndexUnusableError, build_index, open_index
from indexer.hits import Hit
from indexer.search import QueryError, SearchIndex, SearchPage

__all__ = ["BuildLockedError", "BuildReport", "Hit", "IndexUnusableError", "QueryError", "SearchIndex", "SearchPage", "build_index", "open_index"]
