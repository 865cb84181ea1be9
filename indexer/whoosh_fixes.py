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

3. Build time: the posting pool sorts every posting as a tuple (field, term, document, weight,
positions), spilling sorted runs to temporary files past ``limitmb`` and merging them with
``heapq.merge`` at the end: about 38% of a full build's CPU at scale (b) (profile, bench/notes.md).
Documents are added in number order, so a term's postings arrive already in order: the sort only
has to group them by term. :class:`TermPool` keeps them grouped by field and term, and sorts only
the terms; a run holds the terms in order, each with its postings, and runs are merged term by
term. It gives the postings in the same order (a term whose postings did not arrive in order, as
in a merge, is sorted as Whoosh sorts it), so the index holds the same postings.

4. Build time: when a segment is flushed, every posting asks the new segment's per-document reader
for its document's field length (a column read through ``struct`` per posting: about a tenth of
the profile). Here each field's lengths are read once per segment into a list, and the postings
take theirs from it: the same values (``W3PerDocReader.doc_field_length``'s, None included).

5. Build time: every article document repeats its statute's title, and most repeat their chapter
(143,912 repeated title analyses at scale (b), documents written in order). ``TEXT.index``
keeps the last value it analysed per field with its postings, and gives the same postings again
for the same value, instead of analysing it again. For a field with positions and our Chinese
analyzer it also counts positions from :func:`indexer.analyzer.segment` directly, not through a
Token object per word and Whoosh's per-token dictionaries (``Positions.word_values`` was a tenth
of a build): the same words in the same order, with the same counts, weights and encoded positions.

6. Lookups: ``IntersectionMatcher.all_ids`` builds a set of every id of both sides. So
``searcher.document(id=..., kind="entry")`` read all ~3,000 entry documents' postings to find one
(7 ms at scale (b); a search page with linked titles asks it several times, 1.3 ms of a STARD
question's 25). The matcher's own leapfrogging (``next``/``skip_to``) gives the same ids in the
same order, reading the short side and skipping through the long one.
"""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Iterator
from pathlib import Path

from whoosh import fields, formats, writing
from whoosh.codec import whoosh3
from whoosh.filedb import structfile
from whoosh.matching import binary, mcore
from whoosh.system import emptybytes
from whoosh.util import random_name

from indexer.analyzer import ChineseAnalyzer, normalize, segment
from indexer.docsets import ARRAYS_FOLDER, SegmentPostings

whoosh_flush_segment = None  # Whoosh's SegmentWriter._flush_segment, once apply() has replaced it
whoosh_posting_pool = None  # Whoosh's PostingPool, once apply() has replaced it


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


Group = tuple[str, bytes, list, list, list]  # (field, term, document numbers, weights, values): one term's postings


class TermPool:
    """Whoosh's ``PostingPool``, with the postings grouped by (field, term) rather than sorted (see 3.)."""

    MAX_OPEN_RUNS = 128  # as Whoosh's pool: merge runs in batches past this many open files

    def __init__(self, tempstore, segment, limitmb: int = 128, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.tempstore = tempstore
        self.segment = segment
        self.limit = limitmb * 1024 * 1024
        self.currentsize = 0
        self.fieldnames: set[str] = set()
        self.runs: list[str] = []
        self._terms: dict[str, dict[bytes, tuple[list, list, list]]] = {}  # field -> term -> postings, as added
        self._unordered: set[tuple[str, bytes]] = set()  # terms whose postings did not arrive in document order

    def add(self, item: tuple) -> None:
        """Add a posting (fieldname, btext, docnum, weight, vbytes)."""
        fieldname, btext, docnum, weight, value = item
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
            self.fieldnames.add(fieldname)
        postings = terms.get(btext)
        if postings is None:
            postings = terms[btext] = ([], [], [])
            self.currentsize += 250 + len(btext)
        elif postings[0][-1] >= docnum:
            self._unordered.add((fieldname, btext))
        postings[0].append(docnum)
        postings[1].append(weight)
        postings[2].append(value)
        # About what a posting holds in memory: 3 list slots, its weight (a float), its value.
        self.currentsize += 90 + (len(value) if value else 0)
        if self.currentsize > self.limit:
            self.save()

    def _held(self) -> Iterator[Group]:
        """Yield the groups held in memory, terms in order, each term's postings in order."""
        for fieldname in sorted(self._terms):
            terms = self._terms[fieldname]
            for btext in sorted(terms):
                docs, weights, values = terms[btext]
                if (fieldname, btext) in self._unordered:
                    docs, weights, values = _sorted(docs, weights, values)
                yield fieldname, btext, docs, weights, values

    def save(self) -> None:
        """Write the postings held in memory to a run file, term by term."""
        if self._terms:
            self._write(self._held())
        self._terms, self._unordered = {}, set()
        self.currentsize = 0

    def _write(self, groups: Iterator[Group]) -> None:
        path = f"{random_name()}.run"
        with self.tempstore.create_file(path).raw_file() as f:
            for group in groups:
                marshal.dump(group, f)
        self.runs.append(path)

    def _read(self, path: str) -> Iterator[Group]:
        with self.tempstore.open_file(path).raw_file() as f:
            while True:
                try:
                    yield marshal.load(f)
                except EOFError:
                    break
        self.tempstore.delete_file(path)

    def _merged(self, paths: list[str]) -> Iterator[Group]:
        """Yield the runs' groups merged: each term once, its postings from every run, in order."""
        current: Group | None = None
        ordered = True
        # heapq.merge gives equal terms in the order of the runs, which is the order they were written.
        for group in heapq.merge(*(self._read(path) for path in paths), key=_term_of):
            if current is not None and current[0] == group[0] and current[1] == group[1]:
                ordered = ordered and current[2][-1] < group[2][0]
                for mine, theirs in zip(current[2:], group[2:], strict=True):
                    mine.extend(theirs)
                continue
            if current is not None:
                yield current if ordered else (current[0], current[1], *_sorted(*current[2:]))
            current, ordered = group, True
        if current is not None:
            yield current if ordered else (current[0], current[1], *_sorted(*current[2:]))

    def groups(self) -> Iterator[Group]:
        """Yield every term's postings, terms in order, each term's postings in Whoosh's order."""
        if not self.runs:
            yield from self._held()
            return
        self.save()
        while len(self.runs) > self.MAX_OPEN_RUNS:
            batch, self.runs = self.runs[: self.MAX_OPEN_RUNS], self.runs[self.MAX_OPEN_RUNS:]
            rest, self.runs = self.runs, []
            self._write(self._merged(batch))
            self.runs += rest  # the merged run holds the earliest postings: it stays first
        runs, self.runs = self.runs, []
        yield from self._merged(runs)

    def iter_postings(self) -> Iterator[tuple]:
        """Yield every posting (fieldname, btext, docnum, weight, vbytes), sorted as Whoosh's pool sorts them."""
        for fieldname, btext, docs, weights, values in self.groups():
            for docnum, weight, value in zip(docs, weights, values, strict=True):
                yield fieldname, btext, docnum, weight, value

    def cleanup(self) -> None:
        """Delete the run files left (a cancelled writer)."""
        for path in self.runs:
            try:
                self.tempstore.delete_file(path)
            except OSError:
                pass
        self.runs = []


def _term_of(group: Group) -> tuple[str, bytes]:
    return group[0], group[1]


def _sorted(docs: list, weights: list, values: list) -> tuple[list, list, list]:
    """Return one term's postings sorted as Whoosh sorts posting tuples: by document, weight, value."""
    ordered = sorted(zip(docs, weights, values))
    return [p[0] for p in ordered], [p[1] for p in ordered], [p[2] for p in ordered]


def add_term_groups(fieldwriter, schema, lengths, groups: Iterator[Group], collector=None) -> None:  # type: ignore[no-untyped-def]
    """``FieldWriter.add_postings`` over a TermPool's groups: the same calls, without a tuple per posting.

    ``collector`` (a docsets.PostingsCollector) is given each term of the scorable fields, for the
    posting arrays the build saves beside the segment.
    """
    dfl = lengths.doc_field_length if lengths else (lambda docnum, fieldname: 0)
    add = fieldwriter.add
    lastfn = None
    collect = None
    for fieldname, btext, docs, weights, values in groups:
        if fieldname != lastfn:
            if lastfn is not None:
                fieldwriter.finish_field()
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            lastfn = fieldname
            collect = collector.add if collector is not None and fieldobj.scorable else None
        if collect is not None:
            if -1 in docs:  # spelling markers are not postings (below)
                kept = [i for i, docnum in enumerate(docs) if docnum != -1]
                if kept:
                    collect(fieldname, btext, [docs[i] for i in kept], [weights[i] for i in kept])
            else:
                collect(fieldname, btext, docs, weights)
        started = False
        for docnum, weight, value in zip(docs, weights, values, strict=True):
            if docnum == -1:  # Whoosh's marker of a spelling word, not a posting (FieldWriter.add_postings)
                continue
            if not started:
                fieldwriter.start_term(btext)
                started = True
            add(docnum, weight, emptybytes if value is None else value, dfl(docnum, fieldname))
        if started:
            fieldwriter.finish_term()
    if lastfn is not None:
        fieldwriter.finish_field()


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
    """SegmentWriter._flush_segment, with the lengths read once per field (:class:`_FieldLengths`), a TermPool's
    postings term by term, and the scored fields' postings saved as arrays beside the segment (indexer/docsets.py)."""
    self.perdocwriter.close()
    pdr = self.per_document_reader() if self.codec.length_stats else None
    lengths = _FieldLengths(pdr) if isinstance(pdr, whoosh3.W3PerDocReader) else pdr
    try:
        if isinstance(self.pool, TermPool):
            folder = getattr(self.storage, "folder", None)  # a folder on disk: its build's arrays/ get the posting arrays
            collector = SegmentPostings.collect() if folder else None
            add_term_groups(self.fieldwriter, self.schema, lengths, self.pool.groups(), collector)
            if collector is not None:
                collector.save(Path(folder) / ARRAYS_FOLDER, self.newsegment.segment_id())
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
    finally:
        if pdr:
            pdr.close()  # a failed flush (a full disk) too: its files stay open otherwise until collected


_last_indexed: dict[int, tuple[object, str, list]] = {}  # id(field) -> (field, value, postings)


def _text_index(self, value, **kwargs):  # type: ignore[no-untyped-def]
    """``FieldType.index`` for TEXT fields, remembering the last value's postings (the field is kept, so its id is not reused)."""
    if kwargs or not isinstance(value, str):
        return fields.FieldType.index(self, value, **kwargs)
    last = _last_indexed.get(id(self))
    if last is not None and last[0] is self and last[1] == value:
        return last[2]
    if type(self.format) is formats.Positions and type(self.analyzer) is ChineseAnalyzer:
        postings = _positions_postings(self.format, value)
    else:
        postings = list(fields.FieldType.index(self, value))
    if len(_last_indexed) > 64:  # schemas come and go (one per open index); keep this small
        _last_indexed.clear()
    _last_indexed[id(self)] = (self, value, postings)
    return postings


def _positions_postings(fmt: formats.Positions, value: str) -> list[tuple[bytes, int, float, bytes]]:
    """``FieldType.index`` of ``value`` for a Positions field analysed by ChineseAnalyzer (index mode).

    As ``Positions.word_values``: words in the order of their first occurrence, their positions,
    a weight of 1.0 per occurrence (our tokens' boost) times the field boost, Whoosh's encoding.
    """
    positions: dict[str, list[int]] = {}
    for word, position, _start, _end in segment(normalize(value), subwords=True):
        found = positions.get(word)
        if found is None:
            positions[word] = [position]
        else:
            found.append(position)
    boost, encode = fmt.field_boost, fmt.encode
    return [(word.encode("utf-8"), len(found), float(len(found)) * boost, encode(found)) for word, found in positions.items()]


def _intersection_all_ids(self):  # type: ignore[no-untyped-def]
    """IntersectionMatcher.all_ids by leapfrogging (Matcher.all_ids over next/skip_to), not by two sets of every id."""
    return mcore.Matcher.all_ids(self)


def apply() -> None:
    """Patch ``BufferFile`` not to copy, ``W3PerDocReader._cached_reader`` to cache missing columns too,
    the posting pool by a :class:`TermPool`, and intersections' ``all_ids`` to leapfrog (idempotent)."""
    global whoosh_flush_segment, whoosh_posting_pool
    structfile.BufferFile.__init__ = _buffer_file_init
    binary.IntersectionMatcher.all_ids = _intersection_all_ids
    if writing.PostingPool is not TermPool:
        whoosh_posting_pool = writing.PostingPool  # Whoosh's own, for tests to compare with
        writing.PostingPool = TermPool  # SegmentWriter makes its pool from this module global
    if writing.SegmentWriter._flush_segment is not _flush_segment:
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
