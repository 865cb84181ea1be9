"""A charge (罪名) classifier: from a paragraph of facts to the charges it most likely describes.

Facts describe conduct (酒后驾驶, 血液中乙醇含量) without naming the charge (危险驾驶罪); a
hand-made trigger list misses most of them (issue #13: right in 33 of 107 LeCaRD queries). This
is a linear SVM over TF-IDF character 1-3-grams, trained by ``kb train charges`` on the facts
and charges of the judgments themselves, kept small: the vocabulary, the IDF and, per charge, only
its ``KEEP`` strongest weights, in one compressed ``.npz`` (about 1 MB), loaded at query time
with numpy alone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NGRAMS = (1, 3)
MAX_FEATURES = 40_000
MIN_EXAMPLES = 5  # charges seen fewer times are not learnt
KEEP = 800  # weights kept per charge
TEMPERATURE = 4.0  # softmax over SVM margins
TOP = 3


def _grams(text: str) -> Counter[str]:
    """Return the character n-grams of ``text`` (whitespace collapsed, as sklearn's 'char' analyzer)."""
    text = " ".join(text.lower().split())
    low, high = NGRAMS
    return Counter(text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1))


@dataclass
class ChargeModel:
    """The classifier's parameters: vocabulary, IDF, sparse weights per charge, intercepts."""

    classes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # (features, classes) dense float32 built from the kept weights

    intercept: np.ndarray

    def decision(self, text: str) -> np.ndarray:
        """Return the SVM margin of every charge for ``text``."""
        counts = _grams(text)
        cols = [self.vocabulary[g] for g in counts if g in self.vocabulary]
        if not cols:
            return self.intercept.copy()
        tf = np.array([1 + np.log(counts[g]) for g in counts if g in self.vocabulary], np.float32)
        values = tf * self.idf[cols]
        values /= np.linalg.norm(values) or 1.0
        return values @ self.coef[cols] + self.intercept

    def predict(self, text: str, top: int = TOP) -> dict[str, float]:
        """Return the ``top`` likeliest charges of ``text`` with their probabilities (softmax of the margins)."""
        margins = self.decision(text)
        scaled = np.exp(TEMPERATURE * (margins - margins.max()))
        probs = scaled / scaled.sum()
        order = np.argsort(-probs)[:top]
        return {self.classes[i]: float(probs[i]) for i in order}

    def save(self, path: Path) -> None:
        """Write the model as one compressed .npz."""
        rows, cols = np.nonzero(self.coef)
        words = sorted(self.vocabulary, key=self.vocabulary.get)
        np.savez_compressed(
            path, classes=json.dumps(self.classes, ensure_ascii=False), words="\n".join(words), idf=self.idf.astype(np.float16),
            rows=rows.astype(np.int32), cols=cols.astype(np.int16), values=self.coef[rows, cols].astype(np.float16),
            intercept=self.intercept.astype(np.float32),
        )

    @classmethod
    def load(cls, path: Path) -> ChargeModel:
        """Read a model written by :meth:`save`."""
        with np.load(path) as data:
            classes = json.loads(str(data["classes"]))
            words = str(data["words"]).split("\n")
            coef = np.zeros((len(words), len(classes)), np.float32)
            coef[data["rows"], data["cols"]] = data["values"].astype(np.float32)
            return cls(classes, {w: i for i, w in enumerate(words)}, data["idf"].astype(np.float32), coef,
                       data["intercept"].astype(np.float32))


def train(facts: Sequence[str], charges: Sequence[Sequence[str]]) -> tuple[ChargeModel, dict[str, float]]:
    """Train on (facts, charges) pairs, the first charge as the label; return the model and its held-out accuracy."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    labelled = [(f, c[0]) for f, c in zip(facts, charges, strict=True) if c and f.strip()]
    counts = Counter(label for _, label in labelled)
    labelled = [(f, label) for f, label in labelled if counts[label] >= MIN_EXAMPLES]
    texts = [f for f, _ in labelled]
    labels = [label for _, label in labelled]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, max_features=MAX_FEATURES, sublinear_tf=True,
                                 dtype=np.float32)
    rng = np.random.default_rng(13)
    held = rng.random(len(texts)) < 0.1
    x = vectorizer.fit_transform(texts)
    y = np.asarray(labels)
    check = LinearSVC(C=0.5).fit(x[~held], y[~held])
    accuracy = {"top1_heldout": float((check.predict(x[held]) == y[held]).mean()), "examples": len(texts)}
    svm = LinearSVC(C=0.5).fit(x, y)
    coef = svm.coef_.T.astype(np.float32)  # (features, classes)
    if coef.shape[1] == 1:  # two classes: sklearn keeps one column
        coef = np.hstack([-coef, coef])
        intercept = np.array([-svm.intercept_[0], svm.intercept_[0]], np.float32)
    else:
        intercept = svm.intercept_.astype(np.float32)
    for j in range(coef.shape[1]):
        column = coef[:, j]
        if len(column) > KEEP:
            cut = np.partition(np.abs(column), -KEEP)[-KEEP]
            column[np.abs(column) < cut] = 0.0
    model = ChargeModel(list(svm.classes_), dict(vectorizer.vocabulary_), vectorizer.idf_.astype(np.float32), coef, intercept)
    return model, accuracy
