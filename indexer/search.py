"""Search the index: free-text Chinese queries, filters, facets, highlights, pages.

Pages and API call the same :meth:`SearchIndex.search` and render the same :class:`SearchPage`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from whoosh import highlight, qparser, sorting
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.qparser import MultifieldParser
from whoosh.searching import Results, Searcher

from indexer.analyzer import initialize, normalize, query_terms
from indexer.browse import neighbours
from indexer.build import current_build, open_index, usable_build
from indexer.docsets import ARRAYS_FOLDER, IndexView, PostingArrays, Unsupported
from indexer.hits import Hit
from indexer.query import QueryPlan, TermGroup, Thesaurus, understand
from indexer.ranking import GUIDE_TAG, LearnedRanker, asks_what_to_prove, topic_words
from indexer.schema import FACET_FIELDS, FILTER_FIELDS, RANK_FIELDS
from indexer.suggest import VOCABULARY_FILE, Suggestion, Vocabulary
from kb.casenumber import find_case_numbers
from kb.links import short_title as law_short_title
from kb.precedent import AUTHORITY_TIERS, CONSULT, FOLLOW, RECENT_YEARS, is_recent, reference, tier_name, tier_rank  # noqa: F401 - re-exported
from kb.render import checklist, entry_url, linked_ids, prose_text
from kb.vocabulary import CauseTree

MAX_QUERY_CHARS = 1000
MAX_PER_PAGE = 100
MAX_PAGE = 100
TEXT_FIELDS = ("title", "summary", "body")
SORTS = ("relevance", "date", "precedent")
RERANK_DEPTH = 200
MAX_QUERY_GROUPS = 16  # a paragraph of facts (more words than this) keeps its most informative words
PARAGRAPH_CHARS = 80
ARTICLES_PER_STATUTE = 3  # articles of one statute among the leading results, before the others
MAX_FILTER_VALUES = 20  # values of one facet chosen at once
FACET_CACHE_SIZE = 512  # facet counts kept per process (a few KB each)  # a query longer than this is a paragraph of facts, not a question  # candidates re-ranked for authority, versions and near-duplicates
# A national law outranks a regulation or local rule that restates it (multipliers on BM25).
LEVEL_WEIGHT = {"法律": 1.0, "司法解释": 0.95, "行政法规": 0.9, "部门规章": 0.8, "地方性法规": 0.6}
SUPERSEDED_WEIGHT = 0.6
LOCAL_LEVEL = "地方性法规"
LOCAL_WEIGHT = 0.5  # a local regulation's first-stage score, when the candidates are chosen
_english = StemmingAnalyzer()


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
    facets: dict[str, list[tuple[str, int]]]
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


ENTRY_ONLY = wq.Term("kind", "entry")
RULINGS_ONLY = wq.Term("type", "ruling")


def field_query(term: str, boost: float = 1.0) -> wq.Query:
    """Return the query for one analysed word over every text field (and English if it is English).

    A title counts for entries only: an article carries its statute's title, and scoring it
    there let one statute whose title shares a word with the question (赔偿 -> 国家赔偿法)
    fill the first page with its articles (bench/RELEVANCE.md).
    """
    parts: list[wq.Query] = [wq.Require(wq.Term("title", term), ENTRY_ONLY)]
    parts += [wq.Term(name, term) for name in TEXT_FIELDS if name != "title"]
    parts.append(wq.Term("tags", term))
    if term.isascii() and any(ch.isalpha() for ch in term):
        for token in _english(term):
            parts.append(wq.Term("english", token.text))
    return wq.Or(parts, boost=boost)


def phrase_query(text: str, boost: float) -> wq.Query | None:
    """Return the query for an expansion, which may be several words (all of them must match)."""
    words = text.split() if " " in text else query_terms(text)
    if not words:
        return None
    if len(words) == 1:
        return field_query(words[0], boost)
    return wq.And([field_query(w) for w in words], boost=boost)


def group_query(group: TermGroup) -> wq.Query:
    """Return the query for one term group: the word itself, or any alternative at its weight."""
    parts = [field_query(group.term)]
    for alternative, weight in group.alternatives:
        sub = phrase_query(alternative, weight)
        if sub is not None:
            parts.append(sub)
    return parts[0] if len(parts) == 1 else wq.Or(parts)


SNIPPET_CHARS = 200  # the longest highlighted fragment
SNIPPET_CONTEXT = 50  # characters of context around a match
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


def answer_card(hits: list[Hit], page: int) -> dict[str, Any] | None:
    """Return the guide to show above the results when the question is one a guide answers."""
    if page != 1 or not hits:
        return None
    best = hits[0].score or 0.0
    for hit in hits[:3]:
        if hit.type == "guideline" and hit.kind == "entry" and (hit.score or 0.0) >= 0.6 * best:
            return {"id": hit.id, "title": hit.title, "url": hit.url}
    return None


def newest_first(searcher: Searcher) -> sorting.FacetType:
    """Return the date order (search with reverse=True) that puts undated documents last, not first.

    Whoosh gives a document without a date the column's default, the largest number there is,
    so a plain reversed date sort listed the undated rulings before the newest.
    """
    missing = searcher.schema["date"].column_type.default_value()
    return sorting.TranslateFacet(lambda value: -1 if value is None or value == missing else value, sorting.FieldFacet("date"))


class Candidate(dict):
    """A ranked document: the fields the ranking reads, its score, and its Whoosh hit."""

    __slots__ = ("hit", "score")

    def __init__(self, fields: dict[str, Any], hit: Any) -> None:
        super().__init__(fields)
        self.hit = hit
        self.score = hit.score


def diversify(hits: list[Any], per_statute: int = ARTICLES_PER_STATUTE) -> list[Any]:
    """Let at most ``per_statute`` articles of one statute lead; its other articles follow the rest."""
    lead, rest = [], []
    seen: dict[str, int] = {}
    for hit in hits:
        if hit.get("kind") == "article":
            parent = hit.get("parent_id") or ""
            seen[parent] = seen.get(parent, 0) + 1
            if seen[parent] > per_statute:
                rest.append(hit)
                continue
        lead.append(hit)
    return lead + rest


def collapse(hits: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Group copies of one article (other versions, or the same text restated) under the best-ranked one."""
    groups: list[tuple[Any, list[Any]]] = []
    seen: dict[str, int] = {}
    for hit in hits:
        keys = []
        if hit.get("kind") == "article":
            keys.append("a:" + (hit.get("article_key") or ""))
            if hit.get("text_hash"):
                keys.append("t:" + hit["text_hash"])
        index = next((seen[k] for k in keys if k in seen), None)
        if index is None:
            for key in keys:
                seen[key] = len(groups)
            groups.append((hit, []))
        else:
            groups[index][1].append(hit)
            for key in keys:
                seen.setdefault(key, index)
    # The version in force leads its copies: an older version only where no copy is in force.
    for i, (leader, copies) in enumerate(groups):
        if leader.get("superseded"):
            current = next((c for c in copies if not c.get("superseded")), None)
            if current is not None:
                groups[i] = (current, [leader] + [c for c in copies if c is not current])
    return groups


class SearchIndex:
    """A live index opened for searching, with one searcher per thread, refreshed on change."""

    def __init__(self, index_root: Path | str) -> None:
        self.root = Path(index_root)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._facet_cache: dict[tuple, dict[str, list[tuple[str, int]]]] = {}
        self._filter_cache: dict[tuple, np.ndarray] = {}
        self._repealed: dict[str, dict[str, str]] = {}
        self._repealed_stamp: tuple | None = None
        self._arrays = PostingArrays()
        self._build: Path | None = None
        self._wanted: Path | None = None  # the build CURRENT named when the index was last opened
        self._ix = None
        self.ranker: LearnedRanker | None = LearnedRanker.load()
        self._open()
        initialize()

    def _open(self) -> None:
        with self._lock:
            wanted = current_build(self.root)
            if wanted != self._wanted or self._ix is None:
                build = usable_build(self.root)  # checked once per swap; a damaged one leaves the last good build
                self._ix = open_index(self.root, build)
                self._wanted = wanted
                self._build = build
                self.thesaurus = Thesaurus.load(build) if build else Thesaurus()
                self.causes = CauseTree.load(build) if build else CauseTree()
                self._vocabulary = None
                self._vocabulary_stamp = None
                self._arrays = PostingArrays(build / ARRAYS_FOLDER if build else None)
                self._filter_cache = {}

    def searcher(self) -> Searcher:
        """Return this thread's searcher, switched to a new build or refreshed after a commit."""
        if current_build(self.root) != self._wanted:
            self._open()
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None or getattr(local, "build", None) != self._build or not searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so misses deletion-only
            # commits (measured: a deleted entry stays visible). A new searcher costs ~ms.
            if searcher is not None:
                searcher.close()
            searcher = self._ix.searcher()  # type: ignore[union-attr]
            local.build = self._build
            local.searcher = searcher
        return searcher

    def view(self, searcher: Searcher) -> IndexView:
        """Return the posting-array view of the searcher's index (arrays shared by every thread).

        One view per searcher: a searcher reads one index state, so its view never changes.
        """
        local = self._local
        view = getattr(local, "view", None)
        if view is None or view.searcher is not searcher or view.arrays is not self._arrays:
            view = local.view = self._arrays.view(searcher)
        return view

    def _docs(self, view: IndexView, main: wq.Query, flt: wq.Query | None) -> np.ndarray:
        """Return the documents that match ``main`` and pass the filter."""
        docs = view.docs(main)
        if flt is not None:
            docs = np.intersect1d(docs, self._filter_docs(view, flt), assume_unique=True)
        return docs

    def _filter_docs(self, view: IndexView, flt: wq.Query) -> np.ndarray:
        """Return the documents a filter allows (cached per filter and index state)."""
        key = (view.key, repr(flt))
        docs = self._filter_cache.get(key)
        if docs is None:
            docs = view.docs(flt)
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
        searcher = self.searcher()
        plan, main, case_hit, redirect = self._main_query(searcher, query, syntax)
        terms = plan.terms
        # The learned ranking was trained on Chinese questions: an English one (glossary words in
        # Chinese beside English words) is ordered as before it, by level-weighted BM25F.
        english = bool(re.search(r"[A-Za-z]{3}", plan.text))
        rank_terms = [] if english else terms
        notice = None
        fallback = False
        flt = self._filter_query(filters)
        results, grouped, total, matched = self._run(searcher, main, flt, page, per_page, sort, rank_terms)
        if total == 0 and len(plan.groups) > 1 and not syntax:
            main = wq.Or([group_query(g) for g in plan.groups])
            results, grouped, total, matched = self._run(searcher, main, flt, page, per_page, sort, rank_terms)
            if total:
                fallback = True
                notice = "No entry contains every word; showing entries that contain some of them."
        hits = self._hits(results, grouped, page, per_page)
        if case_hit is not None and page == 1:
            hits = [h for h in hits if h.id != case_hit["id"]]
            hits.insert(0, self._hit_from_fields(case_hit, score=0.0, snippet=""))
        elif page == 1 and sort == "relevance" and not syntax and not filters and asks_what_to_prove(plan.text):
            guide = self._evidence_guide(searcher, plan)
            if guide is not None:
                found = next((h for h in hits if h.id == guide["id"]), None)
                hits = [h for h in hits if h.id != guide["id"]]
                hits.insert(0, found or self._hit_from_fields(guide, score=0.0, snippet=""))
                hits = hits[:per_page]
        facets = self._facets(searcher, main, filters, matched)
        # len(Results) ignores the filter; the unscored facet pass counts exactly what matched.
        total = facets.pop("_total")[0][1] + (1 if case_hit is not None and total == 0 else 0)
        did_you_mean = None
        if not syntax and query and case_hit is None and len(query) <= 40:
            # Only words that are neither known nor made of known words are corrected, so a
            # correction is offered whenever the corrected query finds something.
            corrected = self.vocabulary().correct(plan.text)  # simplified: traditional is not a typo
            if corrected and corrected != plan.text:
                corrected_plan = understand(corrected, self.thesaurus)
                if corrected_plan.groups:
                    # Whether it finds anything is all that is asked: matching, not ranking (a whole
                    # second search here was a quarter of the slowest questions' time).
                    corrected_query = self._text_query(corrected_plan.groups)
                    try:
                        found_any = len(self._docs(self.view(searcher), corrected_query, flt)) > 0
                    except Unsupported:
                        found_any = self._run(searcher, corrected_query, flt, 1, 1, "relevance")[2] > 0
                    if found_any:
                        did_you_mean = corrected
        return SearchPage(did_you_mean=did_you_mean, answer=self._answer(searcher, hits, page), redirect=redirect,
                          query=query, total=total, page=page, per_page=per_page, results=hits, facets=facets,
                          filters=filters, sort=sort, terms=terms, fallback=fallback, notice=notice,
                          expansions=plan.expansions(), converted=plan.converted_from_traditional,
                          case_number=case_hit["case_number"] if case_hit is not None else None,
                          cause_tree=self.causes.tree(dict(facets.get("cause", []))))

    def _answer(self, searcher: Searcher, hits: list[Hit], page: int) -> dict[str, Any] | None:
        """Return the answer card: the guide, its summary and its checklist (pages and API show the same).

        Read through the search's own searcher: asking self.searcher() mid-search would close it
        if a build finished meanwhile (ReaderClosed under rebuilds).
        """
        card = answer_card(hits, page)
        stored = searcher.document(id=card["id"], kind="entry") if card else None
        if card is None or stored is None:
            return card
        markdown = stored.get("markdown") or ""
        heading, items = checklist(markdown, self._titles(searcher, markdown))
        meta = json.loads(stored.get("meta") or "{}")
        return dict(card, summary=meta.get("summary"), summary_en=meta.get("summary_en"),
                    checklist_heading=heading or None, checklist=items)

    def _titles(self, searcher: Searcher, markdown: str) -> dict[str, str]:
        """Return the titles of the entries that ``[[links]]`` in ``markdown`` name, by id."""
        titles = {}
        for entry_id in linked_ids(markdown):
            fields = searcher.document(id=entry_id, kind="entry")
            if fields:
                titles[entry_id] = fields.get("title", "")
        return titles

    def _main_query(self, searcher: Searcher, query: str, syntax: bool,
                    ranker: LearnedRanker | None = None) -> tuple[QueryPlan, wq.Query, Any, str | None]:
        """Return what the search understood, the query to run, the ruling a case number names, and its page if the query is only that."""
        ranker = ranker or self.ranker
        plan = understand(query, self.thesaurus) if not syntax else QueryPlan(query, [])
        case_numbers = find_case_numbers(query)
        case_hit = None
        redirect = None
        if case_numbers:
            case_hit = searcher.document(case_number=case_numbers[0], kind="entry")
        if syntax:
            parser = MultifieldParser(list(TEXT_FIELDS) + ["tags"], schema=searcher.schema)
            # Wildcards and ranges expand to every term of a field: `*` took 5 s and `[a TO]` 23 s
            # on content/. Without these plugins, * ? [ ] { } are plain characters.
            parser.remove_plugin_class(qparser.WildcardPlugin)
            parser.remove_plugin_class(qparser.RangePlugin)
            try:
                main = parser.parse(query)
            except Exception:  # noqa: BLE001 - Whoosh raises IndexError, AssertionError ... on odd operator sequences
                raise QueryError("the query syntax cannot be read. Check its operators (AND, OR, NOT) and brackets, "
                                 "or search without syntax=1.") from None
            if main is wq.NullQuery or isinstance(main, type(wq.NullQuery)):
                raise QueryError("the query has operators but nothing to search for. Add a word, or search without syntax=1.")
        elif case_hit is not None and not [t for t in plan.terms if not re.search(r"\d|京|号|初|终", t)]:
            main = wq.Term("case_number", case_numbers[0])
            redirect = entry_url(case_hit["id"])
            redirect = entry_url(case_hit["id"])
        elif not plan.groups:
            main = wq.Every() if not query else wq.NullQuery
        else:
            if len(query) > PARAGRAPH_CHARS and len(plan.groups) > MAX_QUERY_GROUPS:
                # A paragraph of facts: its most informative words, not all of them.
                plan.groups = self._key_groups(searcher, plan.groups)
                # Ranked by how many of them a document has (BM25), none required: no AND, no minimum.
                main = wq.Or([field_query(g.term) for g in plan.groups])
            else:
                main = self._text_query(plan.groups)
        if not syntax and plan.groups and ranker is not None and case_hit is None:
            main = self._expand(main, plan, ranker)
        return plan, main, case_hit, redirect

    def _expand(self, main: wq.Query, plan: QueryPlan, ranker: LearnedRanker) -> wq.Query:
        """Add the learned expansion words (indexer/ranking.py): more documents for a question of 3+ words, more score otherwise."""
        expansions = ranker.expansions(plan.terms)
        if not expansions:
            return main
        plan.learned = {term: [w for w, _weight in words] for term, words in ranker.expansions_by_word(plan.terms).items()}
        extra = wq.Or([field_query(word, boost=weight) for word, weight in expansions])
        if isinstance(main, wq.Or) or len(plan.groups) == 1:
            return wq.Or([main, extra])
        return wq.AndMaybe(main, extra)

    def _evidence_guide(self, searcher: Searcher, plan: QueryPlan) -> dict[str, Any] | None:
        """Return the burden-of-proof guide for the dispute a what-to-prove question is about, if one covers it.

        The guides (tagged 举证指南) are scored by the question's topic words alone, synonyms
        included; the evidence words (证明, 证据 ...) are in every guide and so decide nothing.
        """
        topic = set(topic_words(plan.terms))
        words = {(g.term, 1.0) for g in plan.groups if g.term in topic}
        words |= {(alt, w) for g in plan.groups if g.term in topic for alt, w in g.alternatives if " " not in alt}
        if not words:
            return None
        view = self.view(searcher)
        guides = self._filter_docs(view, wq.And([wq.Term("tags", GUIDE_TAG), ENTRY_ONLY]))
        # What a guide covers is what its title and tags say: its long text mentions much else.
        about = wq.Or([wq.Or([wq.Term("title", w), wq.Term("tags", w)], boost=weight) for w, weight in sorted(words)])
        try:
            ids, scores = view.scored(about)
        except Unsupported:
            return None
        keep = np.isin(ids, guides, assume_unique=True)
        ids, scores = ids[keep], scores[keep]
        if not len(ids):
            return None
        return searcher.stored_fields(int(ids[int(np.argmax(scores))]))

    def _key_groups(self, searcher: Searcher, groups: list[TermGroup]) -> list[TermGroup]:
        """Keep the MAX_QUERY_GROUPS most informative words (IDF, longer words first) that occur at all, in query order."""
        reader = searcher.reader()
        total = max(1, reader.doc_count())

        def idf(group: TermGroup) -> float:
            df = max(reader.doc_frequency(name, group.term) for name in TEXT_FIELDS)
            # Longer words carry more meaning (网络服务提供者 over 提供); rare ones more than common ones.
            return math.log(1 + total / df) * (1.5 if len(group.term) >= 3 else 1.0) if df else 0.0

        scored = [(idf(g), i, g) for i, g in enumerate(groups) if len(g.term) > 1 or not g.term.isascii()]
        keep = sorted((item for item in scored if item[0] > 0), reverse=True)[:MAX_QUERY_GROUPS]
        return [g for _idf, _i, g in sorted(keep, key=lambda item: item[1])]

    def _text_query(self, groups: list[TermGroup]) -> wq.Query:
        """Require the meaningful words (most of them, for a long question); single characters only add score."""
        # English words the glossary does not know can only match English titles and summaries
        # (articles have none), so they add score but are never required.
        required = [g for g in groups if (len(g.term) > 1 or g.term.isascii()) and not g.english]
        optional = [g for g in groups if g not in required]
        if not required:
            required, optional = optional, []
        subqueries = [group_query(g) for g in required]
        if len(subqueries) == 1:
            main: wq.Query = subqueries[0]
        elif len(subqueries) == 2:
            main = wq.And(subqueries)
        else:
            # A question is not an AND of every word: any of them matches, and BM25 ranks the
            # documents with more (and rarer) of them first. (A "60% of the words" minimum was
            # written here as Or(minmatch=...), which Whoosh ignores; enforced, it measured
            # Hit@10 0.198 and lenient Hit@10 0.214 against 0.203 and 0.242 without it.)
            main = wq.Or(subqueries)
        if optional:
            main = wq.AndMaybe(main, wq.Or([group_query(g) for g in optional]))
        return main

    def _filter_query(self, filters: dict[str, str | list[str]]) -> wq.Query | None:
        """Return the filter: any of the values chosen within a facet, every facet (disjunctive facets)."""
        parts: list[wq.Query] = []
        for name, value in sorted(filters.items()):
            terms = [term for v in filter_values(value) for term in self._filter_terms(name, v)]
            if name == "year":
                # The decision year of rulings: a statute's version year is another thing (2021: 502 for 合同).
                parts.append(wq.And([RULINGS_ONLY, wq.Or(terms)]))
            else:
                parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
        return wq.And(parts) if parts else None

    def _filter_terms(self, name: str, value: str) -> list[wq.Query]:
        if name == "year":
            try:
                return [wq.Term("year", int(value))]
            except ValueError:
                raise QueryError(f"year must be a number, not '{value}'.") from None
        if name == "statute":
            return [wq.Term("statutes", value)]
        if name == "tags":
            return [wq.Term("tags", value.lower())]
        if name == "cause":
            # A cause includes the causes below it in the tree (合同纠纷 -> 网络服务合同纠纷).
            return [wq.Term("cause", c) for c in sorted(self.causes.descendants(value))]
        return [wq.Term(name, value)]

    def _run(self, searcher: Searcher, main: wq.Query, flt: wq.Query | None, page: int, per_page: int, sort: str,
             terms: list[str] | None = None):
        """Return the page's ranked whoosh hits (with collapsed copies), how many matched, and which (if the arrays scored them)."""
        depth = max(page * per_page, RERANK_DEPTH if sort != "date" else page * per_page)
        view = self.view(searcher)
        results = None
        matched = None  # the documents matched, when the arrays scored them: the facets count them
        if sort != "date":
            try:
                results, matched = self._first_stage(searcher, view, main, flt, depth)
            except Unsupported:
                pass
        if results is None:  # date order, or a query the arrays do not model (syntax=1 phrases)
            allowed = set(self._filter_docs(view, flt).tolist()) if flt is not None else None
            if allowed is not None and not allowed:
                main, allowed = wq.NullQuery, None  # Whoosh reads an empty filter set as no filter at all
            kwargs: dict[str, Any] = {"limit": depth, "filter": allowed}
            if sort == "date":
                kwargs["sortedby"], kwargs["reverse"] = newest_first(searcher), True
            results = searcher.search(main, **kwargs)
        # iter(): list(results) would call len(results), which re-runs the whole query to count it.
        found = self._candidates(searcher, view, list(iter(results)))
        ranked = found if sort == "date" else self._rerank(found, sort, view, terms or [])
        grouped = collapse(ranked)
        return results, grouped, results.scored_length(), matched

    def _candidates(self, searcher: Searcher, view: IndexView, hits: list[Any]) -> list[Candidate]:
        """Return the hits with the fields the ranking reads: from columns, not from stored documents."""
        schema = searcher.schema
        if not hits or not all(name in schema and schema[name].column_type for name in RANK_FIELDS):
            return [Candidate(hit.fields(), hit) for hit in hits]  # an index built before schema 5
        docs = np.array([hit.docnum for hit in hits], dtype=np.int64)
        columns = [(name, view.values_at(docs, name)) for name in RANK_FIELDS]
        candidates = []
        for i, hit in enumerate(hits):
            fields = {name: values[i] for name, values in columns if values[i] not in (None, "")}
            if "year" in fields and not 1000 <= fields["year"] <= 9999:
                del fields["year"]  # the column's stand-in for "no year"
            candidates.append(Candidate(fields, hit))
        return candidates

    @staticmethod
    def _demote_local(view: IndexView, ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Halve local regulations' scores before the candidates are chosen.

        A local regulation often restates a national article; ~30% of the candidates of real
        questions were local copies, and no STARD answer is one. Halved, not dropped: a question
        that names a place or a local rule still finds it. Candidate recall@200 on the STARD dev
        half: 0.751 -> 0.795 (bench/STARD.md).
        """
        if not len(ids):
            return scores
        return np.where(view.has_value("level", LOCAL_LEVEL, ids), scores * LOCAL_WEIGHT, scores)

    def training_candidates(self, query: str, ranker: LearnedRanker) -> tuple[list[Any], np.ndarray]:
        """Return a question's first-stage candidates under ``ranker``'s expansions, and their features (for training)."""
        searcher = self.searcher()
        plan, main, _case_hit, _redirect = self._main_query(searcher, clean_query(query), False, ranker)
        view = self.view(searcher)
        try:
            results, _matched = self._first_stage(searcher, view, main, None, RERANK_DEPTH)
        except Unsupported:
            return [], np.zeros((0, 0))
        found = self._candidates(searcher, view, list(iter(results)))
        return found, self.ranking_features(found, view, plan.terms, ranker)

    def _first_stage(self, searcher: Searcher, view: IndexView, main: wq.Query, flt: wq.Query | None,
                     depth: int) -> tuple[Results, np.ndarray]:
        """Return the ``depth`` best documents by BM25F over posting arrays, and every document that matched.

        The same scores as Whoosh's matchers, without stepping through every match in Python;
        raises Unsupported for a query the arrays do not model (syntax=1 phrases).
        """
        ids, scores = view.scored(main)
        if flt is not None and len(ids):
            keep = np.isin(ids, self._filter_docs(view, flt), assume_unique=True)
            ids, scores = ids[keep], scores[keep]
        return Results(searcher, main, view.top(ids, self._demote_local(view, ids, scores), depth)), ids

    def ranking_features(self, hits: list[Any], view: IndexView, terms: list[str],
                         ranker: LearnedRanker | None = None) -> np.ndarray:
        """Return the learned ranking's features of the candidates (indexer/ranking.py), best first-stage score first."""
        ranker = ranker or self.ranker
        assert ranker is not None
        docs = np.array([h.hit.docnum for h in hits], dtype=np.int64)
        scores = np.array([h.score or 0.0 for h in hits], dtype=np.float64)
        return ranker.features(view, terms, hits, docs, scores)

    def _rerank(self, hits: list[Any], sort: str, view: IndexView | None = None, terms: list[str] | None = None) -> list[Any]:
        """Order candidates: learned relevance (or level-weighted BM25 without a model), or precedent order (art. 4)."""
        if sort == "precedent":
            today = dt.date.today()

            def precedent_key(hit: Any) -> tuple[int, int, int, float]:
                # Precedent research is over rulings: guidelines and statutes follow them, whatever their score.
                ruling = 0 if (hit.get("type") or hit.hit.get("type")) == "ruling" else 1
                recent = 0 if is_recent(hit.get("year"), today) else 1
                return (ruling, tier_rank(hit.get("authority")), recent, -(hit.score or 0.0))

            return sorted(hits, key=precedent_key)

        def weighted(hit: Any) -> float:
            weight = LEVEL_WEIGHT.get(hit.get("level") or "", 1.0)
            if hit.get("superseded"):
                weight *= SUPERSEDED_WEIGHT
            return (hit.score or 0.0) * weight

        if self.ranker is not None and self.ranker.booster is not None and terms and view is not None and hits:
            return self._learned_order(hits, view, terms, sorted(hits, key=weighted, reverse=True))
        return diversify(sorted(hits, key=weighted, reverse=True))

    def _learned_order(self, hits: list[Any], view: IndexView, terms: list[str], first_stage: list[Any]) -> list[Any]:
        """Return the articles in the learned order, each ruling, guideline or statute at its first-stage place.

        The ranker learned from questions answered by articles; it knows nothing of our own
        entries, whose titles and tags say what they are about. So an entry keeps the place its
        BM25F score gave it (first when it outscores every article), and the articles fill the
        other places in the order the ranker gives them.
        """
        order = self.ranker.order(self.ranking_features(hits, view, terms))  # type: ignore[union-attr]
        articles = iter([hits[i] for i in order if hits[i].get("kind") == "article"])
        return [hit if hit.get("kind") != "article" else next(articles) for hit in first_stage]

    def _facets(self, searcher: Searcher, main: wq.Query, filters: dict[str, str | list[str]],
                matched: np.ndarray | None = None) -> dict[str, list[tuple[str, int]]]:
        """Return facet counts (and the exact total), cached per query, filter and index state.

        Pages 2, 3 ... of a search, and the same search from other users, reuse the counts. The
        state is the searcher's own segments and deletions: not the build being served now and a
        generation number, which a searcher still on the previous build could share with the new
        one (a full rebuild restarts the numbering), caching its counts under the new build's name.
        """
        key = (self.view(searcher).key, repr(main), repr(sorted(filters.items())))
        with self._lock:
            cached = self._facet_cache.get(key)
        if cached is not None:
            return {name: list(counts) for name, counts in cached.items()}
        counts = self._count_facets(searcher, main, filters, matched)
        with self._lock:
            if len(self._facet_cache) >= FACET_CACHE_SIZE:
                self._facet_cache.pop(next(iter(self._facet_cache)))
            self._facet_cache[key] = counts
        return {name: list(values) for name, values in counts.items()}

    def _count_facets(self, searcher: Searcher, main: wq.Query, filters: dict[str, str | list[str]],
                      matched: np.ndarray | None = None) -> dict[str, list[tuple[str, int]]]:
        """Count each facet's values with the other facets' filters applied but not its own.

        Disjunctive facets, as 中国裁判文书网 has them: after choosing 裁判 the other types keep
        their counts, and choosing one more widens the results (any value within a facet, every facet).
        The year facet counts the decision years of rulings only. ``matched``: the documents the
        search scored (query and filters), when it has them.
        """
        # Numpy over posting arrays (indexer/docsets.py): Whoosh's unscored pass stepped through
        # every match once per facet, most of a common query's time at scale.
        view = self.view(searcher)
        docs = matched if matched is not None else self._docs(view, main, self._filter_query(filters))
        out: dict[str, list[tuple[str, int]]] = {"_total": [("", int(len(docs)))]}
        for name in FACET_FIELDS:
            counted = docs
            if name in filters:
                counted = self._docs(view, main, self._filter_query({k: v for k, v in filters.items() if k != name}))
            if name == "year":
                counted = np.intersect1d(counted, self._filter_docs(view, RULINGS_ONLY), assume_unique=True)
            counts = [(str(value), count) for value, count in view.counts(counted, name)
                      if value not in (None, "", b"") and not (name == "year" and not 1900 <= int(value) <= 2100)]
            counts.sort(key=lambda item: (-item[1], item[0]))
            if name == "year":
                counts.sort(key=lambda item: item[0], reverse=True)  # years read newest first, as a time line
            if counts:
                out[name] = counts
        return out

    def _hits(self, results: Any, grouped: list[tuple[Any, list[Any]]], page: int, per_page: int) -> list[Hit]:
        results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=SNIPPET_CONTEXT)
        results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        # Whoosh works the query's terms out again for every hit and field: once per search is enough.
        results.query_terms = functools.lru_cache(maxsize=None)(results.query_terms)
        hits = []
        for candidate, copies in grouped[(page - 1) * per_page: page * per_page]:
            hit = candidate.hit
            snippet = ""
            for name in ("body", "summary", "title"):
                text = hit.get(name)
                if name == "body" and text and hit.get("markdown"):
                    # The running text: headings and table rows are noise inside a snippet.
                    text = prose_text(hit["markdown"], self._titles(results.searcher, hit["markdown"]))
                if text:
                    field = results.searcher.schema[name]
                    words = {field.from_bytes(term) for _f, term in results.query_terms(expand=True, fieldname=name)}
                    text = snippet_source(text, words)
                    snippet = results.highlighter.highlight_hit(hit, name, text=text, top=2) if text else ""
                    if snippet:
                        break
            if not snippet:
                text = hit.get("summary") or hit.get("body") or ""
                snippet = highlight.htmlescape(text[:200])
            result = self._hit_from_fields(hit.fields(), score=round(hit.score or 0.0, 4), snippet=snippet)
            result.others = [self._copy_link(c.hit.fields()) for c in copies]
            hits.append(result)
        return hits

    def _copy_link(self, fields: dict[str, Any]) -> dict[str, str]:
        short = self._hit_from_fields(fields, score=0.0, snippet=" ")
        return {k: v for k, v in {"id": short.id, "title": short.title, "url": short.url, "version_on": short.version_on or "",
                                  "source_file": short.source_file or ""}.items() if v}

    def _hit_from_fields(self, fields: dict[str, Any], *, score: float, snippet: str) -> Hit:
        if not snippet:
            snippet = highlight.htmlescape((fields.get("summary") or fields.get("body") or "")[:200])
        return Hit.from_stored(fields, score=score, snippet=snippet)

    # -- entries --------------------------------------------------------------------------

    def get_entry(self, entry_id: str) -> dict[str, Any] | None:
        """Return an entry's stored fields (meta decoded), or None if the index has no such entry."""
        searcher = self.searcher()
        fields = searcher.document(id=entry_id, kind="entry")
        if fields is None:
            return None
        data = dict(fields)
        data["meta"] = json.loads(fields.get("meta") or "{}")
        data["links"] = json.loads(fields.get("links") or "{}")
        return data

    def find_alias(self, alias: str) -> str | None:
        """Return the id of the entry that lists ``alias`` among its aliases."""
        fields = self.searcher().document(aliases=alias)
        return fields["id"] if fields else None

    def cited_by(self, key: str, limit: int = 100) -> list[Hit]:
        """Return the rulings and guidelines that cite the article named by ``key`` ('电子商务法#第十七条')."""
        searcher = self.searcher()
        results = searcher.search(wq.And([wq.Term("statutes", key), wq.Term("kind", "entry"), wq.Not(wq.Term("type", "statute"))]),
                                  limit=limit, sortedby=sorting.FieldFacet("date", reverse=True))
        return [self._hit_from_fields(hit.fields(), score=0.0, snippet="") for hit in results]

    def cited_by_law(self, short_title: str) -> dict[str, list[Hit]]:
        """Return the rulings and guidelines citing each article of a law, by article ('第十七条'), in one query.

        One search per law, not one per article: the 民法典 page asked 1,260 questions.
        """
        searcher = self.searcher()
        prefix = short_title + "#"
        results = searcher.search(wq.And([wq.Prefix("statutes", prefix), ENTRY_ONLY, wq.Not(wq.Term("type", "statute"))]),
                                  limit=None, sortedby=newest_first(searcher), reverse=True)
        by_article: dict[str, list[Hit]] = {}
        for hit in results:
            fields = hit.fields()
            found = self._hit_from_fields(fields, score=0.0, snippet="")
            for key in dict.fromkeys((fields.get("statutes") or "").split(",")):
                if key.startswith(prefix):
                    by_article.setdefault(key[len(prefix):], []).append(found)
        return by_article

    def repealed_laws(self) -> dict[str, dict[str, str]]:
        """Return the laws no longer in force (content/_data/repealed.yaml, copied into the build): short title -> details."""
        path = self._build / "repealed.yaml" if self._build else None
        stamp = _mtime_ns(path)
        if self._repealed_stamp != (path, stamp):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) if stamp is not None and path else None
            laws = (data or {}).get("repealed") or {}
            self._repealed = {law_short_title(str(k)): {key: str(value) for key, value in (v or {}).items()} for k, v in laws.items()}
            self._repealed_stamp = (path, stamp)
        return self._repealed

    def backlinks(self, entry_id: str, limit: int = 100) -> list[Hit]:
        """Return the entries that link to ``entry_id`` through [[links]] or ``related``."""
        searcher = self.searcher()
        results = searcher.search(wq.And([wq.Term("links_to", entry_id), wq.Term("kind", "entry")]), limit=limit)
        return [self._hit_from_fields(hit.fields(), score=0.0, snippet="") for hit in results if hit["id"] != entry_id]

    def articles_of(self, entry_id: str) -> list[dict[str, Any]]:
        """Return the stored article documents of a statute, in article order."""
        searcher = self.searcher()
        results = searcher.search(wq.And([wq.Term("parent_id", entry_id), wq.Term("kind", "article")]), limit=None,
                                  sortedby="article_no")
        return [hit.fields() for hit in results]

    def state(self) -> str:
        """Return a stamp of the index state being served: it changes with every build and commit."""
        return f"{self.build_name}:{self.searcher().reader().generation()}"

    def neighbours(self, entry_id: str, entry_type: str) -> tuple[dict | None, dict | None]:
        """Return the stored fields of the previous and the next entry of the same type (None at either end)."""
        searcher = self.searcher()
        return neighbours(searcher, entry_id, entry_type, (str(self.build_dir), searcher.reader().generation()))

    @property
    def build_dir(self) -> Path | None:
        """Return the folder of the build being served."""
        return self._build

    @property
    def build_name(self) -> str | None:
        """Return the name of the build being served."""
        return self._build.name if self._build else None

    def recent_entries(self, limit: int = 50) -> list[dict[str, Any]]:
        """Return rulings and guidelines, most recently updated first (for the Atom feed)."""
        items = []
        for fields in self.searcher().documents(kind="entry"):
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
        path = self._build / VOCABULARY_FILE if self._build else None
        stamp = _mtime_ns(path)
        vocabulary = self._vocabulary
        if vocabulary is None or stamp != self._vocabulary_stamp:
            vocabulary = Vocabulary.load(path) if path else None
            if vocabulary is None:
                searcher = self.searcher()
                titles, tags = [], set()
                for fields in searcher.documents(kind="entry"):
                    kind = "statute" if fields.get("type") == "statute" else "entry"
                    titles.append((fields.get("title", ""), kind, entry_url(fields["id"])))
                    tags |= {t for t in (fields.get("tags") or "").split(",") if t}
                thesaurus_words = set(self.thesaurus.synonyms) | {w for ws in self.thesaurus.synonyms.values() for w in ws}
                vocabulary = Vocabulary.from_build(self._build, titles, tags, thesaurus_words) if self._build else Vocabulary([])
            self._vocabulary, self._vocabulary_stamp = vocabulary, stamp
        return vocabulary

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Return autocomplete suggestions for what the user has typed so far."""
        if len(prefix) > 100:
            raise QueryError("the text to complete is longer than 100 characters.")
        return self.vocabulary().complete(clean_query(prefix), limit)

    def count(self) -> int:
        """Return the number of documents in the index."""
        return self.searcher().doc_count()
