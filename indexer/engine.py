"""The engine seam: what search and similar need from an index engine, and nothing of Whoosh (#16).

``indexer/search.py``, ``indexer/similar.py`` and ``indexer/browse.py`` describe what they want
with the small query types below and ask an :class:`Engine` for it; they never see a Whoosh
object. The one implementation is :mod:`indexer.whoosh_engine` (Whoosh's files, its stored fields
and highlighter, and the numpy posting arrays of :mod:`indexer.docsets`); ``docs/engine.md``
shows how each call maps to an OpenSearch request, for a corpus beyond one machine.

An :class:`Engine` is one *snapshot*: one index state, read by one thread for one request.
Documents are named by numbers that are valid within that snapshot only (Lucene's doc ids,
Whoosh's docnums); sets of documents are sorted numpy arrays of them.

Query descriptions
------------------
A query is a tree of frozen dataclasses (hashable, so they key caches):

========================  =====================================================================
``Term(field, value)``     documents whose ``field`` holds ``value`` (an analysed word, a
                           keyword, a number)
``Prefix(field, prefix)``  any value of ``field`` starting with ``prefix``
``AnyOf(parts, boost)``    any part matches; the scores of the parts that match add up
``AllOf(parts, boost)``    every part matches; scores add up
``Maybe(query, extra)``    ``query`` decides what matches; ``extra`` only adds score where it
                           also matches
``Filtered(query, require)`` ``query`` scores; ``require`` must match and adds no score
``Not(query)``             every document but those ``query`` matches
``Every()``, ``Nothing()`` all documents, none
``Syntax(text, fields)``   the user's query syntax (words, "phrases", AND/OR/NOT, brackets)
                           over ``fields``, parsed by the engine: :meth:`Engine.parse` checks it
========================  =====================================================================

Scores are BM25F with per-field boosts (title 4, summary 2, tags 3, english 2; K1 1.2, B 0.75);
a field without lengths (an ID or keyword field) scores each match by its weight (1 per value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Union

import numpy as np

# -- query descriptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """Documents whose ``field`` holds ``value``."""

    field: str
    value: str | int


@dataclass(frozen=True)
class Prefix:
    """Documents with a value of ``field`` that starts with ``prefix``."""

    field: str
    prefix: str


@dataclass(frozen=True)
class Compound:
    """Parts whose scores add up, times ``boost`` (AnyOf, AllOf; equal only to the same kind)."""

    parts: tuple[Query, ...]
    boost: float = 1.0


class AnyOf(Compound):
    """Documents any part matches, scored by the sum of the matching parts' scores, times ``boost``."""


class AllOf(Compound):
    """Documents every part matches, scored by the sum of the parts' scores, times ``boost``."""


@dataclass(frozen=True)
class Maybe:
    """The documents ``query`` matches; ``extra`` adds its score where it matches too."""

    query: Query
    extra: Query


@dataclass(frozen=True)
class Filtered:
    """The documents both match, scored by ``query`` alone."""

    query: Query
    require: Query


@dataclass(frozen=True)
class Not:
    """Every document ``query`` does not match (unscored)."""

    query: Query


@dataclass(frozen=True)
class Every:
    """Every document, each scored 1."""


@dataclass(frozen=True)
class Nothing:
    """No document."""


@dataclass(frozen=True)
class Syntax:
    """The user's query syntax over ``fields``: words, "phrases", AND, OR, NOT and brackets."""

    text: str
    fields: tuple[str, ...]


Query = Union[Term, Prefix, AnyOf, AllOf, Maybe, Filtered, Not, Every, Nothing, Syntax]  # noqa: UP007 - a runtime alias of forward references


def any_of(parts: list[Query], boost: float = 1.0) -> AnyOf:
    """Return an :class:`AnyOf` of ``parts`` (a list, as queries are built)."""
    return AnyOf(tuple(parts), boost)


def all_of(parts: list[Query], boost: float = 1.0) -> AllOf:
    """Return an :class:`AllOf` of ``parts``."""
    return AllOf(tuple(parts), boost)


@dataclass(frozen=True)
class Order:
    """Order documents by a column instead of by score.

    ``missing``: where documents without a value go ("first" or "last"). Ties come in an order
    the engine chooses, the same for the same index state.
    """

    field: str
    descending: bool = False
    missing: str = "last"


class Unsupported(Exception):  # noqa: N818 - the name says what it means to a caller
    """The engine's fast path cannot score this query: ask :meth:`Engine.search` instead."""


class QuerySyntaxError(ValueError):
    """The user's query syntax cannot be read (unbalanced brackets, operators in odd places)."""


class EmptyQueryError(QuerySyntaxError):
    """The user's query syntax has operators but no word to search for."""


@dataclass(frozen=True)
class IndexState:
    """What identifies one state of the index, to key caches and tell pages to reload.

    ``key`` changes with every change of the documents (a commit, a deletion, a new build);
    ``generation`` counts commits within one build; ``max_doc`` is one more than the highest
    document number (deleted documents included), ``doc_count`` the live documents.
    """

    key: tuple
    doc_count: int
    max_doc: int
    generation: int
    last_modified: dt.datetime | None


class Found:
    """A document a search returned: its number, its score (or its sort key), its stored fields on demand."""

    __slots__ = ("doc", "engine", "score", "stored")

    def __init__(self, engine: Engine, doc: int, score: float | None) -> None:
        self.engine = engine
        self.doc = doc
        self.score = score
        self.stored: dict[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        """Return the document's stored fields (read once)."""
        if self.stored is None:
            self.stored = self.engine.stored(self.doc)
        return self.stored

    def get(self, name: str, default: Any = None) -> Any:
        """Return one stored field."""
        return self.fields().get(name, default)


class Highlighter(Protocol):
    """Marks a query's words in stored text: the snippets of one page of results."""

    def words(self, field: str) -> set[str]:
        """Return the query's words that can match in ``field``."""

    def highlight(self, field: str, text: str, top: int = 2) -> str:
        """Return the ``top`` best fragments of ``text`` with the query's words in <mark>, HTML-escaped; '' if none."""


class Engine(Protocol):
    """One snapshot of the index: matching, scoring, top-N, facets, columns, stored fields,
    highlighting, term statistics and the index state."""

    # -- the index state -----------------------------------------------------------------------------

    def state(self) -> IndexState:
        """Return what identifies this snapshot's index state."""

    # -- matching and scoring --------------------------------------------------------------------------

    def parse(self, text: str, fields: tuple[str, ...]) -> Syntax:
        """Return the user's query syntax as a query; raise QuerySyntaxError (EmptyQueryError) if it cannot run."""

    def match(self, query: Query) -> np.ndarray:
        """Return the sorted numbers of the live documents ``query`` matches."""

    def score(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        """Return (sorted document numbers, scores) of every match; raise Unsupported where only search() can."""

    def top(self, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[float, int]]:
        """Return the ``limit`` best (score, document): higher score first, then lower document number."""

    def search(self, query: Query, *, limit: int | None, within: np.ndarray | None = None,
               order: Order | None = None) -> list[Found]:
        """Return the best ``limit`` matches (all for None) by score, or by ``order``; only documents in ``within`` if given.

        The general path, for any query (phrases included); :meth:`score` is the fast one.
        A result ordered by a column carries its sort key as its score.
        """

    # -- facets and columns -----------------------------------------------------------------------------

    def counts(self, docs: np.ndarray, field: str) -> list[tuple[Any, int]]:
        """Return (value, number of ``docs`` with it) for every value of a facet field among ``docs``.

        A column holds one value per document; a list field (charges) may hold several, and a
        document counts under each of them (so the counts may add up to more than ``len(docs)``).
        """

    def columns(self, docs: np.ndarray, field: str) -> list[Any]:
        """Return the column value of each of ``docs`` (None where it has none); a list field is no column (ValueError)."""

    def is_column(self, field: str) -> bool:
        """Return whether ``field`` has per-document values to read (an index built before it had none)."""

    def has_value(self, field: str, value: Any, docs: np.ndarray) -> np.ndarray:
        """Return, for each of ``docs``, whether its ``field`` column holds ``value``."""

    # -- stored fields ---------------------------------------------------------------------------------

    def stored(self, doc: int) -> dict[str, Any]:
        """Return a document's stored fields."""

    def find(self, **values: str) -> dict[str, Any] | None:
        """Return the stored fields of the first live document whose fields hold these values, or None."""

    def find_number(self, **values: str) -> int | None:
        """Return the number of the first live document whose fields hold these values, or None."""

    def documents(self, **values: str) -> Iterator[dict[str, Any]]:
        """Yield the stored fields of every live document whose fields hold these values, in document order."""

    # -- highlighting ----------------------------------------------------------------------------------

    def highlighter(self, query: Query, *, fragment_chars: int, context_chars: int) -> Highlighter:
        """Return the highlighter of ``query``'s words: fragments at most ``fragment_chars`` long."""

    # -- term statistics -------------------------------------------------------------------------------

    def document_frequency(self, field: str, term: str, *, live: bool = False) -> int:
        """Return the number of documents whose ``field`` holds ``term``.

        ``live=False``: the index's own statistic, cheap, which may still count deleted documents
        until their segment is merged (as Lucene's docFreq); ``live=True``: live documents exactly.
        """

    def frequencies(self, field: str, term: str, docs: np.ndarray) -> np.ndarray:
        """Return how often ``term`` occurs in ``field`` of each of ``docs`` (0 where absent)."""

    def lengths(self, field: str, docs: np.ndarray) -> np.ndarray:
        """Return the length of ``field`` in each of ``docs``, as the scoring reads it."""

    def terms(self, field: str) -> list[str]:
        """Return every value indexed in ``field``."""


class Index(Protocol):
    """An index on disk, opened for searching: follows its live build and hands each thread a snapshot."""

    @property
    def build(self) -> Path | None:
        """Return the build folder being served."""

    def snapshot(self) -> Engine:
        """Return the calling thread's snapshot of the latest committed state (switching builds when CURRENT changed)."""


def open_engine(index_root: Path, on_open: Callable[[Path], None] = lambda build: None) -> Index:
    """Open the index at ``index_root`` with the one implementation (Whoosh + posting arrays).

    ``on_open`` is called with the build folder whenever a build is opened (at first and after each
    swap of CURRENT), under the index's lock, before any snapshot of it is handed out.
    """
    from indexer.whoosh_engine import WhooshIndex

    return WhooshIndex(index_root, on_open)
