"""Ranking policy: in what order a search shows what the engine found, and what it puts first.

The engine (:mod:`indexer.engine`) matches and scores; :mod:`indexer.ranking` learns an order of
the candidates from real questions. What is decided here is the house's own rules, apart from
both (issue #16):

* **legal force and versions**: a national law outranks a regulation or local rule that restates
  it (:data:`LEVEL_WEIGHT`), an older version counts less (:data:`SUPERSEDED_WEIGHT`), and a local
  regulation's first-stage score is halved before the candidates are chosen (:func:`demote_local`);
* **variety**: at most :data:`ARTICLES_PER_STATUTE` articles of one statute lead (:func:`diversify`);
* **copies**: other versions and restatements of an article are shown under one hit, the version
  in force leading (:func:`collapse`);
* **precedent order** (art. 4 of 法发〔2020〕24号, rules in :mod:`kb.precedent`): rulings first,
  by authority tier, the last three years first (:func:`precedent_key`);
* **what leads the page**: the answer card (:func:`answer_card`), and the burden-of-proof guide
  for a what-to-prove question (:func:`guide_words`, :func:`guide_query`, :func:`lead_with`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from indexer.engine import Found, Query, Term, all_of, any_of
from indexer.query import ENTRY_ONLY, QueryPlan
from indexer.ranking import GUIDE_TAG, asks_what_to_prove, topic_words
from kb.precedent import is_recent, tier_rank

RERANK_DEPTH = 200  # candidates re-ranked for authority, versions and near-duplicates
ARTICLES_PER_STATUTE = 3  # articles of one statute among the leading results, before the others
# A national law outranks a regulation or local rule that restates it (multipliers on BM25).
LEVEL_WEIGHT = {"法律": 1.0, "司法解释": 0.95, "行政法规": 0.9, "部门规章": 0.8, "地方性法规": 0.6}
SUPERSEDED_WEIGHT = 0.6
LOCAL_LEVEL = "地方性法规"
LOCAL_WEIGHT = 0.5  # a local regulation's first-stage score, when the candidates are chosen
ANSWER_SHARE = 0.6  # a guide among the first three is the answer card if it scores this share of the best
GUIDES = all_of([Term("tags", GUIDE_TAG), ENTRY_ONLY])  # the burden-of-proof guides


class Candidate(dict):
    """A ranked document: the fields the ranking reads (from columns), its score, and what the engine found."""

    __slots__ = ("found", "score")

    def __init__(self, fields: dict[str, Any], found: Found) -> None:
        super().__init__(fields)
        self.found = found
        self.score = found.score


def demote_local(is_local: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Halve local regulations' scores before the candidates are chosen.

    A local regulation often restates a national article; ~30% of the candidates of real
    questions were local copies, and no STARD answer is one. Halved, not dropped: a question
    that names a place or a local rule still finds it. Candidate recall@200 on the STARD dev
    half: 0.751 -> 0.795 (bench/STARD.md).
    """
    return np.where(is_local, scores * LOCAL_WEIGHT, scores)


def level_weighted(candidate: Candidate) -> float:
    """Return the first-stage score weighted by legal force and version."""
    weight = LEVEL_WEIGHT.get(candidate.get("level") or "", 1.0)
    if candidate.get("superseded"):
        weight *= SUPERSEDED_WEIGHT
    return (candidate.score or 0.0) * weight


def precedent_key(candidate: Candidate, today: dt.date) -> tuple[int, int, int, float]:
    """Return the sort key of precedent order: rulings first, then authority tier, the last three years, score."""
    # Precedent research is over rulings: guidelines and statutes follow them, whatever their score.
    ruling = 0 if (candidate.get("type") or candidate.found.get("type")) == "ruling" else 1
    recent = 0 if is_recent(candidate.get("year"), today) else 1
    return (ruling, tier_rank(candidate.get("authority")), recent, -(candidate.score or 0.0))


def rerank(candidates: list[Candidate], sort: str,
           learned: Callable[[list[Candidate]], list[Candidate]] | None = None) -> list[Candidate]:
    """Order candidates: by date as found, precedent order (art. 4), or level-weighted BM25F then ``learned`` (else diversified)."""
    if sort == "date":
        return candidates
    if sort == "precedent":
        today = dt.date.today()
        return sorted(candidates, key=lambda c: precedent_key(c, today))
    first_stage = sorted(candidates, key=level_weighted, reverse=True)
    if learned is not None:
        return learned(first_stage)
    return diversify(first_stage)


def learned_order(candidates: list[Candidate], order: np.ndarray, first_stage: list[Candidate]) -> list[Candidate]:
    """Return the articles in the learned ``order`` (positions in ``candidates``), each other entry at its first-stage place.

    The ranker learned from questions answered by articles; it knows nothing of our own
    entries, whose titles and tags say what they are about. So an entry keeps the place its
    BM25F score gave it (first when it outscores every article), and the articles fill the
    other places in the order the ranker gives them.
    """
    articles = iter([candidates[i] for i in order if candidates[i].get("kind") == "article"])
    return [c if c.get("kind") != "article" else next(articles) for c in first_stage]


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


def answer_card(hits: list[Any], page: int) -> dict[str, Any] | None:
    """Return the guide to show above the results when the question is one a guide answers."""
    if page != 1 or not hits:
        return None
    best = hits[0].score or 0.0
    for hit in hits[:3]:
        if hit.type == "guideline" and hit.kind == "entry" and (hit.score or 0.0) >= ANSWER_SHARE * best:
            return {"id": hit.id, "title": hit.title, "url": hit.url}
    return None


def wants_guide(plan: QueryPlan, page: int, sort: str, syntax: bool, filtered: bool) -> bool:
    """Return whether a burden-of-proof guide may lead: page 1 of a plain relevance search asking what to prove."""
    return page == 1 and sort == "relevance" and not syntax and not filtered and asks_what_to_prove(plan.text)


def guide_words(plan: QueryPlan) -> list[tuple[str, float]]:
    """Return the words (and weights) a guide is chosen by: the question's topic words and their synonyms.

    The evidence words (证明, 证据 ...) are in every guide and so decide nothing.
    """
    topic = set(topic_words(plan.terms))
    words = {(g.term, 1.0) for g in plan.groups if g.term in topic}
    words |= {(alt, w) for g in plan.groups if g.term in topic for alt, w in g.alternatives if " " not in alt}
    return sorted(words)


def guide_query(words: list[tuple[str, float]]) -> Query:
    """Return the query guides are scored by: what a guide covers is what its title and tags say (its long text mentions much else)."""
    return any_of([any_of([Term("title", w), Term("tags", w)], boost=weight) for w, weight in words])


def lead_with(hits: list[Any], leader: Any, limit: int | None = None) -> list[Any]:
    """Return ``hits`` with ``leader`` first (and not again further down), at most ``limit`` of them."""
    out = [leader] + [h for h in hits if h.id != leader.id]
    return out if limit is None else out[:limit]
