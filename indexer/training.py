"""Train the learned ranking (indexer/ranking.py) from real questions and the articles that answer them.

``kb train ranker`` calls :func:`train` with the STARD dev half
(``../shared/benchmarks/stard-dev/queries.jsonl``) and an index of content/ plus the statute
corpus, and writes ``indexer/data/ranker/``. ``bench/stard.py`` calls :func:`cross_validate`, so
that the figures it reports for the dev half come from models that never saw the question.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.analyzer import query_terms
from indexer.query import to_simplified
from indexer.ranking import LearnedRanker, Tables, import_lightgbm

IBM_ITERATIONS = 8
MIN_PAIRS = 2  # a translation seen in fewer (question, article) pairs is noise
TRANSLATIONS_PER_WORD = 20
MIN_TRANSLATION = 0.02
EXPANSION_MIN_PAIRS = 3
# An article word in more than this share of the training articles says nothing as an expansion:
# 或者 (58% of them) was the learned expansion of 110 question words (出租车 -> 旅客, 或者, 运输).
# Cut at a fifth: STARD dev (5-fold CV, two runs) Recall@10 0.576 -> 0.579 / 0.581, MRR@10 0.469 ->
# 0.468 / 0.469, Hit@10 0.702 -> 0.696 / 0.699, the same within noise; at 0.15, Recall@100 0.744 -> 0.739.
EXPANSION_MAX_SHARE = 0.2
BOOSTER_PARAMS = {
    "objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10], "learning_rate": 0.05,
    "num_leaves": 15, "min_data_in_leaf": 20, "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1,
    "lambdarank_truncation_level": 20, "verbose": -1, "num_threads": 2, "seed": 7, "deterministic": True,
}
BOOSTER_ROUNDS = 300
CROSS_FIT = 4  # parts the training questions are split into, so that no question's features come from tables it taught


@dataclass
class LabelledQuestion:
    """A real question and the articles that answer it."""

    id: int
    text: str
    relevant: list[set[tuple[str, str]]]  # per answering article: the acceptable (source_file, article) pairs
    answers: list[str]  # the answering articles' texts

    @property
    def length_bucket(self) -> str:
        """Return the question's length class."""
        n = len(self.text)
        return "≤15 chars" if n <= 15 else "16–30 chars" if n <= 30 else ">30 chars"


def load_questions(path: Path) -> list[LabelledQuestion]:
    """Read STARD-style questions (one JSON object a line: query_id, question, relevant[files, article, text])."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        relevant = [{(f, r["article"]) for f in r["files"]} for r in item["relevant"] if r.get("files")]
        answers = [r.get("text") or "" for r in item["relevant"] if r.get("files")]
        questions.append(LabelledQuestion(int(item["query_id"]), item["question"], relevant, answers))
    return questions


def words(text: str) -> list[str]:
    """Return the meaningful words of a text as the search reads a question."""
    return query_terms(to_simplified(text))


# -- tables: IBM model 1 translations and priors ------------------------------------------------------

def translation_tables(pairs: list[tuple[list[str], list[str]]]) -> tuple[dict[str, list[tuple[str, float]]],
                                                                           dict[str, list[tuple[str, float]]]]:
    """Learn t(question word | article word) with IBM model 1 (EM); return the scoring and expansion tables.

    Scoring: question word -> [(article word, t)]; expansion: question word -> [(article word,
    weight)], the article words that most often stand for it, the word itself left out.
    """
    together: Counter[tuple[str, str]] = Counter()
    for question, article in pairs:
        for q in set(question):
            for w in set(article):
                together[(q, w)] += 1
    t: dict[tuple[str, str], float] = {key: 1.0 for key, count in together.items() if count >= MIN_PAIRS or key[0] == key[1]}
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for _ in range(IBM_ITERATIONS):
        expected = defaultdict(float)
        for question, article in pairs:
            sources = list(set(article))
            for q in set(question):
                weights = [(w, t.get((q, w), 0.0)) for w in sources]
                total = sum(v for _w, v in weights) + 1e-3  # the NULL word takes what no article word explains
                for w, v in weights:
                    if v:
                        expected[(q, w)] += v / total
        per_source: dict[str, float] = defaultdict(float)
        for (_q, w), c in expected.items():
            per_source[w] += c
        t = {(q, w): c / per_source[w] for (q, w), c in expected.items() if c > 0}
    scoring: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (q, w), p in t.items():
        if p >= MIN_TRANSLATION:
            scoring[q].append((w, round(p, 4)))
    per_question: dict[str, float] = defaultdict(float)
    for (q, _w), c in expected.items():
        per_question[q] += c
    articles = {frozenset(article) for _question, article in pairs}
    share = Counter(w for article in articles for w in article)
    common = {w for w, k in share.items() if k > EXPANSION_MAX_SHARE * len(articles)}
    expansion: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (q, w), c in expected.items():
        if w in common:
            continue
        # A one-character question word (不, 还, 被) pairs with everything: its "expansions" were
        # function words (不 -> 给予, 以及, 按照), shown to the user and matched for nothing.
        if q != w and together[(q, w)] >= EXPANSION_MIN_PAIRS and len(w) > 1 and len(q) > 1:
            expansion[q].append((w, c / per_question[q]))
    out_scoring = {q: sorted(v, key=lambda x: -x[1])[:TRANSLATIONS_PER_WORD] for q, v in scoring.items()}
    out_expansion = {}
    for q, v in expansion.items():
        v.sort(key=lambda x: -x[1])
        top = v[0][1]
        out_expansion[q] = [(w, round(0.4 * c / top, 3)) for w, c in v[:3]]
    return out_scoring, out_expansion


def statute_keys(index: Any) -> dict[str, str]:
    """Return source_file -> the law's short title, for the statutes in the index."""
    out = {}
    for fields in index.engine().documents(kind="entry", type="statute"):
        if fields.get("source_file"):
            out[fields["source_file"]] = fields.get("short_title") or fields.get("title") or ""
    return out


def answer_keys(question: LabelledQuestion, laws: dict[str, str]) -> list[str]:
    """Return the article keys ('民法典#第五十四条') of the question's answers, one per answering article."""
    keys = []
    for accepted in question.relevant:
        key = next((f"{laws[f]}#{a}" for f, a in sorted(accepted) if f in laws), None)
        if key:
            keys.append(key)
    return keys


def learn_tables(questions: list[LabelledQuestion], laws: dict[str, str]) -> Tables:
    """Learn the translation tables and the law and article priors from ``questions``."""
    pairs = [(words(q.text), words(text)) for q in questions for text in q.answers if text]
    scoring, expansion = translation_tables(pairs)
    law_prior: Counter[str] = Counter()
    article_prior: Counter[str] = Counter()
    law_words: dict[str, Counter[str]] = defaultdict(Counter)
    for q in questions:
        keys = set(answer_keys(q, laws))
        article_prior.update(keys)
        question_laws = {k.split("#", 1)[0] for k in keys}
        law_prior.update(question_laws)
        for law in question_laws:
            law_words[law].update(set(words(q.text)))
    return Tables(scoring, expansion, dict(law_prior), dict(article_prior), {k: dict(v) for k, v in law_words.items()})


# -- the booster ---------------------------------------------------------------------------------------

def labelled_candidates(index: Any, question: LabelledQuestion, ranker: LearnedRanker) -> tuple[np.ndarray, np.ndarray]:
    """Return the features and the 0/1 labels of a training question's candidates."""
    found, X = index.training_candidates(question.text, ranker)
    if not found:
        return np.zeros((0, 0)), np.zeros(0)
    accepted = set().union(*question.relevant) if question.relevant else set()
    y = np.zeros(len(found))
    for i, candidate in enumerate(found):
        if candidate.get("kind") == "article":
            stored = candidate.found.fields()
            if (stored.get("source_file") or "", stored.get("article") or "") in accepted:
                y[i] = 1.0
    return X, y


def fit(index: Any, questions: list[LabelledQuestion], laws: dict[str, str],
        log: Callable[[str], None] = lambda m: None, ablate: frozenset[str] = frozenset()) -> LearnedRanker:
    """Learn the tables from ``questions``, then the booster over their candidates.

    The booster must learn what the tables are worth for a question they have not seen, so each
    training question's features come from tables learned without it (CROSS_FIT parts:
    cross-fitting); the ranker that is returned carries the tables learned from all of them.
    """
    lightgbm = import_lightgbm()
    rows, labels, groups = [], [], []
    for part in range(CROSS_FIT):
        inside = [q for i, q in enumerate(questions) if i % CROSS_FIT == part]
        outside = [q for i, q in enumerate(questions) if i % CROSS_FIT != part]
        partial = LearnedRanker(learn_tables(outside, laws), ablate=ablate)
        for q in inside:
            X, y = labelled_candidates(index, q, partial)
            if len(y) and y.any():
                rows.append(X)
                labels.append(y)
                groups.append(len(y))
    log(f"  training the booster on {len(groups)} of {len(questions)} questions "
        f"({sum(groups)} candidates, {int(sum(y.sum() for y in labels))} relevant)")
    data = lightgbm.Dataset(np.vstack(rows), np.concatenate(labels), group=groups, free_raw_data=True)
    ranker = LearnedRanker(learn_tables(questions, laws), ablate=ablate)
    ranker.booster = lightgbm.train(BOOSTER_PARAMS, data, num_boost_round=BOOSTER_ROUNDS)
    return ranker


def train(index: Any, questions: list[LabelledQuestion], log: Callable[[str], None] = lambda m: None) -> LearnedRanker:
    """Return the ranker learned from every question (what ``kb train ranker`` ships)."""
    return fit(index, questions, statute_keys(index), log)


def cross_validate(index: Any, questions: list[Any], *, folds: int = 5, log: Callable[[str], None] = lambda m: None,
                   ablate: frozenset[str] = frozenset()) -> Iterator[tuple[list[Any], LearnedRanker]]:
    """Yield (held-out questions, a ranker trained on the other folds), fold by fold."""
    laws = statute_keys(index)
    ordered = sorted(questions, key=lambda q: q.id)
    for k in range(folds):
        held = [q for i, q in enumerate(ordered) if i % folds == k]
        rest = [q for i, q in enumerate(ordered) if i % folds != k]
        log(f"fold {k + 1}/{folds}: training on {len(rest)} questions, testing on {len(held)}")
        yield held, fit(index, rest, laws, log, ablate)
