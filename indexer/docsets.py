"""Posting lists as numpy arrays: which documents match, facet counts, and BM25F scores.

Whoosh answers a query by stepping a tree of Python matchers one document at a time. At scale
(b) (150,000 documents) a common word or a question matches 10^4-10^5 documents, and that
stepping was most of a query's time: scoring them, counting them for the total, and counting
them again per facet. Here each term's posting list is read from Whoosh's files once, block by
block, into arrays (document numbers and weights), and a query tree is evaluated with numpy:

* :meth:`IndexView.docs` - the documents a query matches (exactly what Whoosh matches);
* :meth:`IndexView.scored` - the same documents with Whoosh's own BM25F score: the same
  formula, the same global statistics (``Searcher.idf``, ``avg_field_length``), the same
  one-byte field lengths and float32 weights read from the index. tests/test_index.py checks the
  ranking against Whoosh's;
* :meth:`IndexView.counts` - facet counts, one ``bincount`` over a column's value codes; for a
  list field (charges: a judgment may have two), over its (document, value) pairs, read once from
  its terms, so that a document counts under each of its values.

Arrays are cached per *segment*, and segments never change once written (deletions are applied
at query time from each segment's deleted set). An incremental update adds a small segment, so
only that segment is read again: the big ones stay cached across commits.

Query types this module does not model (phrases, for example, from ``syntax=1``) raise
:class:`indexer.engine.Unsupported`, and the caller asks Whoosh itself. This module is part of
the engine behind :mod:`indexer.engine` (:mod:`indexer.whoosh_engine` uses it); nothing else
calls it.

A build also saves each segment's postings of the scored fields as arrays (:class:`SegmentPostings`,
written while Whoosh writes the segment): a server maps them read-only and takes a term's
postings as a slice, instead of decoding Whoosh's pickled blocks (about 1 ms per term; a STARD
question reads 40 or so terms no earlier question read). The mapped pages are the kernel's, so
every gunicorn worker shares one copy.
"""

from __future__ import annotations

import io
import json
import os
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from indexer.engine import Unsupported

TERM_CACHE_BYTES = 96 * 1024 * 1024  # posting arrays kept (ids int32 + weights float32: ~12 M postings)
JOINED_CACHE_BYTES = 64 * 1024 * 1024  # per index state: a term's postings over every segment and its BM25F
# scores, so that the words real questions share are read and scored once, not per question
EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_SCORES = np.zeros(0, dtype=np.float64)
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_LENGTH_OF_BYTE[0] = 1.0  # no length recorded: Whoosh's scorer defaults to 1 (such documents have no postings)
_BYTE_OF_ONE = 0
ARRAYS_FOLDER = "arrays"
VALUE_TABLES = ("codes", "pairs")  # the arrays saved with their table of values (a .json beside the .npy)
DENSE_UNION = 20_000  # postings in a union above which it is done over a dense array of document numbers


class ArrayCache:
    """A thread-safe LRU of numpy arrays (or tuples of them), bounded by their total size in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._sizes: dict[Any, int] = {}
        self.bytes = 0

    def get(self, key: Any) -> Any:
        """Return the value cached under ``key`` (and mark it recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> Any:
        """Cache ``value`` (an array or a tuple of arrays, made read-only) under ``key``; return it."""
        arrays = value if isinstance(value, tuple) else (value,)
        for item in arrays:
            item.flags.writeable = False  # shared by every search: a caller that wrote to it would corrupt the others'
        size = sum(item.nbytes for item in arrays)
        with self._lock:
            if key in self._items:
                self.bytes -= self._sizes[key]
            self._items[key] = value
            self._sizes[key] = size
            self.bytes += size
            while self.bytes > self.limit and len(self._items) > 1:
                old, _value = self._items.popitem(last=False)
                self.bytes -= self._sizes.pop(old)
        return value

    def forget(self, drop) -> None:  # type: ignore[no-untyped-def]
        """Remove every entry whose key ``drop(key)`` is true for."""
        with self._lock:
            for key in [k for k in self._items if drop(k)]:
                del self._items[key]
                self.bytes -= self._sizes.pop(key)


class PostingArrays:
    """Per-segment arrays of one index, shared by every thread that searches it."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder  # where per-segment arrays are saved (the build folder's arrays/), if anywhere
        self._lock = threading.Lock()
        self._terms = ArrayCache(TERM_CACHE_BYTES)  # (segment, field, term) -> (local ids, float32 weights)
        # (index state, what, field, term) -> global ids and float64 weights ("postings"), or BM25F scores ("scores")
        self.joined_terms = ArrayCache(JOINED_CACHE_BYTES)
        self._lengths: dict[tuple[str, str], np.ndarray] = {}  # (segment, field) -> field length per document
        self._codes: dict[tuple[str, str], np.ndarray] = {}  # (segment, field) -> value code per document
        self._pairs: dict[tuple[str, str], np.ndarray] = {}  # (segment, list field) -> [documents, value codes], a pair per value
        self._values: dict[str, list[Any]] = {}  # field -> value per code (code 0: no value)
        self._value_codes: dict[str, dict[Any, int]] = {}
        self._live: dict[tuple[str, int], np.ndarray | None] = {}
        self._joined: dict[tuple, np.ndarray] = {}  # (index state, kind, field) -> array over the whole index
        self._segments_seen: set[str] = set()
        self._saved: dict[tuple[str, str], SegmentPostings | None] = {}  # (segment, field) -> the build's postings arrays

    def view(self, searcher: Searcher) -> IndexView:
        """Return a view for one search, over the calling thread's own searcher."""
        view = IndexView(self, searcher)
        segments = {s[0] for s in view.segments}
        if segments != self._segments_seen:
            if self._segments_seen:
                self.forget_segments(segments)
            self._segments_seen = segments
        return view

    def forget_segments(self, keep: set[str]) -> None:
        """Drop the arrays of segments no longer in the index (merged away)."""
        with self._lock:
            for cache in (self._lengths, self._codes, self._pairs, self._saved):
                for key in [k for k in cache if k[0] not in keep]:
                    del cache[key]
            self._terms.forget(lambda key: key[0] not in keep)
            self.joined_terms.forget(lambda key: not set(key[0][: len(key[0]) // 2]) <= keep)
            for key in [k for k in self._live if k[0] not in keep]:
                del self._live[key]
            self._joined = {k: v for k, v in self._joined.items() if set(k[0][: len(k[0]) // 2]) <= keep}

    # -- per segment ------------------------------------------------------------------------------

    def segment_postings(self, segment_id: str, reader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Return (local document numbers, weights) of a term in one segment, deleted documents included."""
        saved = self._saved_postings(segment_id, fieldname)
        if saved is not None:
            return saved.postings(btext)
        key = (segment_id, fieldname, btext)
        cached = self._terms.get(key)
        if cached is not None:
            return cached
        if (fieldname, btext) not in reader:
            result = (EMPTY_IDS, np.zeros(0, dtype=np.float32))
        else:
            matcher = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)  # noqa: SLF001 - without the deletion filter
            if isinstance(matcher, W3LeafMatcher):
                id_blocks, weight_blocks = [], []
                while matcher.is_active():
                    # Whole blocks, not one posting at a time; the ids are stored as gaps, which
                    # Whoosh adds up in a Python generator and numpy in one cumsum.
                    if matcher._data is None:  # noqa: SLF001
                        matcher._read_data()  # noqa: SLF001
                    raw = matcher._data[0]  # noqa: SLF001
                    ids = np.asarray(raw, dtype=np.int64)
                    id_blocks.append((ids if matcher._byteids else np.cumsum(ids)).astype(np.int32))  # noqa: SLF001
                    matcher._read_weights()  # noqa: SLF001
                    weight_blocks.append(np.asarray(matcher._weights, dtype=np.float32))  # noqa: SLF001
                    matcher._next_block()  # noqa: SLF001
                result = (np.concatenate(id_blocks), np.concatenate(weight_blocks))
            else:
                ids, weights = [], []
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(matcher.weight())
                    matcher.next()
                result = (np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32))
        return self._terms.put(key, result)

    def _saved_postings(self, segment_id: str, fieldname: str) -> SegmentPostings | None:
        """Return the postings the build saved for a segment's field (mapped on first use), or None if there are none."""
        key = (segment_id, fieldname)
        try:
            return self._saved[key]
        except KeyError:
            pass
        saved = SegmentPostings.load(self.folder, segment_id, fieldname) if self.folder is not None else None
        with self._lock:
            self._saved[key] = saved
        return saved

    def segment_live(self, segment_id: str, reader: Any) -> np.ndarray | None:
        """Return a boolean mask of the segment's live documents, or None if none is deleted."""
        deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
        key = (segment_id, len(deleted))
        with self._lock:
            if key in self._live:
                return self._live[key]
        mask = None
        if deleted:
            mask = np.ones(reader.doc_count_all(), dtype=bool)
            mask[np.fromiter(deleted, dtype=np.int64)] = False
        with self._lock:
            self._live[key] = mask
        return mask

    def segment_lengths(self, segment_id: str, reader: Any, fieldname: str) -> np.ndarray:
        """Return the field's length per document of one segment, as Whoosh's scorer reads it."""
        key = (segment_id, fieldname)
        with self._lock:
            cached = self._lengths.get(key)
        if cached is not None:
            return cached
        lengths = _LENGTH_OF_BYTE[self._sidecar(segment_id, fieldname, "lengths", lambda: (_length_bytes(reader, fieldname), None))[0]]
        with self._lock:
            self._lengths[key] = lengths
        return lengths

    def segment_codes(self, segment_id: str, reader: Any, fieldname: str) -> np.ndarray:
        """Return the value code per document of one segment, for a sortable (column) field.

        Codes index :meth:`values`, one table per field shared by every segment (code 0: no value).
        """
        key = (segment_id, fieldname)
        with self._lock:
            cached = self._codes.get(key)
        if cached is not None:
            return cached
        local_codes, local_values = self._sidecar(segment_id, fieldname, "codes", lambda: _column_codes(reader, fieldname))
        with self._lock:
            mapping = self._global_codes(fieldname, local_values)
            codes = mapping[local_codes] if len(local_values) else np.zeros(len(local_codes), dtype=np.int32)
            self._codes[key] = codes
        return codes

    def segment_pairs(self, segment_id: str, reader: Any, fieldname: str) -> np.ndarray:
        """Return [local document numbers, value codes] of a list field in one segment: a pair per value a document holds.

        A list field has no column: the pairs are read from its terms' postings (deleted documents
        included), in term order. Codes index :meth:`values`, as a column's do.
        """
        key = (segment_id, fieldname)
        with self._lock:
            cached = self._pairs.get(key)
        if cached is not None:
            return cached
        local, local_values = self._sidecar(segment_id, fieldname, "pairs", lambda: self._term_pairs(segment_id, reader, fieldname))
        with self._lock:
            pairs = np.stack((local[0], self._global_codes(fieldname, local_values)[local[1]])).astype(np.int32)
            self._pairs[key] = pairs
        return pairs

    def _term_pairs(self, segment_id: str, reader: Any, fieldname: str) -> tuple[np.ndarray, list[Any]]:
        """Return ([local document numbers, local codes], value per local code) of a field's terms in one segment."""
        from_bytes = reader.schema[fieldname].from_bytes
        values: list[Any] = [None]
        docs, codes = [EMPTY_IDS], [EMPTY_IDS]
        for btext in reader.lexicon(fieldname):
            ids, _weights = self.segment_postings(segment_id, reader, fieldname, btext)
            docs.append(ids)
            codes.append(np.full(len(ids), len(values), dtype=np.int32))
            values.append(from_bytes(btext))
        return np.stack((np.concatenate(docs), np.concatenate(codes))).astype(np.int32), values

    def _global_codes(self, fieldname: str, local_values: list[Any]) -> np.ndarray:
        """Return the field's code (in :meth:`values`) of each of a segment's local values, adding new ones (under the lock)."""
        values = self._values.setdefault(fieldname, [None])
        index = self._value_codes.setdefault(fieldname, {None: 0, "": 0})
        mapping = np.zeros(len(local_values), dtype=np.int32)
        for local, value in enumerate(local_values):
            code = index.get(value)
            if code is None:
                code = index[value] = len(values)
                values.append(value)
            mapping[local] = code
        return mapping

    def _sidecar(self, segment_id: str, fieldname: str, kind: str, compute) -> tuple[np.ndarray, list[Any] | None]:  # type: ignore[no-untyped-def]
        """Read a segment's array from the build folder, or compute it and save it there for the next process.

        Segments never change once written, so the files never go stale; a missing, damaged or
        unwritable file only means computing the array again (a few seconds at scale b).
        """
        folder = self.folder
        stem = f"{segment_id}-{fieldname}.{kind}"
        if folder is not None:
            try:
                array = np.load(folder / f"{stem}.npy", allow_pickle=False)
                values = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8")) if kind in VALUE_TABLES else None
                return array, values
            except (OSError, ValueError, EOFError):  # EOFError: a file truncated to 0 bytes
                pass
        array, values = compute()
        if folder is not None:
            try:
                folder.mkdir(exist_ok=True)
                if values is not None:
                    _write_atomically(folder / f"{stem}.json", json.dumps(values, ensure_ascii=False).encode())
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                _write_atomically(folder / f"{stem}.npy", buffer.getvalue())
            except OSError:
                pass  # a read-only index: the arrays live in memory only
        return array, values

    def values(self, fieldname: str) -> list[Any]:
        """Return the value of each code of a column field."""
        return self._values.get(fieldname, [None])


class SegmentPostings:
    """One segment's postings of one field as arrays: its terms (sorted), where each term's postings start, ids, weights.

    Written by the build as the segment is written (:meth:`collect`, :meth:`save`), read by
    servers through read-only memory maps (:meth:`load`). The weights are float32, as Whoosh's
    posting blocks hold them; a term's slice is what decoding its blocks gives.
    """

    KINDS = ("starts", "ids", "weights", "terms")  # terms last: the file that says the others are complete

    def __init__(self, terms: np.ndarray, starts: np.ndarray, ids: np.ndarray, weights: np.ndarray) -> None:
        self.terms, self.starts, self.ids, self.weights = terms, starts, ids, weights

    @staticmethod
    def path(folder: Path, segment_id: str, fieldname: str, kind: str) -> Path:
        return folder / f"{segment_id}-{fieldname}.postings-{kind}.npy"

    @classmethod
    def load(cls, folder: Path, segment_id: str, fieldname: str) -> SegmentPostings | None:
        """Map the saved arrays, or return None if they are missing or damaged (postings are then decoded)."""
        try:
            arrays = {kind: np.load(cls.path(folder, segment_id, fieldname, kind), mmap_mode="r", allow_pickle=False)
                      for kind in cls.KINDS}
        except (OSError, ValueError, EOFError):
            return None
        saved = cls(arrays["terms"], arrays["starts"], arrays["ids"], arrays["weights"])
        if len(saved.starts) != len(saved.terms) + 1 or int(saved.starts[-1]) != len(saved.ids) or len(saved.ids) != len(saved.weights):
            return None
        return saved

    def postings(self, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Return (local document numbers, weights) of a term: slices of the maps, or empty arrays."""
        terms = self.terms
        i = int(np.searchsorted(terms, btext))
        if i < len(terms) and terms[i] == btext:
            start, end = int(self.starts[i]), int(self.starts[i + 1])
            return np.asarray(self.ids[start:end]), np.asarray(self.weights[start:end])
        return EMPTY_IDS, np.zeros(0, dtype=np.float32)

    @classmethod
    def collect(cls) -> PostingsCollector:
        """Return a collector for a segment being written, term by term in sorted order."""
        return PostingsCollector()


class PostingsCollector:
    """What :meth:`SegmentPostings.collect` returns: fed each term's postings as the segment is written."""

    def __init__(self) -> None:
        self._fields: dict[str, tuple[list[bytes], list[int], array, array]] = {}

    def add(self, fieldname: str, btext: bytes, docs: list[int], weights: list[float]) -> None:
        """Add one term's postings (terms in sorted order, documents in order)."""
        terms, starts, ids, weight_array = self._fields.setdefault(fieldname, ([], [0], array("i"), array("f")))
        terms.append(btext)
        ids.extend(docs)
        weight_array.extend(weights)  # to float32 as Whoosh's array("f") of a block does
        starts.append(len(ids))

    def save(self, folder: Path, segment_id: str) -> None:
        """Write each field's arrays into ``folder`` (the build's arrays/); a field whose terms numpy cannot hold exactly is left out.

        Best effort, as the other arrays: a field whose files cannot be written (a full disk) is
        left out too, and its postings are decoded from Whoosh's files when asked for.
        """
        try:
            folder.mkdir(exist_ok=True)
        except OSError:
            return
        for fieldname, (terms, starts, ids, weights) in self._fields.items():
            if any(t.endswith(b"\0") for t in terms):  # numpy's fixed-width bytes drop trailing NULs: decode this field instead
                continue
            arrays = {"starts": np.array(starts, dtype=np.int64), "ids": np.frombuffer(ids, dtype=np.int32),
                      "weights": np.frombuffer(weights, dtype=np.float32), "terms": np.array(terms, dtype=np.bytes_)}
            try:
                for kind in SegmentPostings.KINDS:
                    buffer = io.BytesIO()
                    np.save(buffer, arrays[kind], allow_pickle=False)
                    _write_atomically(SegmentPostings.path(folder, segment_id, fieldname, kind), buffer.getvalue())
            except OSError:
                for kind in SegmentPostings.KINDS:  # without its terms file the rest is never read; free the space
                    SegmentPostings.path(folder, segment_id, fieldname, kind).unlink(missing_ok=True)


class IndexView:
    """One search's view of the index: the searcher's segments, with their offsets and deletions."""

    def __init__(self, arrays: PostingArrays, searcher: Searcher) -> None:
        self.arrays = arrays
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self.segments = []
        for sub, offset in searcher.subsearchers or [(searcher, 0)]:
            reader = sub.reader()
            segment_id = reader.segment().segment_id()
            self.segments.append((segment_id, reader, offset, arrays.segment_live(segment_id, reader)))
        self.key = tuple(s[0] for s in self.segments) + tuple(int(s[3] is not None and (~s[3]).sum()) for s in self.segments)
        weighting = searcher.weighting
        if not isinstance(weighting, BM25F) or weighting._field_B:  # noqa: SLF001
            raise Unsupported("only the default BM25F weighting is modelled")
        self.B, self.K1 = weighting.B, weighting.K1

    # -- matching ---------------------------------------------------------------------------------

    def docs(self, q: wq.Query | None) -> np.ndarray:
        """Return the sorted numbers of the live documents ``q`` matches (all of them for None)."""
        if q is None or isinstance(q, wq.Every):
            return self._every()
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return EMPTY_IDS
        if isinstance(q, wq.Term):
            return self._postings(q)[0]
        if isinstance(q, wq.And):
            return _intersect([self.docs(sub) for sub in q.subqueries]) if q.subqueries else self._every()
        if isinstance(q, wq.Or):
            _check_or(q)
            return _union([self.docs(sub) for sub in q.subqueries])
        if isinstance(q, wq.AndMaybe):  # the optional side only adds score
            return self.docs(q.a)
        if isinstance(q, wq.Require):
            return _intersect([self.docs(q.a), self.docs(q.b)])
        if isinstance(q, wq.AndNot):
            return np.setdiff1d(self.docs(q.a), self.docs(q.b), assume_unique=True)
        if isinstance(q, wq.Not):
            return np.setdiff1d(self._every(), self.docs(q.query), assume_unique=True)
        # Anything else (phrases ...): Whoosh's own matcher, exact.
        return np.unique(np.fromiter(self.searcher.docs_for_query(q), dtype=np.int32))

    def _every(self) -> np.ndarray:
        parts = []
        for _segment_id, reader, offset, live in self.segments:
            local = np.arange(reader.doc_count_all(), dtype=np.int32)
            parts.append((local if live is None else local[live]) + offset)
        return np.concatenate(parts) if parts else EMPTY_IDS

    def _postings(self, q: wq.Term) -> tuple[np.ndarray, np.ndarray]:
        """Return (global document numbers, float64 weights) of a term's live postings (read-only arrays)."""
        schema = self.searcher.schema
        if q.fieldname not in schema:
            return EMPTY_IDS, EMPTY_SCORES
        try:
            btext = schema[q.fieldname].to_bytes(q.text)
        except ValueError:
            return EMPTY_IDS, EMPTY_SCORES
        key = (self.key, "postings", q.fieldname, btext)
        cached = self.arrays.joined_terms.get(key)
        if cached is None:
            cached = self.arrays.joined_terms.put(key, self._read_postings(q.fieldname, btext))
        return cached

    def _read_postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        id_parts, weight_parts = [], []
        for segment_id, reader, offset, live in self.segments:
            ids, weights = self.arrays.segment_postings(segment_id, reader, fieldname, btext)
            if not len(ids):
                continue
            if live is not None:
                keep = live[ids]
                ids, weights = ids[keep], weights[keep]
            id_parts.append(ids + offset if offset else ids)
            weight_parts.append(weights)
        if not id_parts:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        if len(id_parts) == 1:
            return id_parts[0], weight_parts[0].astype(np.float64)
        return np.concatenate(id_parts), np.concatenate(weight_parts).astype(np.float64)

    # -- scoring ----------------------------------------------------------------------------------

    def scored(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """Return (sorted document numbers, BM25F scores) of the documents ``q`` matches."""
        if isinstance(q, wq.Term):
            ids, scores = self._term_scores(q)
        elif q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return EMPTY_IDS, EMPTY_SCORES
        elif isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            ids = self._every()  # Whoosh's Every gives each document the weight 1.0 (times the boost below)
            scores = np.ones(len(ids), dtype=np.float64)
        elif isinstance(q, wq.Or):
            _check_or(q)
            ids, scores = self._scored_union(q)
        elif isinstance(q, wq.And):
            ids, scores = _sum_intersection([self.scored(sub) for sub in q.subqueries])
        elif isinstance(q, wq.AndMaybe):
            ids, scores = self.scored(q.a)
            b_ids, b_scores = self.scored(q.b)
            scores = _add_where_present(ids, scores, b_ids, b_scores)
        elif isinstance(q, wq.Require):
            ids, scores = self.scored(q.a)
            keep = _member_mask(ids, self.docs(q.b))
            ids, scores = ids[keep], scores[keep]
        else:
            raise Unsupported(type(q).__name__)
        if q.boost != 1.0:
            scores = scores * q.boost
        return ids, scores

    def _scored_union(self, q: wq.Or) -> tuple[np.ndarray, np.ndarray]:
        """Return the scored union of ``q``'s subqueries (before its boost).

        A union of terms only (one word over the text fields, as search's field_query makes it) is
        cached per index state: questions share many words, and the union of a common word's
        postings in four fields was most of what it cost.
        """
        subqueries = q.subqueries
        # Whoosh's Term compares its boost; its Require does not, so only a Require without one is a key.
        if not all(isinstance(sub, wq.Term) or (isinstance(sub, wq.Require) and sub.boost == 1.0 and isinstance(sub.a, wq.Term)
                                                and isinstance(sub.b, wq.Term)) for sub in subqueries):
            return _sum_union([self.scored(sub) for sub in subqueries])
        key = (self.key, "union", tuple(subqueries))
        cached = self.arrays.joined_terms.get(key)
        if cached is None:
            ids, scores = _sum_union([self.scored(sub) for sub in subqueries])
            cached = self.arrays.joined_terms.put(key, (ids, scores))
        return cached

    def _term_scores(self, q: wq.Term) -> tuple[np.ndarray, np.ndarray]:
        searcher = self.searcher
        if q.fieldname not in searcher.schema:
            return EMPTY_IDS, EMPTY_SCORES
        field = searcher.schema[q.fieldname]
        ids, weights = self._postings(q)
        if not len(ids):
            return EMPTY_IDS, EMPTY_SCORES
        if not field.scorable:
            return ids, weights  # no lengths: Whoosh's BM25F scores such a field by the posting's weight (WeightScorer)
        btext = field.to_bytes(q.text)
        key = (self.key, "scores", q.fieldname, btext)
        scores = self.arrays.joined_terms.get(key)
        if scores is None:
            idf = searcher.idf(q.fieldname, btext)
            avgfl = searcher.avg_field_length(q.fieldname) or 1
            lengths = self._joined_lengths(q.fieldname)[ids]
            B, K1 = self.B, self.K1
            # whoosh.scoring.bm25, term by term in the same order, so the floats are the same.
            scores = self.arrays.joined_terms.put(key, idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl))))
        return ids, scores

    def _joined(self, kind: str, fieldname: str) -> np.ndarray:
        key = (self.key, kind, fieldname)
        joined = self.arrays._joined.get(key)  # noqa: SLF001
        if joined is None:
            if kind == "pairs":  # [documents, codes]: a segment's document numbers move by its offset
                parts = [self.arrays.segment_pairs(segment_id, reader, fieldname) + np.array([[offset], [0]], dtype=np.int32)
                         for segment_id, reader, offset, _live in self.segments]
                joined = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), dtype=np.int32)
            else:
                read = self.arrays.segment_lengths if kind == "lengths" else self.arrays.segment_codes
                parts = [read(segment_id, reader, fieldname) for segment_id, reader, _offset, _live in self.segments]
                joined = np.concatenate(parts) if parts else np.zeros(0)
            with self.arrays._lock:  # noqa: SLF001
                if len(self.arrays._joined) > 64:  # noqa: SLF001
                    self.arrays._joined.clear()  # noqa: SLF001
                self.arrays._joined[key] = joined  # noqa: SLF001
        return joined

    def _joined_lengths(self, fieldname: str) -> np.ndarray:
        return self._joined("lengths", fieldname)

    # -- term statistics (for the learned ranking) -----------------------------------------------

    def frequencies(self, fieldname: str, term: str, docs: np.ndarray) -> np.ndarray:
        """Return how often ``term`` occurs in ``fieldname`` of each of ``docs`` (sorted or not; 0 where absent)."""
        ids, weights = self._postings(wq.Term(fieldname, term))
        out = np.zeros(len(docs), dtype=np.float64)
        if len(ids) and len(docs):
            where = np.searchsorted(ids, docs)
            where[where >= len(ids)] = 0
            found = ids[where] == docs
            out[found] = weights[where[found]]
        return out

    def document_frequency(self, fieldname: str, term: str) -> int:
        """Return the number of live documents whose ``fieldname`` holds ``term``."""
        return int(len(self._postings(wq.Term(fieldname, term))[0]))

    def has_value(self, fieldname: str, value: str, docs: np.ndarray) -> np.ndarray:
        """Return, for each of ``docs``, whether its ``fieldname`` column holds ``value``."""
        values = self.arrays.values(fieldname)
        if value not in values:
            return np.zeros(len(docs), dtype=bool)
        return self._joined("codes", fieldname)[docs] == values.index(value)

    def lengths(self, fieldname: str, docs: np.ndarray) -> np.ndarray:
        """Return the (one-byte encoded, as BM25F reads it) length of ``fieldname`` in each of ``docs``."""
        return self._joined_lengths(fieldname)[docs]

    # -- facets -----------------------------------------------------------------------------------

    def counts(self, docs: np.ndarray, fieldname: str) -> list[tuple[Any, int]]:
        """Return (value, number of ``docs`` with it) for every value that occurs; a list field counts a document under each of its values."""
        if is_list(self.searcher.schema, fieldname):
            pairs = self._joined("pairs", fieldname)
            codes = pairs[1][_member_mask(pairs[0], docs, unique=False)]
        else:
            codes = self._joined("codes", fieldname)[docs]
        values = self.arrays.values(fieldname)  # after the segments' values are read in
        if not len(codes):
            return []
        tally = np.bincount(codes, minlength=len(values))
        return [(values[code], int(tally[code])) for code in np.flatnonzero(tally) if code]

    def values_at(self, docs: np.ndarray, fieldname: str) -> list[Any]:
        """Return the column value of each of ``docs`` (None where it has none)."""
        codes = self._joined("codes", fieldname)
        values = self.arrays.values(fieldname)
        return [values[code] for code in codes[docs].tolist()]

    def top(self, ids: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[float, int]]:
        """Return the ``limit`` best (score, document) pairs: higher score first, then lower number (as Whoosh)."""
        if len(ids) > limit:
            cut = np.argpartition(-scores, limit - 1)[:limit]
            threshold = scores[cut].min()
            cut = np.flatnonzero(scores >= threshold)  # every document tied at the threshold, then sort
            ids, scores = ids[cut], scores[cut]
        order = np.lexsort((ids, -scores))[:limit]
        return [(float(scores[i]), int(ids[i])) for i in order]


def is_list(schema: Any, fieldname: str) -> bool:
    """Return whether a field is a list, counted from its terms: indexed, with no column (charges)."""
    return fieldname in schema and schema[fieldname].indexed and not schema[fieldname].column_type


def _length_bytes(reader: Any, fieldname: str) -> np.ndarray:
    """Return the one-byte encoded length of ``fieldname`` per document (1.0 where the field has none)."""
    count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)  # noqa: SLF001
    if column is None:
        return np.full(count, _BYTE_OF_ONE, dtype=np.uint8)
    return np.fromiter((column[i] for i in range(count)), dtype=np.uint8, count=count)


def _column_codes(reader: Any, fieldname: str) -> tuple[np.ndarray, list[Any]]:
    """Return (code per document, value per code) of one segment's column; value 0 is "none"."""
    count = reader.doc_count_all()
    codes = np.zeros(count, dtype=np.int32)
    values: list[Any] = [None]
    index: dict[Any, int] = {None: 0, "": 0}
    if reader.has_column(fieldname):
        for docnum, value in enumerate(reader.column_reader(fieldname)):
            code = index.get(value)
            if code is None:
                code = index[value] = len(values)
                values.append(value)
            codes[docnum] = code
    return codes, values


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk: leave no half-written file taking space
        raise


def save_arrays(build: Path, searcher: Searcher, columns: Iterable[str], lengths: Iterable[str]) -> None:
    """Compute and save the arrays of every segment of a build (run by the build after each commit),
    and delete those of segments merged away, so that no server computes them on a first query.

    ``columns``: the facets and ranking columns; a list field among them gets its pairs.
    """
    folder = build / ARRAYS_FOLDER
    arrays = PostingArrays(folder)
    view = arrays.view(searcher)
    for segment_id, reader, _offset, _live in view.segments:
        for name in columns:
            kind = "pairs" if is_list(searcher.schema, name) else "codes"
            if not (folder / f"{segment_id}-{name}.{kind}.npy").is_file():
                (arrays.segment_pairs if kind == "pairs" else arrays.segment_codes)(segment_id, reader, name)
        for name in lengths:
            if not (folder / f"{segment_id}-{name}.lengths.npy").is_file():
                arrays.segment_lengths(segment_id, reader, name)
    remove_other_arrays(folder, {segment[0] for segment in view.segments})


def remove_other_arrays(folder: Path, live: set[str]) -> None:
    """Delete the array files in ``folder`` of segments other than ``live`` (merged away, or never committed)."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.split("-", 1)[0] not in live and not path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)


class _Scratch(threading.local):
    """Per thread: a flag and a score slot per document number, all False and 0.0 between uses.

    Unions, intersections and membership tests over large posting sets are done in these slots
    (no sorting, no allocation of index-sized arrays per call); each use clears what it set.
    """

    seen = np.zeros(0, dtype=bool)
    dense = np.zeros(0, dtype=np.float64)

    def slots(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.seen) < size:
            self.seen = np.zeros(size, dtype=bool)
            self.dense = np.zeros(size, dtype=np.float64)
        return self.seen, self.dense


_scratch = _Scratch()


def _end(parts: list[np.ndarray]) -> int:
    """Return one past the largest document number in sorted, non-empty ``parts``."""
    return max(int(p[-1]) for p in parts) + 1


def _intersect(parts: list[np.ndarray]) -> np.ndarray:
    parts = sorted(parts, key=len)
    out = parts[0]
    for part in parts[1:]:
        if not len(out):
            break
        out = _members(part, out)
    return out


def _members(ids: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Return the ``ids`` that are in ``allowed`` (both sorted and unique), in order."""
    return ids[_member_mask(ids, allowed)]


def _member_mask(ids: np.ndarray, allowed: np.ndarray, *, unique: bool = True) -> np.ndarray:
    """Return, for each of ``ids``, whether it is in ``allowed`` (unique document numbers; ``ids`` too unless ``unique`` is false)."""
    if not len(ids) or not len(allowed):
        return np.zeros(len(ids), dtype=bool)
    if len(ids) + len(allowed) <= DENSE_UNION:
        return np.isin(ids, allowed, assume_unique=unique)
    seen, _dense = _scratch.slots(max(int(ids.max()), int(allowed.max())) + 1)
    try:
        seen[allowed] = True
        return seen[ids]
    finally:
        seen[allowed] = False


def _union(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    if not parts:
        return EMPTY_IDS
    if len(parts) == 1:
        return parts[0]
    if sum(len(p) for p in parts) > DENSE_UNION:
        size = _end(parts)
        seen, _dense = _scratch.slots(size)
        try:
            for part in parts:
                seen[part] = True
            ids = np.flatnonzero(seen[:size])
        except BaseException:
            seen[:size] = False
            raise
        seen[ids] = False
        return ids.astype(np.int32, copy=False)
    return np.unique(np.concatenate(parts))


def _check_or(q: wq.Or) -> None:
    # Whoosh accepts Or(minmatch=...) and Or(scale=...) but does not apply minmatch ("not yet
    # implemented"); rather than guess, such queries go to Whoosh itself.
    if q.minmatch or q.scale:
        raise Unsupported("Or with minmatch or scale")


def _sum_union(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Union of scored sets, each document's scores added in subquery order (as Whoosh's union matchers add them)."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return EMPTY_IDS, EMPTY_SCORES
    if len(parts) == 1:
        return parts[0]
    if sum(len(p[0]) for p in parts) > DENSE_UNION:
        # One slot per document number: no hashing or sorting of the concatenation (np.unique was
        # a third of a real question's time at scale b). Scores are still added in subquery order.
        size = _end([p[0] for p in parts])
        seen, dense = _scratch.slots(size)
        try:
            for part_ids, part_scores in parts:
                seen[part_ids] = True
                dense[part_ids] += part_scores
            ids = np.flatnonzero(seen[:size])
            scores = dense[ids]
        except BaseException:
            seen[:size] = False
            dense[:size] = 0.0
            raise
        seen[ids] = False
        dense[ids] = 0.0
        return ids.astype(np.int32, copy=False), scores
    ids, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    scores = np.zeros(len(ids), dtype=np.float64)
    start = 0
    for part_ids, part_scores in parts:
        scores[inverse[start:start + len(part_ids)]] += part_scores
        start += len(part_ids)
    return ids.astype(np.int32, copy=False), scores


def _add_where_present(ids: np.ndarray, scores: np.ndarray, b_ids: np.ndarray, b_scores: np.ndarray) -> np.ndarray:
    """Return ``scores`` (of ``ids``) plus ``b_scores`` for the documents also in ``b_ids`` (AndMaybe's optional side)."""
    scores = scores.copy()
    if not len(ids) or not len(b_ids):
        return scores
    if len(ids) + len(b_ids) <= DENSE_UNION:
        _where, in_a, in_b = np.intersect1d(ids, b_ids, assume_unique=True, return_indices=True)
        scores[in_a] += b_scores[in_b]
        return scores
    size = _end([ids, b_ids])
    seen, dense = _scratch.slots(size)
    try:
        seen[b_ids] = True
        dense[b_ids] = b_scores
        both = seen[ids]
        scores[both] += dense[ids[both]]
    finally:
        seen[b_ids] = False
        dense[b_ids] = 0.0
    return scores


def _sum_intersection(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Intersection of scored sets, scores added in subquery order."""
    if not parts:
        return EMPTY_IDS, EMPTY_SCORES
    ids = _intersect([p[0] for p in parts])
    scores = np.zeros(len(ids), dtype=np.float64)
    for part_ids, part_scores in parts:
        scores += part_scores[np.searchsorted(part_ids, ids)]
    return ids, scores
