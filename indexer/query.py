"""Query understanding: traditional to simplified, filler words out, synonyms and English in.

A query becomes a list of term groups. Each group is one meaningful word of the user's, with
alternatives that may stand for it (synonyms, colloquial-to-legal mappings, dictionary parts of
a compound), each weighted below the word itself. English words are looked up in a bilingual
glossary and also matched against the English fields.

The groups then become an engine query (:mod:`indexer.engine`): :func:`text_query`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from indexer.analyzer import english_words, normalize, query_terms, split_compound
from indexer.engine import AnyOf, Filtered, Maybe, Query, Term, all_of, any_of

SYNONYMS_FILE = "synonyms.yaml"
GLOSSARY_FILE = "glossary.yaml"
SYNONYM_WEIGHT = 0.5
PARTS_WEIGHT = 0.5
CONTRACTION = re.compile(r"\b([A-Za-z]+)n['’]t\b")  # didn't -> did not (not "didn" + "t")
ENGLISH_WORD = re.compile(r"[a-z][a-z0-9\-']*")
TEXT_FIELDS = ("title", "summary", "body")
ENTRY_ONLY = Term("kind", "entry")
RULINGS_ONLY = Term("type", "ruling")
ENGLISH_STOP = frozenset(["a", "an", "the", "of", "to", "in", "is", "are", "be", "and", "or", "for", "on", "with", "my", "i", "me", "can", "do", "does", "what", "how", "if", "it", "this", "that", "was", "were", "get", "got", "back"]) - {"back"}


@dataclass
class TermGroup:
    """One meaningful word of the query and the words that may stand for it, with weights."""

    term: str
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    english: bool = False


@dataclass
class QueryPlan:
    """What the search understood of a query."""

    text: str
    groups: list[TermGroup]
    converted_from_traditional: bool = False
    learned: dict[str, list[str]] = field(default_factory=dict)  # word -> expansion words the ranking learned (indexer/ranking.py)

    @property
    def terms(self) -> list[str]:
        """Return the user's own meaningful words."""
        return [g.term for g in self.groups]

    def expansions(self) -> dict[str, list[str]]:
        """Return term -> the alternatives that were added for it."""
        out = {g.term: [a for a, _w in g.alternatives] for g in self.groups if g.alternatives}
        for term, words in self.learned.items():
            out[term] = out.get(term, []) + [w for w in words if w not in out.get(term, [])]
        return out


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


_convert_lock = threading.Lock()


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified (OpenCC t2s); other text is unchanged."""
    if text.isascii():
        return text
    with _convert_lock:  # the OpenCC object is not documented as thread-safe
        return _converter().convert(text)


class Thesaurus:
    """Synonyms, colloquial mappings and the English glossary, as editors wrote them."""

    def __init__(self, synonyms: dict[str, list[str]] | None = None, glossary: dict[str, list[str]] | None = None) -> None:
        self.synonyms = synonyms or {}
        self.glossary = glossary or {}
        self._phrases = sorted(self.glossary, key=len, reverse=True)

    @classmethod
    def load(cls, folder: Path) -> Thesaurus:
        """Read ``synonyms.yaml`` and ``glossary.yaml`` from ``folder`` (missing files are empty)."""
        synonyms: dict[str, list[str]] = {}
        path = folder / SYNONYMS_FILE
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for group in data.get("groups") or []:
                words = [normalize(str(w)) for w in group]
                for word in words:
                    synonyms.setdefault(word, [])
                    synonyms[word] += [w for w in words if w != word and w not in synonyms[word]]
            for word, targets in (data.get("colloquial") or {}).items():
                key = normalize(str(word))
                synonyms.setdefault(key, [])
                synonyms[key] += [normalize(str(t)) for t in targets if normalize(str(t)) not in synonyms[key]]
        glossary: dict[str, list[str]] = {}
        path = folder / GLOSSARY_FILE
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for phrase, targets in (data.get("glossary") or {}).items():
                glossary[str(phrase).lower()] = [normalize(str(t)) for t in targets]
        return cls(synonyms, glossary)

    def english_groups(self, text: str) -> tuple[list[TermGroup], str]:
        """Return groups for glossary phrases found in ``text``, and the text with them removed."""
        groups = []
        lowered = f" {text.lower()} "
        for phrase in self._phrases:
            pattern = re.compile(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])")
            if pattern.search(lowered):
                lowered = pattern.sub(" ", lowered)
                targets = self.glossary[phrase]
                words = [w for w in ENGLISH_WORD.findall(phrase) if w not in ENGLISH_STOP]
                alternatives = [(t, 1.0) for t in targets[1:]] + [(w, 0.7) for w in words]
                for target in targets:
                    alternatives += [(syn, SYNONYM_WEIGHT) for syn in self.synonyms.get(target, [])
                                     if syn not in targets]
                unique = list({alt: w for alt, w in reversed(alternatives) if alt != targets[0]}.items())[::-1]
                groups.append(TermGroup(targets[0], unique))
        return groups, lowered


def understand(query: str, thesaurus: Thesaurus | None = None) -> QueryPlan:
    """Turn a user's query into term groups (see the module docstring)."""
    thesaurus = thesaurus or Thesaurus()
    simplified = to_simplified(query)
    converted = simplified != query
    english_groups: list[TermGroup] = []
    rest = simplified
    if re.search(r"[A-Za-z]", simplified):
        text = CONTRACTION.sub(lambda m: m.group(1) + " not", simplified)
        english_groups, rest = thesaurus.english_groups(normalize(text))
    groups: list[TermGroup] = list(english_groups)
    seen = {g.term for g in groups}
    for term in query_terms(rest):
        if term in seen:
            continue
        seen.add(term)
        if term.isascii():
            if term in ENGLISH_STOP:
                continue
            groups.append(TermGroup(term, english=True))
            continue
        alternatives = [(alt, SYNONYM_WEIGHT) for alt in thesaurus.synonyms.get(term, [])]
        parts = split_compound(term)
        if parts:
            alternatives.append((" ".join(parts), PARTS_WEIGHT))
        groups.append(TermGroup(term, alternatives))
    return QueryPlan(text=simplified, groups=groups, converted_from_traditional=converted)


# -- the engine query ------------------------------------------------------------------------------

def field_query(term: str, boost: float = 1.0) -> AnyOf:
    """Return the query for one analysed word over every text field (and English if it is English).

    A title counts for entries only: an article carries its statute's title, and scoring it
    there let one statute whose title shares a word with the question (赔偿 -> 国家赔偿法)
    fill the first page with its articles (bench/RELEVANCE.md).
    """
    parts: list[Query] = [Filtered(Term("title", term), ENTRY_ONLY)]
    parts += [Term(name, term) for name in TEXT_FIELDS if name != "title"]
    parts.append(Term("tags", term))
    if term.isascii() and any(ch.isalpha() for ch in term):
        parts += [Term("english", word) for word in english_words(term)]
    return any_of(parts, boost=boost)


def phrase_query(text: str, boost: float) -> Query | None:
    """Return the query for an expansion, which may be several words (all of them must match)."""
    words = text.split() if " " in text else query_terms(text)
    if not words:
        return None
    if len(words) == 1:
        return field_query(words[0], boost)
    return all_of([field_query(w) for w in words], boost=boost)


def group_query(group: TermGroup) -> Query:
    """Return the query for one term group: the word itself, or any alternative at its weight."""
    parts: list[Query] = [field_query(group.term)]
    for alternative, weight in group.alternatives:
        sub = phrase_query(alternative, weight)
        if sub is not None:
            parts.append(sub)
    return parts[0] if len(parts) == 1 else any_of(parts)


def text_query(groups: list[TermGroup]) -> Query:
    """Require the meaningful words (most of them, for a long question); single characters only add score."""
    # English words the glossary does not know can only match English titles and summaries
    # (articles have none), so they add score but are never required.
    required = [g for g in groups if (len(g.term) > 1 or g.term.isascii()) and not g.english]
    optional = [g for g in groups if g not in required]
    if not required:
        required, optional = optional, []
    subqueries = [group_query(g) for g in required]
    if len(subqueries) == 1:
        main: Query = subqueries[0]
    elif len(subqueries) == 2:
        main = all_of(subqueries)
    else:
        # A question is not an AND of every word: any of them matches, and BM25 ranks the
        # documents with more (and rarer) of them first. (A "60% of the words" minimum was
        # written here as Or(minmatch=...), which Whoosh ignores; enforced, it measured
        # Hit@10 0.198 and lenient Hit@10 0.214 against 0.203 and 0.242 without it.)
        main = any_of(subqueries)
    if optional:
        main = Maybe(main, any_of([group_query(g) for g in optional]))
    return main
