"""A workaround for a Whoosh 2.7 slowdown, applied once on import of the indexer.

``W3PerDocReader._cached_reader`` caches a field's length column only when the column exists,
so for every ID and KEYWORD field (which have none) each posting asks the file system again:
about 35 ``os.stat`` calls per document while a segment is flushed (measured in bench/notes.md:
8.6 -> 7.2 CPU s for content/, results, scores and facets byte-identical). Remembering the miss
too is safe: a segment's files never change once written.
"""

from __future__ import annotations

from whoosh.codec import whoosh3


def apply() -> None:
    """Patch ``W3PerDocReader._cached_reader`` to cache missing columns too (idempotent)."""
    original = whoosh3.W3PerDocReader._cached_reader
    if getattr(original, "_kb_patched", False):
        return

    def cached_reader(self, fieldname, column):  # type: ignore[no-untyped-def]
        readers = self._readers
        if fieldname in readers:
            return readers[fieldname]
        reader = original(self, fieldname, column)
        readers[fieldname] = reader  # None too: the column is not there and will not appear
        return reader

    cached_reader._kb_patched = True  # type: ignore[attr-defined]
    whoosh3.W3PerDocReader._cached_reader = cached_reader


apply()
