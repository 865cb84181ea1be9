"""The learned ranking (#12): trained by `kb train ranker` from STARD-style questions, saved, loaded, applied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from indexer.ranking import FEATURES, LearnedRanker, Tables
from indexer.training import translation_tables
from tests.support import CONTENT, ROOT

STARD = Path(os.environ.get("KB_STARD", ROOT.parent / "shared" / "benchmarks" / "stard-dev" / "queries.jsonl"))


def content_source_files() -> set[str]:
    files = set()
    for path in (CONTENT / "statutes").rglob("*.md"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("source_file:"):
                files.add(line.split(":", 1)[1].strip())
    return files


def test_ibm_model_1_learns_which_legal_word_a_colloquial_word_stands_for() -> None:
    pairs = [(["欠钱", "不还"], ["借款", "偿还", "期限"]), (["欠钱", "利息"], ["借款", "利息", "约定"]),
             (["欠钱", "起诉"], ["借款", "诉讼", "时效"]), (["离婚", "房子"], ["夫妻", "财产", "分割"]),
             (["离婚", "孩子"], ["夫妻", "子女", "抚养"]), (["离婚", "存款"], ["夫妻", "财产", "共同"])]
    # Other questions, and a word nearly every article has (或者: 58% of STARD's).
    pairs += [([f"问题{i}"], [f"条文{i}", "规则"]) for i in range(24)]
    pairs = [(question, [*article, "或者"]) for question, article in pairs]
    scoring, expansion = translation_tables(pairs)
    assert expansion["欠钱"][0][0] == "借款"
    assert expansion["离婚"][0][0] == "夫妻"
    assert max(scoring["欠钱"], key=lambda x: x[1])[0] == "借款"
    # A word in more than a fifth of the articles is never an expansion: it would match everything.
    assert not [w for words in expansion.values() for w, _weight in words if w in ("或者", "规则")]


def test_tables_survive_a_round_trip_through_json() -> None:
    tables = Tables({"欠钱": [("借款", 0.5)]}, {"欠钱": [("借款", 0.4)]}, {"民法典": 3.0}, {"民法典#第六百六十七条": 2.0},
                    {"民法典": {"欠钱": 2}})
    again = Tables.from_json(tables.to_json())
    assert again == tables
    assert LearnedRanker(again).expansions(["欠钱", "借款"]) == []  # a word already asked for is not added again
    assert LearnedRanker(again).expansions(["欠钱"]) == [("借款", 0.4)]


@pytest.mark.skipif(not STARD.is_file(), reason="the STARD dev questions are in ../shared/benchmarks (KB_STARD)")
def test_kb_train_ranker_writes_a_model_the_search_loads_and_applies(content_index: Path, tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    ours = content_source_files()
    lines = [line for line in STARD.read_text(encoding="utf-8").splitlines()
             if line.strip() and any(f in ours for r in json.loads(line)["relevant"] for f in r["files"])]
    assert len(lines) >= 30  # 民法典 questions, mostly
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "ranker"
    result = runner("train", "ranker", "--questions", str(questions), "--index", str(content_index), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Trained on {len(lines)} questions" in result.output
    ranker = LearnedRanker.load(out)
    assert ranker is not None and ranker.booster is not None and ranker.tables.translation
    assert ranker.booster.num_feature() == len(FEATURES)

    from indexer import SearchIndex

    index = SearchIndex(content_index)
    index.ranker = ranker
    page = index.search("借钱不还，对方一直拖着怎么办")
    assert page.results and any(h.kind == "article" for h in page.results[:10])
    found, X = index.training_candidates("借钱不还，对方一直拖着怎么办", ranker)
    assert X.shape == (len(found), len(FEATURES)) and np.isfinite(X).all()
    order = ranker.order(X)
    assert sorted(order.tolist()) == list(range(len(found)))
