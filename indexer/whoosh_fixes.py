"""Workarounds for two Whoosh 2.7 costs, applied once on import of the indexer.

1. Memory: ``BufferFile`` wraps each sub-file of a memory-mapped segment in ``BytesIO(buf)``,
   which copies the whole file into the heap (a memoryview is not shared the way ``bytes``
   is). At scale (b) that made every process that opened the index hold a private copy of
   the 357 MB segment: 907 MB for one SearchIndex, and the same again in every gunicorn worker.
   A reader over the memoryview itself reads the same bytes without copying them, so the pages
   stay in the kernel's page cache, shared by every process.

2. Build time: ``W3PerDocReader._cached_reader`` caches a field's length column only when the column exists,
so for every ID and KEYWORD field (which have none) each posting asks the file system again:
about 35 ``os.stat`` calls per document while a segment is flushed (measured in bench/notes.md:
8.6 -> 7.2 CPU s for content/, results, scores and facets byte-identical). Remembering the miss
too is safe: a segment's files never change once written.
"""

from __future__ import annotations

from whoosh.codec import whoosh3
from whoosh.filedb import structfile


class MemoryViewReader:
    """A read-only file over a memoryview (of an mmap): what ``BytesIO`` does, without the copy."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = bytes(self._view[self._pos:end])
        self._pos = end
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        view = self._view
        end = len(view) if size is None or size < 0 else min(len(view), self._pos + size)
        newline = bytes(view[self._pos:end]).find(b"\n")
        return self.read((newline + 1) if newline >= 0 else end - self._pos)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self.closed = True


def _buffer_file_init(self, buf, name=None, onclose=None) -> None:  # type: ignore[no-untyped-def]
    self._buf = buf
    self._name = name
    self.file = MemoryViewReader(memoryview(buf)) if not isinstance(buf, bytes) else structfile.BytesIO(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def apply() -> None:
    """Patch ``BufferFile`` not to copy, and ``W3PerDocReader._cached_reader`` to cache missing columns too (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init
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
