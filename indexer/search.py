"""Search the index: free-text Chinese queries, filters, facets, highlights, pages.

Pages and API call the same :meth:`SearchIndex.search` and render the same :class:`SearchPage`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from indexer import policy
from indexer.analyzer import initialize
from indexer.browse import neighbours
from indexer.engine import (
    AnyOf,
    EmptyQueryError,
    Engine,
    Every,
    Found,
    Maybe,
    Not,
    Nothing,
    Order,
    Prefix,
    Query,
    QuerySyntaxError,
    Term,
    Unsupported,
    all_of,
    any_of,
    open_engine,
)
from indexer.hits import Hit
from indexer.query import (
    ENTRY_ONLY,
    RULINGS_ONLY,
    TEXT_FIELDS,
    QueryPlan,
    TermGroup,
    Thesaurus,
    field_query,
    group_query,
    text_query,
    understand,
)
from indexer.ranking import LearnedRanker
from indexer.schema import FACETS, FILTER_FIELDS, FILTERS, RANK_FIELDS
from indexer.suggest import VOCABULARY_FILE, Suggestion, Vocabulary
from kb.casenumber import find_case_numbers, without_case_numbers
from kb.links import short_title as law_short_title
from kb.render import checklist, entry_url, linked_ids, prose_text
from kb.vocabulary import CauseTree

MAX_QUERY_CHARS = 1000
MAX_PER_PAGE = 100
MAX_PAGE = 100
SORTS = ("relevance", "date", "precedent")
MAX_QUERY_GROUPS = 16  # a paragraph of facts (more words than this) keeps its most informative words
PARAGRAPH_CHARS = 80  # a query longer than this is a paragraph of facts, not a question
MAX_FILTER_VALUES = 20  # values of one facet chosen at once
FACET_CACHE_SIZE = 512  # facet counts kept per process (a few KB each)
SYNTAX_FIELDS = (*TEXT_FIELDS, "tags")  # what the user's query syntax (syntax=1) searches
SNIPPET_CHARS = 200  # the longest highlighted fragment
SNIPPET_CONTEXT = 50  # characters of context around a match
NEWEST_FIRST = Order("date", descending=True, missing="last")


class QueryError(ValueError):
    """A query or parameter the search cannot run; the message says what to change."""


@dataclass
class SearchPage:
    """One page of results, with facet counts and what the search did."""

    query: str
    total: int
    page: int
    per_page: int
    results: list[Hit]
    facets: dict[str, list[tuple[str, int]]]  # by filter name (charge: the charges field)
    filters: dict[str, str | list[str]]  # one value, or several of one facet (any of them)
    sort: str = "relevance"
    terms: list[str] = field(default_factory=list)
    fallback: bool = False
    notice: str | None = None
    case_number: str | None = None
    expansions: dict[str, list[str]] = field(default_factory=dict)
    converted: bool = False
    cause_tree: list[dict[str, Any]] = field(default_factory=list)
    did_you_mean: str | None = None
    answer: dict[str, Any] | None = None
    redirect: str | None = None  # the query is a case number: the ruling's page, where the UI goes at once

    @property
    def lead(self) -> dict[str, str] | None:
        """Return the article that answers a statute question first (page 1, by relevance), if one leads."""
        if self.page != 1 or self.sort != "relevance" or self.answer or not self.results:
            return None
        first = self.results[0]
        if first.kind != "article":
            return None
        return {"title": first.title, "url": first.url, "article": first.article or ""}

    def selected(self, name: str) -> list[str]:
        """Return the values chosen for the filter ``name`` (none, one or several)."""
        return filter_values(self.filters.get(name))

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, math.ceil(self.total / self.per_page))

    def to_dict(self) -> dict[str, Any]:
        """Return the page as the API's JSON body."""
        return {
            "ok": True,
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "sort": self.sort,
            "filters": self.filters,
            "terms": self.terms,
            "expansions": self.expansions,
            "converted_from_traditional": self.converted,
            "fallback": self.fallback,
            "notice": self.notice,
            "case_number": self.case_number,
            "results": [hit.to_dict() for hit in self.results],
            "facets": {name: [{"value": v, "count": c} for v, c in counts] for name, counts in self.facets.items()},
            "cause_tree": self.cause_tree,
            "did_you_mean": self.did_you_mean,
            "answer": self.answer,
            "lead": self.lead,
            "redirect": self.redirect,
        }


def clean_query(text: str) -> str:
    """Drop control characters and collapse white space; raise QueryError if it is too long."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}. Shorten it, or use /api/similar for a paragraph of facts.")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def filter_values(value: str | list[str] | None) -> list[str]:
    """Return a filter's values as a list: a filter holds one value or several (any of them matches)."""
    if value in (None, ""):
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def clean_filters(filters: dict[str, Any] | None) -> dict[str, str | list[str]]:
    """Return the filters without empty values, a single value as a string, several as a list; check the names."""
    cleaned: dict[str, str | list[str]] = {}
    for name, value in (filters or {}).items():
        if name not in FILTER_FIELDS:
            raise QueryError(f"unknown filter '{name}'. Use one of: {', '.join(FILTER_FIELDS)}.")
        values = list(dict.fromkeys(str(v) for v in filter_values(value)))
        if len(values) > MAX_FILTER_VALUES:
            raise QueryError(f"{name} has {len(values)} values; the limit is {MAX_FILTER_VALUES}.")
        if values:
            cleaned[name] = values[0] if len(values) == 1 else values
    return cleaned


def check_paging(page: int, per_page: int) -> None:
    """Raise QueryError for a page or page size out of range."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}.")
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page must be between 1 and {MAX_PAGE}.")


def _mtime_ns(path: Path | None) -> int | None:
    """Return the modification time of ``path``, or None if there is no such file."""
    try:
        return path.stat().st_mtime_ns if path else None
    except OSError:
        return None


def rfc3339(value: str | None) -> str:
    """Return an Atom timestamp for an ISO date or datetime (midnight UTC for a bare date, the 1st for a month or year)."""
    if not value:
        return "1970-01-01T00:00:00Z"
    if re.fullmatch(r"\d{4}", value):
        value += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", value):
        value += "-01"
    if "T" not in value:
        value = value + "T00:00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Run:
    """One run of a query: the ranked candidates grouped with their copies, and what was found."""

    main: Query  # the query run (the fallback's, if it ran)
    grouped: list[tuple[Any, list[Any]]]
    found: int  # candidates found (0: nothing matched)
    matched: np.ndarray | None  # every document matched, when the fast path scored them (the facets count them)
    fallback: bool = False
    notice: str | None = None


class SearchIndex:
    """A live index opened for searching: each request reads one engine snapshot (indexer/engine.py)."""

    def __init__(self, index_root: Path | str) -> None:
        self.root = Path(index_root)
        self._lock = threading.Lock()
        self._facet_cache: dict[tuple, dict[str, list[tuple[str, int]]]] = {}
        self._filter_cache: dict[tuple, np.ndarray] = {}
        self._repealed: dict[str, dict[str, str]] = {}
        self._repealed_stamp: tuple | None = None
        self.thesaurus = Thesaurus()
        self.causes = CauseTree()
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_stamp: int | None = None
        self.ranker: LearnedRanker | None = LearnedRanker.load()
        self._index = open_engine(self.root, self._load_build)
        initialize()

    def _load_build(self, build: Path) -> None:
        """Read what the search keeps from a build folder besides the index (each time a build is opened)."""
        self.thesaurus = Thesaurus.load(build)
        self.causes = CauseTree.load(build)
        self._vocabulary = None
        self._vocabulary_stamp = None
        self._filter_cache = {}

    def engine(self) -> Engine:
        """Return this thread's snapshot of the index, switched to a new build or refreshed after a commit.

        Take it once per request and pass it on: asking again mid-request would close it if a
        build finished meanwhile (ReaderClosed under rebuilds).
        """
        return self._index.snapshot()

    def _docs(self, engine: Engine, main: Query, flt: Query | None) -> np.ndarray:
        """Return the documents that match ``main`` and pass the filter."""
        docs = engine.match(main)
        if flt is not None:
            docs = np.intersect1d(docs, self._filter_docs(engine, flt), assume_unique=True)
        return docs

    def _filter_docs(self, engine: Engine, flt: Query) -> np.ndarray:
        """Return the documents a filter allows (cached per filter and index state)."""
        key = (engine.state().key, flt)
        docs = self._filter_cache.get(key)
        if docs is None:
            docs = engine.match(flt)
            with self._lock:
                if len(self._filter_cache) >= FACET_CACHE_SIZE:
                    self._filter_cache.pop(next(iter(self._filter_cache)))
                self._filter_cache[key] = docs
        return docs

    # -- search ---------------------------------------------------------------------------

    def search(self, query: str, *, filters: dict[str, str] | None = None, page: int = 1, per_page: int = 10,
               sort: str = "relevance", syntax: bool = False) -> SearchPage:
        """Run a search and return one page of results with facet counts."""
        check_paging(page, per_page)
        if sort not in SORTS:
            raise QueryError(f"sort must be one of: {', '.join(SORTS)}.")
        query = clean_query(query)
        filters = clean_filters(filters)
        engine = self.engine()
        plan, main, case_hit, redirect = self._main_query(engine, query, syntax)
        flt = self._filter_query(filters)
        run = self._ranked_page(engine, plan, main, flt, page, per_page, sort, syntax)
        hits = self._hits(engine, run.main, run.grouped, page, per_page)
        hits = self._lead(engine, hits, plan, case_hit, page, per_page, sort, syntax, bool(filters))
        facets = self._facets(engine, run.main, filters, run.matched)
        # The unscored facet pass counts exactly what matched (query and filter).
        total = facets.pop("_total")[0][1] + (1 if case_hit is not None and run.found == 0 else 0)
        return SearchPage(did_you_mean=self._did_you_mean(engine, query, plan, flt, syntax, case_hit),
                          answer=self._answer(engine, hits, page), redirect=redirect,
                          query=query, total=total, page=page, per_page=per_page, results=hits, facets=facets,
                          filters=filters, sort=sort, terms=plan.terms, fallback=run.fallback, notice=run.notice,
                          expansions=plan.expansions(), converted=plan.converted_from_traditional,
                          case_number=case_hit["case_number"] if case_hit is not None else None,
                          cause_tree=self.causes.tree(dict(facets.get("cause", []))))

    def _ranked_page(self, engine: Engine, plan: QueryPlan, main: Query, flt: Query | None, page: int, per_page: int,
                     sort: str, syntax: bool) -> Run:
        """Run the query; when no entry has every word, run the fallback: any of them."""
        # The learned ranking was trained on Chinese questions: an English one (glossary words in
        # Chinese beside English words) is ordered as before it, by level-weighted BM25F.
        english = bool(re.search(r"[A-Za-z]{3}", plan.text))
        rank_terms = [] if english else plan.terms
        run = self._run(engine, main, flt, page, per_page, sort, rank_terms)
        if run.found == 0 and len(plan.groups) > 1 and not syntax:
            run = self._run(engine, any_of([group_query(g) for g in plan.groups]), flt, page, per_page, sort, rank_terms)
            if run.found:
                run.fallback = True
                run.notice = "No entry contains every word; showing entries that contain some of them."
        return run

    def _lead(self, engine: Engine, hits: list[Hit], plan: QueryPlan, case_hit: dict[str, Any] | None, page: int,
              per_page: int, sort: str, syntax: bool, filtered: bool) -> list[Hit]:
        """Put first the ruling a case number names, or the burden-of-proof guide a what-to-prove question is about."""
        if case_hit is not None and page == 1:
            return policy.lead_with(hits, self._hit_from_fields(case_hit, score=0.0, snippet=""))
        if policy.wants_guide(plan, page, sort, syntax, filtered):
            guide = self._evidence_guide(engine, plan)
            if guide is not None:
                found = next((h for h in hits if h.id == guide["id"]), None)
                return policy.lead_with(hits, found or self._hit_from_fields(guide, score=0.0, snippet=""), per_page)
        return hits

    def _did_you_mean(self, engine: Engine, query: str, plan: QueryPlan, flt: Query | None, syntax: bool,
                      case_hit: dict[str, Any] | None) -> str | None:
        """Return the query with its unknown words corrected, if the corrected query finds something."""
        if syntax or not query or case_hit is not None or len(query) > 40:
            return None
        # Only words that are neither known nor made of known words are corrected, so a
        # correction is offered whenever the corrected query finds something.
        corrected = self.vocabulary().correct(plan.text)  # simplified: traditional is not a typo
        if not corrected or corrected == plan.text:
            return None
        corrected_plan = understand(corrected, self.thesaurus)
        if not corrected_plan.groups:
            return None
        # Whether it finds anything is all that is asked: matching, not ranking (a whole second
        # search here was a quarter of the slowest questions' time).
        corrected_query = self._text_query(corrected_plan.groups)
        try:
            found_any = len(self._docs(engine, corrected_query, flt)) > 0
        except Unsupported:
            found_any = self._run(engine, corrected_query, flt, 1, 1, "relevance").found > 0
        return corrected if found_any else None

    def _answer(self, engine: Engine, hits: list[Hit], page: int) -> dict[str, Any] | None:
        """Return the answer card: the guide, its summary and its checklist (pages and API show the same)."""
        card = policy.answer_card(hits, page)
        stored = engine.find(id=card["id"], kind="entry") if card else None
        if card is None or stored is None:
            return card
        markdown = stored.get("markdown") or ""
        heading, items = checklist(markdown, self._titles(engine, markdown))
        meta = json.loads(stored.get("meta") or "{}")
        return dict(card, summary=meta.get("summary"), summary_en=meta.get("summary_en"),
                    checklist_heading=heading or None, checklist=items)

    def _titles(self, engine: Engine, markdown: str) -> dict[str, str]:
        """Return the titles of the entries that ``[[links]]`` in ``markdown`` name, by id."""
        titles = {}
        for entry_id in linked_ids(markdown):
            fields = engine.find(id=entry_id, kind="entry")
            if fields:
                titles[entry_id] = fields.get("title", "")
        return titles

    # -- the query ------------------------------------------------------------------------

    def _main_query(self, engine: Engine, query: str, syntax: bool,
                    ranker: LearnedRanker | None = None) -> tuple[QueryPlan, Query, Any, str | None]:
        """Return what the search understood, the query to run, the ruling a case number names, and its page if the query is only that."""
        ranker = ranker or self.ranker
        plan = understand(query, self.thesaurus) if not syntax else QueryPlan(query, [])
        case_numbers = find_case_numbers(query)
        # The rulings with the first number: one, or two (before 2016 two courts could give the same number).
        numbered = list(itertools.islice(engine.documents(case_number=case_numbers[0], kind="entry"), 2)) if case_numbers else []
        case_hit = numbered[0] if numbered else None
        redirect = None
        main: Query
        if syntax:
            main = self._syntax_query(engine, query)
        elif case_hit is not None and not re.search(r"\w", without_case_numbers(query)):
            # Only a case number: straight to its ruling, or both rulings listed.
            main = Term("case_number", case_numbers[0])
            if len(numbered) == 1:
                redirect = entry_url(case_hit["id"])
        elif not plan.groups:
            main = Every() if not query else Nothing()
        elif len(query) > PARAGRAPH_CHARS and len(plan.groups) > MAX_QUERY_GROUPS:
            # A paragraph of facts: its most informative words, not all of them.
            plan.groups = self._key_groups(engine, plan.groups)
            # Ranked by how many of them a document has (BM25), none required: no AND, no minimum.
            main = any_of([field_query(g.term) for g in plan.groups])
        else:
            main = self._text_query(plan.groups)
        if not syntax and plan.groups and ranker is not None and case_hit is None:
            main = self._expand(main, plan, ranker)
        return plan, main, case_hit, redirect

    def _text_query(self, groups: list[TermGroup]) -> Query:
        """Return the query of a question's words (indexer/query.py; a method, so that bench/proposals.py can measure a change)."""
        return text_query(groups)

    @staticmethod
    def _syntax_query(engine: Engine, query: str) -> Query:
        """Return the user's query syntax (syntax=1) as the engine reads it, or raise QueryError."""
        try:
            return engine.parse(query, SYNTAX_FIELDS)
        except EmptyQueryError:
            raise QueryError("the query has operators but nothing to search for. Add a word, or search without syntax=1.") from None
        except QuerySyntaxError:
            raise QueryError("the query syntax cannot be read. Check its operators (AND, OR, NOT) and brackets, "
                             "or search without syntax=1.") from None

    def _expand(self, main: Query, plan: QueryPlan, ranker: LearnedRanker) -> Query:
        """Add the learned expansion words (indexer/ranking.py): more documents for a question of 3+ words, more score otherwise."""
        expansions = ranker.expansions(plan.terms)
        if not expansions:
            return main
        plan.learned = {term: [w for w, _weight in words] for term, words in ranker.expansions_by_word(plan.terms).items()}
        extra = any_of([field_query(word, boost=weight) for word, weight in expansions])
        if isinstance(main, AnyOf) or len(plan.groups) == 1:
            return any_of([main, extra])
        return Maybe(main, extra)

    def _evidence_guide(self, engine: Engine, plan: QueryPlan) -> dict[str, Any] | None:
        """Return the burden-of-proof guide for the dispute a what-to-prove question is about, if one covers it.

        The guides are scored by the question's topic words alone, synonyms included (indexer/policy.py).
        """
        words = policy.guide_words(plan)
        if not words:
            return None
        guides = self._filter_docs(engine, policy.GUIDES)
        try:
            ids, scores = engine.score(policy.guide_query(words))
        except Unsupported:
            return None
        keep = np.isin(ids, guides, assume_unique=True)
        ids, scores = ids[keep], scores[keep]
        if not len(ids):
            return None
        return engine.stored(int(ids[int(np.argmax(scores))]))

    def _key_groups(self, engine: Engine, groups: list[TermGroup]) -> list[TermGroup]:
        """Keep the MAX_QUERY_GROUPS most informative words (IDF, longer words first) that occur at all, in query order."""
        total = max(1, engine.state().doc_count)

        def idf(group: TermGroup) -> float:
            df = max(engine.document_frequency(name, group.term) for name in TEXT_FIELDS)
            # Longer words carry more meaning (网络服务提供者 over 提供); rare ones more than common ones.
            return math.log(1 + total / df) * (1.5 if len(group.term) >= 3 else 1.0) if df else 0.0

        scored = [(idf(g), i, g) for i, g in enumerate(groups) if len(g.term) > 1 or not g.term.isascii()]
        keep = sorted((item for item in scored if item[0] > 0), reverse=True)[:MAX_QUERY_GROUPS]
        return [g for _idf, _i, g in sorted(keep, key=lambda item: item[1])]

    def _filter_query(self, filters: dict[str, str | list[str]]) -> Query | None:
        """Return the filter: any of the values chosen within a facet, every facet (disjunctive facets)."""
        parts: list[Query] = []
        for name, value in sorted(filters.items()):
            terms: list[Query] = [term for v in filter_values(value) for term in self._filter_terms(name, v)]
            if name == "year":
                # The decision year of rulings: a statute's version year is another thing (2021: 502 for 合同).
                parts.append(all_of([RULINGS_ONLY, any_of(terms)]))
            else:
                parts.append(terms[0] if len(terms) == 1 else any_of(terms))
        return all_of(parts) if parts else None

    def _filter_terms(self, name: str, value: str) -> list[Term]:
        if name == "year":
            try:
                return [Term("year", int(value))]
            except ValueError:
                raise QueryError(f"year must be a number, not '{value}'.") from None
        if name == "tags":
            return [Term("tags", value.lower())]
        if name == "cause":
            # A cause includes the causes below it in the tree (合同纠纷 -> 网络服务合同纠纷).
            return [Term("cause", c) for c in sorted(self.causes.descendants(value))]
        return [Term(FILTERS[name].name, value)]  # the field the filter is on (statute: statutes, charge: charges)

    # -- ranking --------------------------------------------------------------------------

    def _run(self, engine: Engine, main: Query, flt: Query | None, page: int, per_page: int, sort: str,
             terms: list[str] | None = None) -> Run:
        """Return the ranked candidates (with collapsed copies), how many were found, and which matched (if the arrays scored them)."""
        depth = max(page * per_page, policy.RERANK_DEPTH if sort != "date" else page * per_page)
        top = None
        matched = None  # the documents matched, when the arrays scored them: the facets count them
        if sort != "date":
            try:
                top, matched = self._first_stage(engine, main, flt, depth)
            except Unsupported:
                pass
        if top is None:  # date order, or a query the arrays do not model (syntax=1 phrases)
            within = self._filter_docs(engine, flt) if flt is not None else None
            top = engine.search(main, limit=depth, within=within, order=NEWEST_FIRST if sort == "date" else None)
        candidates = self._candidates(engine, top)
        learned = None
        if self.ranker is not None and self.ranker.booster is not None and terms and candidates:
            def learned(first_stage: list[policy.Candidate]) -> list[policy.Candidate]:
                order = self.ranker.order(self.ranking_features(candidates, engine, terms))  # type: ignore[union-attr]
                return policy.learned_order(candidates, order, first_stage)
        ranked = policy.rerank(candidates, sort, learned)
        return Run(main, policy.collapse(ranked), len(top), matched)

    def _candidates(self, engine: Engine, found: list[Found]) -> list[policy.Candidate]:
        """Return what was found with the fields the ranking reads: from columns, not from stored documents."""
        if not found or not all(engine.is_column(name) for name in RANK_FIELDS):
            return [policy.Candidate(f.fields(), f) for f in found]  # an index built before schema 5
        docs = np.array([f.doc for f in found], dtype=np.int64)
        columns = [(name, engine.columns(docs, name)) for name in RANK_FIELDS]
        candidates = []
        for i, f in enumerate(found):
            fields = {name: values[i] for name, values in columns if values[i] not in (None, "")}
            if "year" in fields and not 1000 <= fields["year"] <= 9999:
                del fields["year"]  # the column's stand-in for "no year"
            candidates.append(policy.Candidate(fields, f))
        return candidates

    def training_candidates(self, query: str, ranker: LearnedRanker) -> tuple[list[policy.Candidate], np.ndarray]:
        """Return a question's first-stage candidates under ``ranker``'s expansions, and their features (for training)."""
        engine = self.engine()
        plan, main, _case_hit, _redirect = self._main_query(engine, clean_query(query), False, ranker)
        try:
            top, _matched = self._first_stage(engine, main, None, policy.RERANK_DEPTH)
        except Unsupported:
            return [], np.zeros((0, 0))
        found = self._candidates(engine, top)
        return found, self.ranking_features(found, engine, plan.terms, ranker)

    def _first_stage(self, engine: Engine, main: Query, flt: Query | None, depth: int) -> tuple[list[Found], np.ndarray]:
        """Return the ``depth`` best documents by BM25F (local regulations demoted), and every document that matched.

        The engine's fast path (posting arrays); raises Unsupported for a query it does not model
        (syntax=1 phrases).
        """
        ids, scores = engine.score(main)
        if flt is not None and len(ids):
            keep = np.isin(ids, self._filter_docs(engine, flt), assume_unique=True)
            ids, scores = ids[keep], scores[keep]
        if len(ids):
            scores = policy.demote_local(engine.has_value("level", policy.LOCAL_LEVEL, ids), scores)
        return [Found(engine, doc, score) for score, doc in engine.top(ids, scores, depth)], ids

    def ranking_features(self, candidates: list[policy.Candidate], engine: Engine, terms: list[str],
                         ranker: LearnedRanker | None = None) -> np.ndarray:
        """Return the learned ranking's features of the candidates (indexer/ranking.py), best first-stage score first."""
        ranker = ranker or self.ranker
        assert ranker is not None
        docs = np.array([c.found.doc for c in candidates], dtype=np.int64)
        scores = np.array([c.score or 0.0 for c in candidates], dtype=np.float64)
        return ranker.features(engine, terms, candidates, docs, scores)

    # -- facets ---------------------------------------------------------------------------

    def _facets(self, engine: Engine, main: Query, filters: dict[str, str | list[str]],
                matched: np.ndarray | None = None) -> dict[str, list[tuple[str, int]]]:
        """Return facet counts (and the exact total), cached per query, filter and index state.

        Pages 2, 3 ... of a search, and the same search from other users, reuse the counts. The
        state is the snapshot's own segments and deletions: not the build being served now and a
        generation number, which a snapshot still on the previous build could share with the new
        one (a full rebuild restarts the numbering), caching its counts under the new build's name.
        """
        key = (engine.state().key, main, repr(sorted(filters.items())))
        with self._lock:
            cached = self._facet_cache.get(key)
        if cached is not None:
            return {name: list(counts) for name, counts in cached.items()}
        counts = self._count_facets(engine, main, filters, matched)
        with self._lock:
            if len(self._facet_cache) >= FACET_CACHE_SIZE:
                self._facet_cache.pop(next(iter(self._facet_cache)))
            self._facet_cache[key] = counts
        return {name: list(values) for name, values in counts.items()}

    def _count_facets(self, engine: Engine, main: Query, filters: dict[str, str | list[str]],
                      matched: np.ndarray | None = None) -> dict[str, list[tuple[str, int]]]:
        """Count each facet's values with the other facets' filters applied but not its own.

        Disjunctive facets, as 中国裁判文书网 has them: after choosing 裁判 the other types keep
        their counts, and choosing one more widens the results (any value within a facet, every facet).
        A judgment with two charges counts under each. The year facet counts the decision years of
        rulings only. Facets are named by their filter. ``matched``: the documents the search scored
        (query and filters), when it has them.
        """
        docs = matched if matched is not None else self._docs(engine, main, self._filter_query(filters))
        out: dict[str, list[tuple[str, int]]] = {"_total": [("", int(len(docs)))]}
        for name, field_name in FACETS.items():
            counted = docs
            if name in filters:
                counted = self._docs(engine, main, self._filter_query({k: v for k, v in filters.items() if k != name}))
            if name == "year":
                counted = np.intersect1d(counted, self._filter_docs(engine, RULINGS_ONLY), assume_unique=True)
            counts = [(str(value), count) for value, count in engine.counts(counted, field_name)
                      if value not in (None, "", b"") and not (name == "year" and not 1900 <= int(value) <= 2100)]
            counts.sort(key=lambda item: (-item[1], item[0]))
            if name == "year":
                counts.sort(key=lambda item: item[0], reverse=True)  # years read newest first, as a time line
            if counts:
                out[name] = counts
        return out

    # -- hits -----------------------------------------------------------------------------

    def _hits(self, engine: Engine, main: Query, grouped: list[tuple[Any, list[Any]]], page: int, per_page: int) -> list[Hit]:
        """Return the page's hits, each with its snippet and the links to its collapsed copies."""
        highlighter = engine.highlighter(main, fragment_chars=SNIPPET_CHARS, context_chars=SNIPPET_CONTEXT)
        hits = []
        for candidate, copies in grouped[(page - 1) * per_page: page * per_page]:
            found = candidate.found
            snippet = self._snippet(engine, highlighter, found)
            result = self._hit_from_fields(found.fields(), score=round(found.score or 0.0, 4), snippet=snippet)
            result.others = [self._copy_link(c.found.fields()) for c in copies]
            hits.append(result)
        return hits

    def _snippet(self, engine: Engine, highlighter: Any, found: Found) -> str:
        """Return the best highlighted fragments of the body, else the summary, else the title; else the text's start."""
        for name in ("body", "summary", "title"):
            text = found.get(name)
            if name == "body" and text and found.get("markdown"):
                # The running text: headings and table rows are noise inside a snippet.
                text = prose_text(found.get("markdown"), self._titles(engine, found.get("markdown")))
            if text:
                snippet = highlighter.highlight(name, text, top=2)
                if snippet:
                    return snippet
        return escape((found.get("summary") or found.get("body") or "")[:200])

    def _copy_link(self, fields: dict[str, Any]) -> dict[str, str]:
        short = self._hit_from_fields(fields, score=0.0, snippet=" ")
        return {k: v for k, v in {"id": short.id, "title": short.title, "url": short.url, "version_on": short.version_on or "",
                                  "source_file": short.source_file or ""}.items() if v}

    def _hit_from_fields(self, fields: dict[str, Any], *, score: float, snippet: str) -> Hit:
        if not snippet:
            snippet = escape((fields.get("summary") or fields.get("body") or "")[:200])
        return Hit.from_stored(fields, score=score, snippet=snippet)

    # -- entries --------------------------------------------------------------------------

    def get_entry(self, entry_id: str) -> dict[str, Any] | None:
        """Return an entry's stored fields (meta decoded), or None if the index has no such entry."""
        fields = self.engine().find(id=entry_id, kind="entry")
        if fields is None:
            return None
        data = dict(fields)
        data["meta"] = json.loads(fields.get("meta") or "{}")
        data["links"] = json.loads(fields.get("links") or "{}")
        return data

    def find_alias(self, alias: str) -> str | None:
        """Return the id of the entry that lists ``alias`` among its aliases."""
        fields = self.engine().find(aliases=alias)
        return fields["id"] if fields else None

    def cited_by(self, key: str, limit: int = 100) -> list[Hit]:
        """Return the rulings and guidelines that cite the article named by ``key`` ('电子商务法#第十七条')."""
        citing = all_of([Term("statutes", key), ENTRY_ONLY, Not(Term("type", "statute"))])
        found = self.engine().search(citing, limit=limit, order=Order("date", descending=True, missing="first"))
        return [self._hit_from_fields(f.fields(), score=0.0, snippet="") for f in found]

    def cited_by_law(self, short_title: str) -> dict[str, list[Hit]]:
        """Return the rulings and guidelines citing each article of a law, by article ('第十七条'), in one query.

        One search per law, not one per article: the 民法典 page asked 1,260 questions.
        """
        prefix = short_title + "#"
        citing = all_of([Prefix("statutes", prefix), ENTRY_ONLY, Not(Term("type", "statute"))])
        by_article: dict[str, list[Hit]] = {}
        for citation in self.engine().search(citing, limit=None, order=NEWEST_FIRST):
            fields = citation.fields()
            hit = self._hit_from_fields(fields, score=0.0, snippet="")
            for key in dict.fromkeys((fields.get("statutes") or "").split(",")):
                if key.startswith(prefix):
                    by_article.setdefault(key[len(prefix):], []).append(hit)
        return by_article

    def repealed_laws(self) -> dict[str, dict[str, str]]:
        """Return the laws no longer in force (content/_data/repealed.yaml, copied into the build): short title -> details."""
        path = self.build_dir / "repealed.yaml" if self.build_dir else None
        stamp = _mtime_ns(path)
        if self._repealed_stamp != (path, stamp):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) if stamp is not None and path else None
            laws = (data or {}).get("repealed") or {}
            self._repealed = {law_short_title(str(k)): {key: str(value) for key, value in (v or {}).items()} for k, v in laws.items()}
            self._repealed_stamp = (path, stamp)
        return self._repealed

    def backlinks(self, entry_id: str, limit: int = 100) -> list[Hit]:
        """Return the entries that link to ``entry_id`` through [[links]] or ``related``."""
        found = self.engine().search(all_of([Term("links_to", entry_id), ENTRY_ONLY]), limit=limit)
        return [self._hit_from_fields(f.fields(), score=0.0, snippet="") for f in found if f.get("id") != entry_id]

    def articles_of(self, entry_id: str) -> list[dict[str, Any]]:
        """Return the stored article documents of a statute, in article order."""
        found = self.engine().search(all_of([Term("parent_id", entry_id), Term("kind", "article")]), limit=None,
                                     order=Order("article_no"))
        return [f.fields() for f in found]

    def state(self) -> str:
        """Return a stamp of the index state being served: it changes with every build and commit."""
        return f"{self.build_name}:{self.engine().state().generation}"

    def neighbours(self, entry_id: str, entry_type: str) -> tuple[dict | None, dict | None]:
        """Return the stored fields of the previous and the next entry of the same type (None at either end)."""
        engine = self.engine()
        return neighbours(engine, entry_id, entry_type, (str(self.build_dir), engine.state().generation))

    @property
    def build_dir(self) -> Path | None:
        """Return the folder of the build being served."""
        return self._index.build

    @property
    def build_name(self) -> str | None:
        """Return the name of the build being served."""
        build = self.build_dir
        return build.name if build else None

    def recent_entries(self, limit: int = 50) -> list[dict[str, Any]]:
        """Return rulings and guidelines, most recently updated first (for the Atom feed)."""
        items = []
        for fields in self.engine().documents(kind="entry"):
            if fields.get("type") == "statute":
                continue
            updated = fields.get("updated") or (fields["date"].isoformat() if fields.get("date") else None)
            meta = json.loads(fields.get("meta") or "{}")
            items.append({"id": fields["id"], "title": fields.get("title", ""), "type": fields.get("type"),
                          "url": entry_url(fields["id"]), "summary": meta.get("summary"),
                          "updated": rfc3339(updated)})
        items.sort(key=lambda e: e["updated"], reverse=True)
        return items[:limit]

    def vocabulary(self) -> Vocabulary:
        """Return the words and titles of the live build, for corrections and autocomplete.

        Read from the build's vocabulary.json (written by the build; read again when an incremental
        build rewrites it); collected from the index only for a build that has none.
        """
        build = self.build_dir
        path = build / VOCABULARY_FILE if build else None
        stamp = _mtime_ns(path)
        vocabulary = self._vocabulary
        if vocabulary is None or stamp != self._vocabulary_stamp:
            vocabulary = Vocabulary.load(path) if path else None
            if vocabulary is None:
                titles, tags = [], set()
                for fields in self.engine().documents(kind="entry"):
                    kind = "statute" if fields.get("type") == "statute" else "entry"
                    titles.append((fields.get("title", ""), kind, entry_url(fields["id"])))
                    tags |= {t for t in (fields.get("tags") or "").split(",") if t}
                thesaurus_words = set(self.thesaurus.synonyms) | {w for ws in self.thesaurus.synonyms.values() for w in ws}
                vocabulary = Vocabulary.from_build(build, titles, tags, thesaurus_words) if build else Vocabulary([])
            self._vocabulary, self._vocabulary_stamp = vocabulary, stamp
        return vocabulary

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Return autocomplete suggestions for what the user has typed so far."""
        if len(prefix) > 100:
            raise QueryError("the text to complete is longer than 100 characters.")
        return self.vocabulary().complete(clean_query(prefix), limit)

    def count(self) -> int:
        """Return the number of documents in the index."""
        return self.engine().state().doc_count
