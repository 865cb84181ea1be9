"""The engine of :mod:`indexer.engine` on Whoosh: its files, stored fields and highlighter, plus posting arrays.

Queries arrive as :mod:`indexer.engine` descriptions and are translated, node for node, into
Whoosh's own query objects, so that matching and scores are exactly Whoosh's. Scoring, matching,
facet counts, columns and term statistics go through the numpy posting arrays of
:mod:`indexer.docsets` (the fast path); what the arrays do not model (phrases of the query
syntax, orders by a column) goes to Whoosh's searcher. Nothing Whoosh leaves this module and
:mod:`indexer.docsets`, :mod:`indexer.whoosh_fixes` and the writer in :mod:`indexer.build`
(tests/test_engine_seam.py checks it).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import highlight, qparser, sorting
from whoosh import query as wq
from whoosh.index import TOC, Index
from whoosh.qparser import MultifieldParser
from whoosh.searching import Hit, Results, Searcher

from indexer import engine as e
from indexer.analyzer import normalize
from indexer.build import current_build, open_index, usable_build
from indexer.docsets import ARRAYS_FOLDER, IndexView, PostingArrays
from indexer.schema import FACET_FIELDS, RANK_FIELDS

ARRAY_COLUMNS = frozenset(FACET_FIELDS + RANK_FIELDS)  # the columns kept as arrays (indexer/build.py saves them)


def translate(query: e.Query, schema: Any) -> wq.Query:
    """Return the Whoosh query for an engine query description, node for node (the query syntax parsed over ``schema``)."""
    match query:
        case e.Term(field, value):
            return wq.Term(field, value)
        case e.AnyOf(parts, boost):
            return wq.Or([translate(p, schema) for p in parts], boost=boost)
        case e.AllOf(parts, boost):
            return wq.And([translate(p, schema) for p in parts], boost=boost)
        case e.Maybe(required, extra):
            return wq.AndMaybe(translate(required, schema), translate(extra, schema))
        case e.Filtered(scored, require):
            return wq.Require(translate(scored, schema), translate(require, schema))
        case e.Not(inner):
            return wq.Not(translate(inner, schema))
        case e.Prefix(field, prefix):
            return wq.Prefix(field, prefix)
        case e.Every():
            return wq.Every()
        case e.Nothing():
            return wq.NullQuery
        case e.Syntax(text, fields):
            return _parse(schema, text, fields)
    raise TypeError(f"not an engine query: {query!r}")


def _parse(schema: Any, text: str, fields: tuple[str, ...]) -> wq.Query:
    parser = MultifieldParser(list(fields), schema=schema)
    # Wildcards and ranges expand to every term of a field: `*` took 5 s and `[a TO]` 23 s on
    # content/. Without these plugins, * ? [ ] { } are plain characters.
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.remove_plugin_class(qparser.RangePlugin)
    try:
        parsed = parser.parse(text)
    except Exception:  # noqa: BLE001 - Whoosh raises IndexError, AssertionError ... on odd operator sequences
        raise e.QuerySyntaxError(text) from None
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise e.EmptyQueryError(text)
    return parsed


def _bigrams(text: str) -> set[str]:
    chars = "".join(text.split())
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


class DistinctFormatter(highlight.HtmlFormatter):
    """Whoosh's HTML formatter that leaves out a fragment repeating one before it.

    A judgment says its facts twice (the prosecution's charge, then the facts the court found,
    often word for word) and an imported one keeps its full text beside its sections: the two
    best fragments were often one passage twice (136 of 240 fragment pairs over 12 judges'
    queries on the LeCaRD judgments). A fragment whose character pairs and an earlier one's are
    ``REPEAT`` the same (Jaccard) is a repeat; a statute's parallel provisions, which share much of
    their wording but not 90% of it, are not. ``dropped`` and ``kept`` tell the caller to ask for more.
    """

    REPEAT = 0.9

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dropped = 0  # repeats left out by the last format()
        self.kept = 0

    def format(self, fragments: list[Any], replace: bool = False) -> str:
        kept: list[Any] = []
        seen: list[set[str]] = []
        for fragment in fragments:
            pairs = _bigrams(fragment.text[fragment.startchar:fragment.endchar])
            if any(len(pairs & other) >= self.REPEAT * max(1, len(pairs | other)) for other in seen):
                self.dropped += 1
                continue
            kept.append(fragment)
            seen.append(pairs)
        self.kept = len(kept)
        return super().format(kept, replace=replace)


class WhooshHighlighter:
    """Whoosh's highlighter over one query's words, for the snippets of one page."""

    MORE = 4  # fragments asked for beyond ``top`` when repeats were left out

    def __init__(self, searcher: Searcher, query: wq.Query, fragment_chars: int, context_chars: int) -> None:
        self.results = Results(searcher, query, [])
        self.results.fragmenter = highlight.ContextFragmenter(maxchars=fragment_chars, surround=context_chars)
        self.formatter = DistinctFormatter(tagname="mark", between=" … ")
        self.results.formatter = self.formatter
        # Whoosh works the query's terms out again for every hit and field: once per page is enough.
        self.results.query_terms = functools.lru_cache(maxsize=None)(self.results.query_terms)  # type: ignore[method-assign]

    def words(self, field: str) -> set[str]:
        """Return the query's words that can match in ``field``."""
        schema_field = self.results.searcher.schema[field]
        return {schema_field.from_bytes(term) for _f, term in self.results.query_terms(expand=True, fieldname=field)}

    def highlight(self, field: str, text: str, top: int = 2) -> str:
        """Return the best fragments of ``text`` with the query's words marked; '' if none."""
        text = snippet_source(text, self.words(field))
        if not text:
            return ""
        # With the text given and no matched terms recorded, Whoosh re-analyses the text: the
        # hit needs no document of its own.
        snippet = ""
        seen = dict(self.formatter.seen)  # the page's term -> mark class; a pass asked again must not change it
        for asked in range(top, top + self.MORE + 1):
            self.formatter.dropped, self.formatter.kept, self.formatter.seen = 0, 0, dict(seen)
            snippet = self.results.highlighter.highlight_hit(Hit(self.results, -1), field, text=text, top=asked)
            if not self.formatter.dropped or self.formatter.kept >= top or self.formatter.kept + self.formatter.dropped < asked:
                break  # no repeat, enough fragments, or no more to ask for
        return snippet


_SNIPPET_WINDOW = 400  # text kept around each occurrence of a query word: more than a fragment can reach
_SNIPPET_GAP = " " * 300  # between kept parts: no tokens, so no fragment spans two parts
_UNCUT = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]")  # jieba cuts runs of these as units


def snippet_source(text: str, words: set[str]) -> str:
    """Return the parts of ``text`` where a query word occurs, with room around them, for highlighting.

    Whoosh re-analyses the whole text of each hit to place the marks, which was a third of a
    query's time at scale (b). Only tokens near a match can enter a fragment (at most
    SNIPPET_CHARS long, SNIPPET_CONTEXT of context), and a matched token is an occurrence of a
    query word in the folded text, so the text far from every occurrence is left out. Parts are
    cut between runs jieba cuts as units, so their tokens are the whole text's tokens, and joined
    by a gap wider than a fragment. The snippets are the same (checked over the bench queries).
    """
    if len(text) <= 4 * _SNIPPET_WINDOW or len(text) > highlight.DEFAULT_CHARLIMIT:
        return text
    folded = normalize(text)
    spans = []
    for word in words:
        start = folded.find(word) if word else -1
        while start >= 0:
            spans.append((start, start + len(word)))
            start = folded.find(word, start + 1)
    if not spans:
        return ""  # no token can match: no fragment
    parts: list[list[int]] = []
    for start, end in sorted(spans):
        a, b = max(0, start - _SNIPPET_WINDOW), min(len(text), end + _SNIPPET_WINDOW)
        while a > 0 and _UNCUT.match(text[a - 1]) and _UNCUT.match(text[a]):
            a -= 1
        while b < len(text) and _UNCUT.match(text[b - 1]) and _UNCUT.match(text[b]):
            b += 1
        if parts and a <= parts[-1][1]:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    return _SNIPPET_GAP.join(text[a:b] for a, b in parts)


class WhooshEngine:
    """One snapshot of a Whoosh index (one searcher), with its posting-array view: an :class:`indexer.engine.Engine`."""

    def __init__(self, searcher: Searcher, arrays: PostingArrays, ix: Index | None = None) -> None:
        self.searcher = searcher
        self.arrays = arrays
        self.ix = ix
        self._view: IndexView | None = None
        self._state: e.IndexState | None = None
        self._translated: list[tuple[e.Query, wq.Query]] = []  # the last few queries, by identity

    @classmethod
    def over(cls, searcher: Searcher, ix: Index | None = None) -> WhooshEngine:
        """Return an engine over a searcher of its own (a build's, while it writes): arrays in memory only."""
        return cls(searcher, PostingArrays(), ix)

    @property
    def view(self) -> IndexView:
        """Return the posting-array view of this snapshot (made on first use; arrays shared by every thread)."""
        if self._view is None:
            self._view = self.arrays.view(self.searcher)
        return self._view

    def whoosh_query(self, query: e.Query) -> wq.Query:
        """Return the Whoosh query of a description (the last few remembered, by identity)."""
        for known, translated in self._translated:
            if known is query:
                return translated
        translated = translate(query, self.searcher.schema)
        self._remember(query, translated)
        return translated

    def _remember(self, query: e.Query, translated: wq.Query) -> None:
        self._translated = [(query, translated), *self._translated[:3]]

    # -- the index state -----------------------------------------------------------------------------

    def state(self) -> e.IndexState:
        """Return what identifies this snapshot's index state."""
        if self._state is None:
            generation = self.searcher.reader().generation()
            modified = None
            if self.ix is not None:
                try:
                    name = TOC._filename(self.ix.indexname, generation)  # noqa: SLF001 - the commit's table of contents
                    modified = dt.datetime.fromtimestamp(self.ix.storage.file_modified(name), dt.UTC)
                except OSError:
                    pass
            self._state = e.IndexState(key=self.view.key, doc_count=self.searcher.doc_count(),
                                       max_doc=self.searcher.doc_count_all(), generation=generation, last_modified=modified)
        return self._state

    # -- matching and scoring --------------------------------------------------------------------------

    def parse(self, text: str, fields: tuple[str, ...]) -> e.Syntax:
        """Return the user's query syntax as a query; raise QuerySyntaxError (EmptyQueryError) if it cannot run."""
        query = e.Syntax(text, fields)
        self._remember(query, _parse(self.searcher.schema, text, fields))
        return query

    def match(self, query: e.Query) -> np.ndarray:
        """Return the sorted numbers of the live documents ``query`` matches."""
        return self.view.docs(self.whoosh_query(query))

    def score(self, query: e.Query) -> tuple[np.ndarray, np.ndarray]:
        """Return (sorted document numbers, BM25F scores) of every match; raise Unsupported for what only search() runs."""
        return self.view.scored(self.whoosh_query(query))

    def top(self, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[float, int]]:
        """Return the ``limit`` best (score, document): higher score first, then lower document number."""
        return self.view.top(docs, scores, limit)

    def search(self, query: e.Query, *, limit: int | None, within: np.ndarray | None = None,
               order: e.Order | None = None) -> list[e.Found]:
        """Return the best ``limit`` matches by score, or by ``order``, through Whoosh's own matchers."""
        kwargs: dict[str, Any] = {"limit": limit}
        if within is not None:
            if not len(within):
                return []  # Whoosh reads an empty filter set as no filter at all
            kwargs["filter"] = set(within.tolist())
        if order is not None:
            kwargs.update(self._sorting(order))
        results = self.searcher.search(self.whoosh_query(query), **kwargs)
        # iter(): list(results) would call len(results), which re-runs the whole query to count it.
        return [e.Found(self, hit.docnum, hit.score) for hit in iter(results)]

    def _sorting(self, order: e.Order) -> dict[str, Any]:
        """Return Whoosh's sortedby (and reverse) for an order: a document without a value holds the column's default, the largest number there is."""
        if order.descending and order.missing == "first":
            return {"sortedby": sorting.FieldFacet(order.field, reverse=True)}
        if not order.descending and order.missing == "last":
            return {"sortedby": sorting.FieldFacet(order.field)}
        missing = self.searcher.schema[order.field].column_type.default_value()
        facet = sorting.TranslateFacet(lambda value: -1 if value is None or value == missing else value, sorting.FieldFacet(order.field))
        return {"sortedby": facet, "reverse": order.descending}

    # -- facets and columns -----------------------------------------------------------------------------

    def counts(self, docs: np.ndarray, field: str) -> list[tuple[Any, int]]:
        """Return (value, number of ``docs`` with it) for every value of a column or list field among ``docs``.

        A list field (a KEYWORD field without a column: charges) is counted from its terms, a
        document under each of its values, as Whoosh's ``FieldFacet(allow_overlap=True)`` groups it.
        """
        return self.view.counts(docs, field)

    def is_column(self, field: str) -> bool:
        """Return whether ``field`` has per-document values to read."""
        schema = self.searcher.schema
        return field in schema and bool(schema[field].column_type)

    def columns(self, docs: np.ndarray, field: str) -> list[Any]:
        """Return the column value of each of ``docs`` (None where it has none)."""
        if not self.is_column(field):
            raise ValueError(f"{field} is not a column: a list field is only counted (counts)")
        if field in ARRAY_COLUMNS:
            return self.view.values_at(docs, field)
        # Segment by segment: Whoosh's multi-segment column reader fails (IndexError) after incremental updates.
        schema_field = self.searcher.schema[field]
        missing = schema_field.column_type.default_value()
        values: list[Any] = []
        leaves = self.searcher.reader().leaf_readers()
        ends = [offset for _leaf, offset in leaves[1:]] + [float("inf")]
        readers: dict[int, Any] = {}
        for doc in docs.tolist():
            n = next(i for i, end in enumerate(ends) if doc < end)
            leaf, offset = leaves[n]
            if n not in readers:
                readers[n] = leaf.column_reader(field, translate=False) if leaf.has_column(field) else None
            column = readers[n]
            raw = column[doc - offset] if column is not None else missing
            values.append(None if raw == missing else schema_field.from_column_value(raw))
        return values

    def has_value(self, field: str, value: Any, docs: np.ndarray) -> np.ndarray:
        """Return, for each of ``docs``, whether its ``field`` column holds ``value``."""
        return self.view.has_value(field, value, docs)

    # -- stored fields ---------------------------------------------------------------------------------

    def stored(self, doc: int) -> dict[str, Any]:
        """Return a document's stored fields."""
        return self.searcher.stored_fields(doc)

    def find(self, **values: str) -> dict[str, Any] | None:
        """Return the stored fields of the first live document whose fields hold these values, or None."""
        return self.searcher.document(**values)

    def find_number(self, **values: str) -> int | None:
        """Return the number of the first live document whose fields hold these values, or None."""
        return self.searcher.document_number(**values)

    def documents(self, **values: str) -> Iterator[dict[str, Any]]:
        """Yield the stored fields of every live document whose fields hold these values, in document order."""
        return self.searcher.documents(**values)

    # -- highlighting ----------------------------------------------------------------------------------

    def highlighter(self, query: e.Query, *, fragment_chars: int, context_chars: int) -> WhooshHighlighter:
        """Return the highlighter of ``query``'s words."""
        return WhooshHighlighter(self.searcher, self.whoosh_query(query), fragment_chars, context_chars)

    # -- term statistics -------------------------------------------------------------------------------

    def document_frequency(self, field: str, term: str, *, live: bool = False) -> int:
        """Return the number of documents whose ``field`` holds ``term`` (live ones exactly, or Whoosh's statistic)."""
        if live:
            return self.view.document_frequency(field, term)
        return self.searcher.doc_frequency(field, term)

    def frequencies(self, field: str, term: str, docs: np.ndarray) -> np.ndarray:
        """Return how often ``term`` occurs in ``field`` of each of ``docs`` (0 where absent)."""
        return self.view.frequencies(field, term, docs)

    def lengths(self, field: str, docs: np.ndarray) -> np.ndarray:
        """Return the length of ``field`` in each of ``docs``, as BM25F reads it (one-byte encoded)."""
        return self.view.lengths(field, docs)

    def terms(self, field: str) -> list[str]:
        """Return every value indexed in ``field`` (none for a field without terms)."""
        return [value.decode() if isinstance(value, bytes) else str(value) for value in self.searcher.lexicon(field)]


class WhooshIndex:
    """An index folder opened for searching: follows CURRENT, one searcher per thread, refreshed on change."""

    def __init__(self, index_root: Path | str, on_open: Callable[[Path], None] = lambda build: None) -> None:
        self.root = Path(index_root)
        self._on_open = on_open
        self._lock = threading.Lock()
        self._local = threading.local()
        self._ix: Index | None = None
        self._build: Path | None = None
        self._wanted: Path | None = None  # the build CURRENT named when the index was last opened
        self._arrays = PostingArrays()
        self._open()

    @property
    def build(self) -> Path | None:
        """Return the build folder being served."""
        return self._build

    def _open(self) -> None:
        with self._lock:
            wanted = current_build(self.root)
            if wanted != self._wanted or self._ix is None:
                build = usable_build(self.root)  # checked once per swap; a damaged one leaves the last good build
                self._ix = open_index(self.root, build)
                self._wanted = wanted
                self._build = build
                self._arrays = PostingArrays(build / ARRAYS_FOLDER)
                self._on_open(build)

    def snapshot(self) -> WhooshEngine:
        """Return this thread's snapshot, switched to a new build or refreshed after a commit."""
        if current_build(self.root) != self._wanted:
            self._open()
        local = self._local
        engine = getattr(local, "engine", None)
        if engine is None or getattr(local, "build", None) != self._build or not engine.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so misses deletion-only
            # commits (measured: a deleted entry stays visible). A new searcher costs ~ms.
            if engine is not None:
                engine.searcher.close()
            engine = WhooshEngine(self._ix.searcher(), self._arrays, self._ix)  # type: ignore[union-attr]
            local.build = self._build
            local.engine = engine
        return engine
