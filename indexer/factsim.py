"""Similar criminal judgments by their facts: BM25 over the facts alone, plus shared charges.

Measured on LeCaRD's dev half (bench/LECARD.md): the whole fact paragraph as the query, BM25
over the facts section only (not reasoning, judgment or full text), with legal boilerplate
(被告人, 公诉机关, 指控, 经审理查明 …), place names (长沙市, 天心区) and numbers dropped from
query and documents, beats BM25 over facts + reasoning; a boost for the charges a classifier
predicts from the query's facts (indexer/charges.py), matched against each judgment's own
charges, adds more.

A second view of the same facts keeps every word (names, places, numbers and boilerplate
included, :func:`all_words`) and is blended in at WORDS_WEIGHT: a co-defendant's separate trial
or a case from the same county shares those words; on LeCaRD's dev half it lifts full
collection NDCG@30 by 0.028 (29 queries better, 9 worse; pool unchanged). The words view only
scores: explanations come from the conduct view, so a name or a place is never shown as a reason.

Scoring is vectorised: the facts are a sparse term x document matrix of BM25 weights (CSC, one
posting array per term), and a query of several hundred words is one sparse product, a few
milliseconds over 9,088 judgments, instead of Whoosh's one-document-at-a-time OR matcher.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

K1 = 1.5
B = 0.75
FACTS_SECTIONS = ("案件基本情况", "案情", "基本案情")
FACTS_FILE = "facts.npz"
FACTS_FORMAT = "3"  # 2: with the all-words view; 3: times out of the conduct view; older files are rebuilt
WORDS_WEIGHT = 0.75  # weight of the all-words view's normalised BM25 (bench/LECARD.md)
MIN_RULINGS = 50  # below this, similar keeps its Whoosh ranking (content/ has 18 rulings)
# Words every criminal judgment uses whatever it is about (procedure, evidence, sentencing).
# fmt: off
BOILERPLATE = frozenset(["被告", "被告人", "原告", "上诉人", "被上诉人", "原审", "原审被告人", "公诉", "公诉机关", "检察院", "人民检察院", "检察员", "指控", "起诉书", "起诉", "诉称", "辩称", "经审理查明", "审理查明", "审理", "查明", "本院", "法院", "人民法院", "认为", "本院认为", "判决", "判决如下", "裁定", "宣判", "审判", "事实", "证据", "证实", "证明", "证言", "证人", "供述", "辩解", "笔录", "陈述", "意见", "质证", "采信", "认定", "予以", "上述", "前述", "所述", "下列", "以上", "以下", "经过", "庭审", "出庭", "支持", "依法", "依照", "根据", "规定", "法律", "相关", "有关", "案件", "本案", "该案", "案发", "案发后", "其中", "期间", "时许", "左右", "之后", "之前", "其后", "随后", "当日", "次日", "当天", "同日", "某日", "某某", "人民币", "万元", "余元", "元", "年", "月", "日", "时", "分", "许", "等", "其", "该", "此", "系", "后", "前", "经", "并", "及", "将", "向", "与", "以", "于", "从", "由", "为", "对", "对于", "关于", "以及", "或者", "并且", "而且", "均", "即", "亦", "已", "已经", "未", "无", "有", "不", "在", "了", "的", "是", "被", "把", "和", "到", "给", "人", "他", "她", "其他", "另", "又", "也", "就", "同年", "次年", "上午", "下午", "晚上", "凌晨", "中午", "许", "分许", "时许", "左右", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "个", "名", "次", "处", "号", "份", "某", "省", "市", "县", "区", "镇", "乡", "村", "中", "内", "里", "着", "过", "所", "而", "但", "因", "如", "若", "则", "且", "还", "都", "再", "才", "只", "要", "会", "能", "可", "可以", "没有", "进行", "这", "那", "我", "你", "们", "他们", "自己", "之", "得", "地", "称", "将其", "并将", "后来", "然后"])
# fmt: on
# A word ending in one of these, of 3 characters or more, names a place (长沙市, 天心区, 皂市镇).
PLACE_SUFFIXES = ("省", "市", "县", "区", "镇", "乡", "村", "街道", "路", "街", "组", "社区", "自治州", "自治县")
_KEEP_PLACES = frozenset({"超市", "小区", "城区", "景区", "社区", "公路", "道路", "马路", "网络", "辖区", "市区", "县城"})
_NOT_A_WORD = re.compile(r"^[\W\d_a-zA-Z×＊*０-９]+$|[0-9０-９]")


def is_place(word: str) -> bool:
    """Return True for a place name such as 长沙市 or 汤池镇 (3 characters or more with a place suffix)."""
    return len(word) >= 3 and word.endswith(PLACE_SUFFIXES) and word not in _KEEP_PLACES


# When, not what: parts of a date or a time of day (2019年5月3日晚 gives 日晚; 5月初 gives 月初).
TIME_WORDS = frozenset(["当晚", "当夜", "傍晚", "深夜", "夜间", "早上", "早晨", "清晨", "月初", "月底", "月末", "月中", "上旬",
                        "中旬", "下旬", "年初", "年底", "年末", "上半年", "下半年", "月份", "年份",
                        "日晚", "日夜", "日早", "日晨", "日至", "日起", "日止", "时分", "分许"])


def is_stop(word: str) -> bool:
    """Return True for a word that says nothing about the conduct: boilerplate, places, numbers, times, punctuation."""
    return word in BOILERPLATE or word in TIME_WORDS or bool(_NOT_A_WORD.search(word)) or is_place(word) or "某" in word


_WORD = re.compile(r"\w")


def all_words(text: str) -> list[str]:
    """Return every search-mode word of ``text`` (jieba-rs), punctuation aside: the all-words view."""
    import rjieba

    return [w for w in rjieba.cut_for_search(text) if _WORD.search(w)]


def tokens(text: str) -> list[str]:
    """Return the search-mode words of ``text`` (jieba-rs) without boilerplate, places and numbers.

    Places are dropped before their parts are split out, so 长沙市 drops 长沙 and 沙市 too.
    """
    import rjieba

    out: list[str] = []
    for word in rjieba.cut(text):
        if is_stop(word):
            continue
        if len(word) <= 2:
            out.append(word)
            continue
        out.extend(w for w in rjieba.cut_for_search(word) if not is_stop(w))
    return out


@dataclass
class FactsMatrix:
    """BM25 weights of the facts of ``ids``: a CSC matrix of documents x vocabulary."""

    ids: list[str]
    vocabulary: dict[str, int]
    weights: sparse.csc_matrix
    df: np.ndarray
    charges: list[tuple[str, ...]] = field(default_factory=list)
    analyzer: str = "conduct"  # "conduct": tokens(); "words": all_words()
    words_view: FactsMatrix | None = None  # the same facts over all_words(), blended in by text_scores()

    def analyse(self, text: str) -> list[str]:
        """Return the words of ``text`` as this matrix's analyzer sees them."""
        return all_words(text) if self.analyzer == "words" else tokens(text)

    @cached_property
    def words(self) -> list[str]:
        """Return the vocabulary in column order."""
        return list(self.vocabulary)

    @cached_property
    def charge_matrix(self) -> tuple[dict[str, int], sparse.csr_matrix]:
        """Return (charge -> column, documents x charges 0/1 matrix) for vectorised overlaps."""
        names: dict[str, int] = {}
        rows, cols = [], []
        for row, charges in enumerate(self.charges):
            for charge in charges:
                rows.append(row)
                cols.append(names.setdefault(charge, len(names)))
        data = np.ones(len(rows), np.float32)
        return names, sparse.csr_matrix((data, (rows, cols)), shape=(len(self.charges), max(1, len(names))))

    def batch_contributions(self, columns: np.ndarray, counts: np.ndarray, rows: Sequence[int], top: int = 10,
                            min_df: int = 5) -> list[list[str]]:
        """Return :meth:`contributions` for several documents at once (one sparse slice)."""
        if not len(columns):
            return [[] for _ in rows]
        values = self.weights[:, columns][np.asarray(rows)].toarray() * counts
        words = self.words
        common = self.df[columns] >= min_df
        result = []
        for line in values:
            order = np.argsort(-line)
            result.append([words[columns[i]] for i in order if line[i] > 0 and common[i]][:top])
        return result

    @classmethod
    def build(cls, ids: Sequence[str], facts: Iterable[str], charges: Sequence[Sequence[str]] = (),
              k1: float = K1, b: float = B, analyzer: str = "conduct", words_view: bool = False) -> FactsMatrix:
        """Return the matrix of the facts of ``ids`` (tokenised by :func:`tokens`, or :func:`all_words` if
        ``analyzer`` is "words"); with ``words_view``, also the all-words view of the same facts."""
        facts = list(facts)
        analyse = all_words if analyzer == "words" else tokens
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths: list[int] = []
        for row, text in enumerate(facts):
            counts = Counter(analyse(text))
            lengths.append(sum(counts.values()))
            for word, count in counts.items():
                rows.append(row)
                cols.append(vocabulary.setdefault(word, len(vocabulary)))
                vals.append(count)
        n = len(lengths)
        tf = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(n, len(vocabulary)))
        df = np.bincount(np.asarray(cols, np.int64), minlength=len(vocabulary))
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        length = np.asarray(lengths, np.float32)
        norm = k1 * (1 - b + b * length / max(1.0, float(length.mean())))
        tf = tf.tocoo()
        data = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        weights = sparse.csc_matrix((data.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        view = cls.build(ids, facts, charges, k1, b, analyzer="words") if words_view else None
        return cls(list(ids), vocabulary, weights, df, [tuple(c) for c in charges], analyzer, view)

    def query_vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (term columns, query weights) of the words of ``text`` the facts contain.

        In the conduct view a word's weight is the square root of its count: a paragraph that says
        盗窃 ten times is about theft, not ten times more so (LeCaRD dev pool NDCG@30 0.894 -> 0.902).
        The all-words view keeps the counts: a name said often is the case's main actor.
        """
        counts = Counter(w for w in self.analyse(text) if w in self.vocabulary)
        columns = np.fromiter((self.vocabulary[w] for w in counts), np.int64, len(counts))
        weights = np.fromiter(counts.values(), np.float32, len(counts))
        return columns, (weights if self.analyzer == "words" else np.sqrt(weights))

    def scores(self, text: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Return the BM25 score of every document (or of ``rows``) for the whole of ``text``."""
        return self.vector_scores(*self.query_vector(text), rows)

    def vector_scores(self, columns: np.ndarray, counts: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Return the BM25 scores for a query vector of :meth:`query_vector`."""
        if not len(columns):
            return np.zeros(len(self.ids) if rows is None else len(rows), np.float32)
        sub = self.weights[:, columns]
        if rows is not None:
            sub = sub[rows]
        return np.asarray(sub @ counts).ravel()

    def text_scores(self, text: str, vector: tuple[np.ndarray, np.ndarray] | None = None,
                    rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Return (conduct BM25, all-words BM25 or None) of every document (or of ``rows``) for ``text``.

        ``vector`` is this matrix's :meth:`query_vector` of ``text`` when the caller has it already.
        """
        conduct = self.vector_scores(*(vector if vector is not None else self.query_vector(text)), rows)
        return conduct, (self.words_view.scores(text, rows) if self.words_view is not None else None)

    def query_terms(self, text: str, top: int = 40, min_df: int = 5) -> list[tuple[str, float]]:
        """Return the query's words by weight (count x IDF), seen in ``min_df`` documents or more (no names)."""
        return self.vector_terms(*self.query_vector(text), top=top, min_df=min_df)

    def vector_terms(self, columns: np.ndarray, counts: np.ndarray, top: int = 40, min_df: int = 5) -> list[tuple[str, float]]:
        """Return :meth:`query_terms` for a query vector."""
        n = len(self.ids)
        words = self.words
        weighted = [(words[c], float(k * np.log(1 + (n - self.df[c] + 0.5) / (self.df[c] + 0.5))))
                    for c, k in zip(columns, counts, strict=True) if self.df[c] >= min_df]
        return sorted(weighted, key=lambda x: -x[1])[:top]

    def contributions(self, text: str, row: int, top: int = 10, min_df: int = 5) -> list[str]:
        """Return the words that added most to document ``row``'s score, seen in ``min_df`` documents or more.

        Rare words (a person's name, a plate number) are left out of explanations even when they
        matched: they say who, not what was done.
        """
        return self.vector_contributions(*self.query_vector(text), row, top=top, min_df=min_df)

    def vector_contributions(self, columns: np.ndarray, counts: np.ndarray, row: int, top: int = 10,
                             min_df: int = 5) -> list[str]:
        """Return :meth:`contributions` for a query vector."""
        if not len(columns):
            return []
        values = self.weights[row, columns].toarray().ravel() * counts
        order = np.argsort(-values)
        words = self.words
        return [words[columns[i]] for i in order[: top * 3] if values[i] > 0 and self.df[columns[i]] >= min_df][:top]


def facts_section(markdown: str) -> str:
    """Return the facts section of a ruling's Markdown (## 案件基本情况 …), or '' if it has none."""
    for name in FACTS_SECTIONS:
        match = re.search(rf"^##\s*{name}\s*$(.*?)(?=^##\s|\Z)", markdown, re.M | re.S)
        if match:
            return match[1].strip()
    return ""


def matrix_from_searcher(engine: Any) -> FactsMatrix | None:
    """Return the facts matrix of the indexed rulings that have a facts section, or None if fewer than MIN_RULINGS.

    ``engine``: a snapshot of the index (:class:`indexer.engine.Engine`).
    """
    ids, facts, charges = [], [], []
    for fields in engine.documents(type="ruling", kind="entry"):
        section = facts_section(fields.get("markdown") or "")
        if section:
            ids.append(fields["id"])
            facts.append(section)
            charges.append([c for c in (fields.get("charges") or "").split(",") if c])
    return FactsMatrix.build(ids, facts, charges, words_view=True) if len(ids) >= MIN_RULINGS else None


def stamp(engine: Any) -> str:
    """Return what identifies an index state: document count (deleted ones included) and generation."""
    state = engine.state()
    return f"{state.max_doc}-{state.generation}"


def save_matrix(build: Path, engine: Any) -> None:
    """Write the facts matrix of the build (or remove a stale one), so no query pays for building it."""
    path = build / FACTS_FILE
    matrix = matrix_from_searcher(engine)
    if matrix is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.tmp.npz")
    arrays = {"stamp": stamp(engine), "format": FACTS_FORMAT, "ids": "\n".join(matrix.ids),
              "charges": "\n".join(",".join(c) for c in matrix.charges)}
    for prefix, view in (("", matrix), ("all_", matrix.words_view)):
        if view is not None:
            w = view.weights
            arrays.update({f"{prefix}words": "\n".join(view.words), f"{prefix}data": w.data, f"{prefix}indices": w.indices,
                           f"{prefix}indptr": w.indptr, f"{prefix}shape": np.array(w.shape), f"{prefix}df": view.df})
    np.savez(temporary, **arrays)
    os.replace(temporary, path)


def load_matrix(build: Path, engine: Any) -> FactsMatrix | None | bool:
    """Return the saved facts matrix if it was made for this index state; False if there is none to use."""
    path = build / FACTS_FILE
    if not path.is_file():
        return False
    with np.load(path) as data:
        if str(data["stamp"]) != stamp(engine) or "format" not in data or str(data["format"]) != FACTS_FORMAT:
            return False
        ids = str(data["ids"]).split("\n")
        charges = [tuple(c for c in line.split(",") if c) for line in str(data["charges"]).split("\n")]

        def view(prefix: str, analyzer: str) -> FactsMatrix:
            words = str(data[f"{prefix}words"]).split("\n")
            weights = sparse.csc_matrix((data[f"{prefix}data"], data[f"{prefix}indices"], data[f"{prefix}indptr"]),
                                        shape=tuple(data[f"{prefix}shape"]))
            return FactsMatrix(ids, {w: i for i, w in enumerate(words)}, weights, data[f"{prefix}df"], charges, analyzer)

        matrix = view("", "conduct")
        if "all_words" in data:
            matrix.words_view = view("all_", "words")
        return matrix


def charge_overlap(predicted: dict[str, float], charges: Sequence[tuple[str, ...]] | FactsMatrix,
                   rows: np.ndarray | None = None) -> np.ndarray:
    """Return, per document, the summed probability of the predicted charges it was judged for."""
    if isinstance(charges, FactsMatrix):
        names, matrix = charges.charge_matrix
        vector = np.zeros(matrix.shape[1], np.float32)
        for name, p in predicted.items():
            if name in names:
                vector[names[name]] = p
        overlap = np.asarray(matrix @ vector).ravel()
        return overlap if rows is None else overlap[rows]
    chosen = charges if rows is None else [charges[i] for i in rows]
    return np.fromiter((sum(predicted.get(c, 0.0) for c in cs) for cs in chosen), np.float32, len(chosen))


def normalised(scores: np.ndarray) -> np.ndarray:
    """Return ``scores`` divided by the best one (unchanged if none is above 0)."""
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def blend(text_scores: np.ndarray, overlap: np.ndarray, charge_weight: float, words_scores: np.ndarray | None = None,
          words_weight: float = WORDS_WEIGHT) -> np.ndarray:
    """Return the final scores: BM25 normalised by the best one, plus the weighted charge overlap, plus
    the all-words view's BM25 (normalised the same way) at ``words_weight`` when it is given."""
    scores = normalised(text_scores) + charge_weight * overlap
    return scores if words_scores is None else scores + words_weight * normalised(words_scores)
