"""Workarounds for Whoosh 2.7 costs, applied once on import of the indexer.

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

3. Build time: the posting pool sorts runs of postings to temporary files when it holds more than
``limitmb``, writing and reading them with one ``pickle.dump``/``pickle.load`` call per posting
(about a fifth of a full build's time in the profile, bench/notes.md). Runs are written here as
``marshal`` chunks of 16,384 postings, read back chunk by chunk: the same tuples in the same
order, so the index holds the same postings, in a few calls per run instead of millions.

4. Build time: when a segment is flushed, every posting asks the new segment's per-document reader
for its document's field length (a column read through ``struct`` per posting: about a tenth of
the profile). Here each field's lengths are read once per segment into a list, and the postings
take theirs from it: the same values (``W3PerDocReader.doc_field_length``'s, None included).

5. Build time: every article document repeats its statute's title, and most repeat their chapter
(143,912 repeated title analyses at scale (b), documents written in order). ``TEXT.index``
keeps the last value it analysed per field with its postings, and gives the same postings again
for the same value, instead of analysing it again.

6. Lookups: ``IntersectionMatcher.all_ids`` builds a set of every id of both sides. So
``searcher.document(id=..., kind="entry")`` read all ~3,000 entry documents' postings to find one
(7 ms at scale (b); a search page with linked titles asks it several times, 1.3 ms of a STARD
question's 25). The matcher's own leapfrogging (``next``/``skip_to``) gives the same ids in the
same order, reading the short side and skipping through the long one.
"""

from __future__ import annotations

import marshal
from itertools import islice

from whoosh import fields, writing
from whoosh.codec import whoosh3
from whoosh.filedb import structfile
from whoosh.matching import binary, mcore

RUN_CHUNK = 16_384  # postings per marshal chunk in a pool's run file
whoosh_flush_segment = None  # Whoosh's SegmentWriter._flush_segment, once apply() has replaced it


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


def _write_run(self, f, items) -> None:  # type: ignore[no-untyped-def]
    """Write a sorted run of postings as marshal chunks (PostingPool's run file)."""
    items = iter(items)
    try:
        while chunk := list(islice(items, RUN_CHUNK)):
            marshal.dump(chunk, f)
    finally:
        f.close()


def _read_run(self, path):  # type: ignore[no-untyped-def]
    """Yield the postings of a run written by :func:`_write_run`, then delete it."""
    f = self._open_run(path)
    try:
        while True:
            try:
                chunk = marshal.load(f)
            except EOFError:
                return
            yield from chunk
    finally:
        f.close()
        self._remove_run(path)


class _FieldLengths:
    """What ``FieldWriter.add_postings`` asks of a per-document reader, with each field's lengths read once."""

    def __init__(self, perdoc) -> None:  # type: ignore[no-untyped-def]
        self._perdoc = perdoc
        self._fields: dict[str, list] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0):  # type: ignore[no-untyped-def]
        lengths = self._fields.get(fieldname)
        if lengths is None:
            perdoc = self._perdoc
            column = perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)  # noqa: SLF001
            count = perdoc.doc_count_all()
            if column is None:
                lengths = [default] * count
            else:
                to_length = whoosh3.byte_to_length
                lengths = [to_length(byte) if byte else None for byte in (column[i] for i in range(count))]
            self._fields[fieldname] = lengths
        return lengths[docnum]


def _flush_segment(self) -> None:  # type: ignore[no-untyped-def]
    """SegmentWriter._flush_segment, with the lengths read once per field (:class:`_FieldLengths`)."""
    self.perdocwriter.close()
    pdr = self.per_document_reader() if self.codec.length_stats else None
    lengths = _FieldLengths(pdr) if isinstance(pdr, whoosh3.W3PerDocReader) else pdr
    self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if pdr:
        pdr.close()


_last_indexed: dict[int, tuple[object, str, list]] = {}  # id(field) -> (field, value, postings)


def _text_index(self, value, **kwargs):  # type: ignore[no-untyped-def]
    """``FieldType.index`` for TEXT fields, remembering the last value's postings (the field is kept, so its id is not reused)."""
    if kwargs or not isinstance(value, str):
        return fields.FieldType.index(self, value, **kwargs)
    last = _last_indexed.get(id(self))
    if last is not None and last[0] is self and last[1] == value:
        return last[2]
    postings = list(fields.FieldType.index(self, value))
    if len(_last_indexed) > 64:  # schemas come and go (one per open index); keep this small
        _last_indexed.clear()
    _last_indexed[id(self)] = (self, value, postings)
    return postings


def _intersection_all_ids(self):  # type: ignore[no-untyped-def]
    """IntersectionMatcher.all_ids by leapfrogging (Matcher.all_ids over next/skip_to), not by two sets of every id."""
    return mcore.Matcher.all_ids(self)


def apply() -> None:
    """Patch ``BufferFile`` not to copy, ``W3PerDocReader._cached_reader`` to cache missing columns too,
    the posting pool's runs to marshal chunks, and intersections' ``all_ids`` to leapfrog (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init
    binary.IntersectionMatcher.all_ids = _intersection_all_ids
    writing.PostingPool._write_run = _write_run
    writing.PostingPool._read_run = _read_run
    if writing.SegmentWriter._flush_segment is not _flush_segment:
        global whoosh_flush_segment
        whoosh_flush_segment = writing.SegmentWriter._flush_segment  # Whoosh's own, for tests to compare with
        writing.SegmentWriter._flush_segment = _flush_segment
    fields.TEXT.index = _text_index
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
