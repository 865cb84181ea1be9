"""Ranking policy: the order of a search's candidates, learned from real questions.

The first stage (BM25F over posting arrays, ``indexer/search.py``) finds the candidates; this
module decides their order. On the 808 real laypeople's questions of the STARD dev half, BM25
alone put the right article in the top 10 for about half of them, and every hand-made rule we
tried (level weights, three articles per law, synonyms) added nothing (bench/STARD.md). What
does help is learned from (question, answering article) pairs:

* a **term translation table** (IBM model 1: how likely a question word is, given an article
  word), which bridges colloquial and legal words (欠钱 -> 借款, 离婚 -> 夫妻). It adds weighted
  expansion words to the first stage, and a translation-language-model score per candidate;
* **priors**: how often a law and an article answer questions at all;
* a **LambdaMART ranker** (LightGBM, ``lambdarank``) over the features below, trained on the
  candidates of the training questions.

The model is trained by ``kb train ranker`` (``indexer/training.py``) from the repository and
``../shared`` alone, and saved as small text files in ``indexer/data/ranker/``. Nothing is
downloaded. Without a model the candidates keep the first stage's order.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FOLDER = Path(__file__).resolve().parent / "data" / "ranker"
BOOSTER_FILE = "booster.txt"
TABLES_FILE = "tables.json"
LEVEL_ORDER = {"法律": 0, "司法解释": 1, "行政法规": 2, "部门规章": 3, "地方性法规": 4}
TRANSLATION_FIELD = "body"
EXPANSIONS_PER_WORD = 3  # learned expansion words added per question word, at most
EXPANSION_WEIGHT = 0.4  # an expansion word's weight, times its translation probability's share
LAMBDA = 0.5  # translation model vs. the document's own words (Berger & Lafferty 1999)
MU = 200.0  # Dirichlet smoothing of the document's own words

FEATURES = (
    "first_stage_score",  # BM25F of the question (with expansions) as the first stage scored it
    "first_stage_share",  # that score over the best candidate's
    "first_stage_rank_log",
    "body_bm25_share",  # the question's own words in the article text, without expansions
    "coverage",  # share of the question's words the document holds
    "idf_coverage",  # the same, weighted by rarity
    "translation_lm",  # log P(question | document) under the translation language model
    "translation_lm_per_word",
    "level",  # 法律 0, 司法解释 1, 行政法规 2, 部门规章 3, 地方性法规 4, none 5
    "is_superseded",
    "is_article",
    "is_ruling_or_guideline",
    "law_prior",  # log(1 + questions this law answered in training)
    "law_posterior",  # log P(law | question words): naive Bayes over the training questions' words per law
    "article_prior",  # log(1 + questions this article answered in training)
    "law_support",  # candidates of the same law among the first stage's
    "law_best_share",  # the best first-stage score of the same law, over the best overall
    "title_words",  # question words in the law's (or entry's) title
    "body_length",
    "question_words",
    "copies",  # candidates with the same article text (versions, restatements)
)


@dataclass
class Tables:
    """What the ranking learned besides the booster: translations and priors."""

    translation: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # question word -> (article word, t(q|w))
    expansion: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # question word -> (article word, weight)
    law_prior: dict[str, float] = field(default_factory=dict)  # law (short title) -> answered questions
    article_prior: dict[str, float] = field(default_factory=dict)  # article key -> answered questions
    law_words: dict[str, dict[str, int]] = field(default_factory=dict)  # law -> question word -> questions

    def law_posterior(self, words: list[str]) -> dict[str, float]:
        """Return log P(law | words) for every law the training questions were answered by (naive Bayes)."""
        if not self.law_words:
            return {}
        model = self._posterior_model
        known = [w for w in words if w in model.vocabulary]
        # Per law: the prior, plus each known word's log likelihood, added in the question's word
        # order (numpy adds element by element, so the floats are those of a loop over laws).
        scores = model.prior
        for w in known:
            scores = scores + model.column(w)
        values = scores.tolist()
        top = max(values)
        norm = top + math.log(sum(math.exp(v - top) for v in values))
        return {law: v - norm for law, v in zip(model.laws, values, strict=True)}

    @functools.cached_property
    def _posterior_model(self) -> _PosteriorModel:
        return _PosteriorModel(self.law_words, self.law_prior)

    def to_json(self) -> str:
        """Return the tables as JSON."""
        return json.dumps({"translation": self.translation, "expansion": self.expansion,
                           "law_prior": self.law_prior, "article_prior": self.article_prior, "law_words": self.law_words},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Tables:
        """Read tables written by :meth:`to_json`."""
        data = json.loads(text)
        return cls({k: [tuple(x) for x in v] for k, v in data.get("translation", {}).items()},  # type: ignore[misc]
                   {k: [tuple(x) for x in v] for k, v in data.get("expansion", {}).items()},  # type: ignore[misc]
                   data.get("law_prior", {}), data.get("article_prior", {}), data.get("law_words", {}))


class _PosteriorModel:
    """What :meth:`Tables.law_posterior` computes once per model instead of once per question: the
    vocabulary, each law's prior and denominator, and per word (on first use) its log likelihood per law."""

    def __init__(self, law_words: dict[str, dict[str, int]], law_prior: dict[str, float]) -> None:
        self.vocabulary = {w for counts in law_words.values() for w in counts}
        total_questions = sum(law_prior.values()) or 1.0
        self.laws = list(law_words)
        self._counts = list(law_words.values())
        self._denominators = [sum(counts.values()) + 0.1 * len(self.vocabulary) for counts in self._counts]
        self.prior = np.array([math.log(law_prior.get(law, 0.0) + 1.0) - math.log(total_questions) for law in self.laws])
        self._columns: dict[str, np.ndarray] = {}

    def column(self, word: str) -> np.ndarray:
        """Return log P(word | law) for every law (add-0.1 smoothing)."""
        column = self._columns.get(word)
        if column is None:
            column = np.array([math.log((counts.get(word, 0) + 0.1) / denominator)
                               for counts, denominator in zip(self._counts, self._denominators, strict=True)])
            self._columns[word] = column
        return column


def import_lightgbm() -> Any:
    """Import LightGBM with a one-thread OpenMP pool unless told otherwise.

    gunicorn --preload loads the model in the master and forks the workers: GNU OpenMP's thread
    pool does not survive a fork, and a worker's first prediction then waits forever (seen:
    /-/health hung). One thread is also what a query wants; ``kb train`` asks for more itself.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import lightgbm

    return lightgbm


class LearnedRanker:
    """The learned order of a search's candidates (see the module docstring)."""

    def __init__(self, tables: Tables, booster: Any = None, ablate: frozenset[str] = frozenset()) -> None:
        self.tables = tables
        self.booster = booster
        self.ablate = ablate  # for measuring: feature names zeroed, and "expansion" for no learned expansion
        self._predictor: tuple[Any, Any] | None = None  # (booster, LightGBM's predictor for it)

    @classmethod
    def load(cls, folder: Path = MODEL_FOLDER) -> LearnedRanker | None:
        """Return the ranker saved in ``folder``, or None if there is none."""
        tables_path, booster_path = folder / TABLES_FILE, folder / BOOSTER_FILE
        if not tables_path.is_file():
            return None
        tables = Tables.from_json(tables_path.read_text(encoding="utf-8"))
        booster = None
        if booster_path.is_file():
            lightgbm = import_lightgbm()
            booster = lightgbm.Booster(model_str=booster_path.read_text(encoding="utf-8"))
        return cls(tables, booster)

    def save(self, folder: Path) -> None:
        """Write the tables and the booster to ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / TABLES_FILE).write_text(self.tables.to_json() + "\n", encoding="utf-8")
        if self.booster is not None:
            (folder / BOOSTER_FILE).write_text(self.booster.model_to_string(), encoding="utf-8")

    # -- the first stage ---------------------------------------------------------------------------

    def expansions_by_word(self, terms: list[str]) -> dict[str, list[tuple[str, float]]]:
        """Return, per question word, the learned expansion words (not already in the question) and their weights."""
        if "expansion" in self.ablate:
            return {}
        own = set(terms)
        out = {}
        for term in terms:
            words = [(w, weight) for w, weight in self.tables.expansion.get(term, [])[:EXPANSIONS_PER_WORD] if w not in own]
            if words:
                out[term] = words
        return out

    def expansions(self, terms: list[str]) -> list[tuple[str, float]]:
        """Return learned expansion words for the question's words, with their weights."""
        out: dict[str, float] = {}
        for words in self.expansions_by_word(terms).values():
            for word, weight in words:
                out[word] = max(out.get(word, 0.0), weight)
        return sorted(out.items(), key=lambda item: -item[1])

    # -- features ----------------------------------------------------------------------------------

    def features(self, engine: Any, terms: list[str], candidates: Sequence[dict[str, Any]], docs: np.ndarray,
                 scores: np.ndarray) -> np.ndarray:
        """Return one row of FEATURES per candidate.

        ``engine`` is a snapshot of the index (:class:`indexer.engine.Engine`: term frequencies,
        lengths, document frequencies, columns); ``candidates`` carry the ranking columns (kind, type, level, article_key,
        text_hash, superseded, parent_id); ``docs`` and ``scores`` are their document numbers and
        first-stage scores, best first.
        """
        n = len(candidates)
        X = np.zeros((n, len(FEATURES)), dtype=np.float64)
        if not n:
            return X
        col = {name: i for i, name in enumerate(FEATURES)}
        best = float(scores.max()) or 1.0
        X[:, col["first_stage_score"]] = scores
        X[:, col["first_stage_share"]] = scores / best
        X[:, col["first_stage_rank_log"]] = np.log1p(np.arange(n))
        words = [t for t in dict.fromkeys(terms) if t]
        X[:, col["question_words"]] = len(words)
        total = max(1, engine.state().max_doc)
        body_len = engine.lengths("body", docs).astype(np.float64)
        X[:, col["body_length"]] = body_len
        present = np.zeros((n, max(1, len(words))), dtype=bool)
        idf = np.zeros(max(1, len(words)))
        bm25 = np.zeros(n)
        log_p = np.zeros(n)
        title_words = np.zeros(n)
        background_len = 1e7
        seen: dict[tuple[str, str], np.ndarray] = {}

        def frequencies(fieldname: str, term: str) -> np.ndarray:
            if (fieldname, term) not in seen:
                seen[(fieldname, term)] = engine.frequencies(fieldname, term, docs)
            return seen[(fieldname, term)]

        for j, word in enumerate(words):
            tf_body = frequencies("body", word)
            tf_title = frequencies("title", word)
            present[:, j] = (tf_body > 0) | (tf_title > 0)
            title_words += tf_title > 0
            df = engine.document_frequency("body", word, live=True)
            idf[j] = math.log(1 + (total - df + 0.5) / (df + 0.5))
            bm25 += idf[j] * tf_body * 2.2 / (tf_body + 1.2 * (0.25 + 0.75 * body_len / 60.0))
            # P(word | document): the document's own words (Dirichlet-smoothed) mixed with words
            # the translation table says a question word of this kind stands for.
            collection = (df + 1.0) / background_len
            own = (tf_body + MU * collection) / (body_len + MU)
            translated = np.zeros(n)
            for source, t in self.tables.translation.get(word, []):
                if source == word:
                    translated += t * tf_body / np.maximum(body_len, 1.0)
                else:
                    translated += t * frequencies("body", source) / np.maximum(body_len, 1.0)
            log_p += np.log(LAMBDA * translated + (1 - LAMBDA) * own)
        X[:, col["title_words"]] = title_words
        types = engine.columns(docs, "type")
        X[:, col["body_bm25_share"]] = bm25 / (bm25.max() or 1.0)
        if words:
            X[:, col["coverage"]] = present.mean(axis=1)
            X[:, col["idf_coverage"]] = (present * idf).sum(axis=1) / (idf.sum() or 1.0)
            X[:, col["translation_lm"]] = log_p
            X[:, col["translation_lm_per_word"]] = log_p / len(words)
        posterior = self.tables.law_posterior(words)
        floor = min(posterior.values()) - 1.0 if posterior else 0.0
        law_count: dict[str, int] = {}
        law_best: dict[str, float] = {}
        text_count: dict[str, int] = {}
        laws = []
        for i, c in enumerate(candidates):
            law = (c.get("article_key") or "").split("#", 1)[0] or c.get("parent_id") or ""
            laws.append(law)
            law_count[law] = law_count.get(law, 0) + 1
            law_best[law] = max(law_best.get(law, 0.0), float(scores[i]))
            if c.get("text_hash"):
                text_count[c["text_hash"]] = text_count.get(c["text_hash"], 0) + 1
        for i, c in enumerate(candidates):
            law = laws[i]
            X[i, col["level"]] = LEVEL_ORDER.get(c.get("level") or "", 5)
            X[i, col["is_superseded"]] = 1.0 if c.get("superseded") else 0.0
            X[i, col["is_article"]] = 1.0 if c.get("kind") == "article" else 0.0
            X[i, col["is_ruling_or_guideline"]] = 1.0 if types[i] in ("ruling", "guideline") else 0.0
            X[i, col["law_prior"]] = math.log1p(self.tables.law_prior.get(law, 0.0))
            X[i, col["law_posterior"]] = posterior.get(law, floor)
            X[i, col["article_prior"]] = math.log1p(self.tables.article_prior.get(c.get("article_key") or "", 0.0))
            X[i, col["law_support"]] = law_count[law]
            X[i, col["law_best_share"]] = law_best[law] / best
            X[i, col["copies"]] = text_count.get(c.get("text_hash") or "", 1)
        for name in self.ablate & set(FEATURES):
            X[:, col[name]] = 0.0
        return X

    def order(self, X: np.ndarray) -> np.ndarray:
        """Return the candidates' positions, best first."""
        if self.booster is None or not len(X):
            return np.arange(len(X))
        return np.lexsort((np.arange(len(X)), -self._predict(X)))

    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Return ``booster.predict(X, num_threads=1)``, with LightGBM's predictor made once per booster, not per call.

        ``Booster.predict`` builds an ``_InnerPredictor`` (and deep-copies its parameters) every
        time: about a fifth of a 200-candidate prediction. The same predictor, asked the same
        way, gives the same numbers; a LightGBM without that class falls back to ``predict``.
        """
        booster = self.booster
        if self._predictor is None or self._predictor[0] is not booster:
            try:
                from lightgbm.basic import _InnerPredictor

                predictor = _InnerPredictor.from_booster(booster=booster, pred_parameter={"num_threads": 1})
            except (ImportError, AttributeError, TypeError):
                predictor = None
            self._predictor = (booster, predictor)
        predictor = self._predictor[1]
        if predictor is None:
            return booster.predict(X, num_threads=1)
        return predictor.predict(data=X, start_iteration=0, num_iteration=booster.best_iteration, raw_score=False,
                                 pred_leaf=False, pred_contrib=False, data_has_header=False, validate_features=False)


# -- questions about what to prove ---------------------------------------------------------------------

GUIDE_TAG = "举证指南"  # the burden-of-proof guides carry this tag (content/guidelines/guide-burden-of-proof-*.md)
EVIDENCE_INTENT = re.compile(r"证明|举证|证据|取证|存证|(准备|提供|提交|需要).{0,6}(材料|什么|哪些)|\bprove\b|\bproof\b|\bevidence\b",
                             re.IGNORECASE)


def asks_what_to_prove(text: str) -> bool:
    """Return True when a question asks what to prove, who must prove it, or what evidence to prepare."""
    return bool(EVIDENCE_INTENT.search(text))


def topic_words(terms: list[str]) -> list[str]:
    """Return the question's words that say what the dispute is about (the evidence words left out)."""
    return [t for t in terms if not EVIDENCE_INTENT.search(t) and t not in ("准备", "提供", "提交", "需要", "材料")]
