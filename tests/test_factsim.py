"""Facts similarity (indexer.factsim) and the charge classifier (indexer.charges) on small made-up data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.charges import ChargeModel, train
from indexer.factsim import FactsMatrix, all_words, blend, charge_overlap, is_place, tokens

DRUNK = "被告人甲酒后驾驶小型轿车行驶至长沙市天心区某路段，经检验其血液中乙醇含量为{n}毫克／100毫升。"
THEFT = "被告人乙趁被害人熟睡之际，在浏阳市某小区盗窃手机{n}部，经鉴定价值人民币三千元。"


def test_tokens_drop_boilerplate_places_and_numbers() -> None:
    words = tokens("经审理查明：被告人莫某酒后驾驶小型轿车行驶至长沙市天心区伊莱克斯大道，公诉机关指控其血液中乙醇含量为201.1毫克。")
    assert {"酒后", "驾驶", "轿车", "乙醇", "血液"} <= set(words)
    for noise in ("经审理查明", "被告人", "被告", "公诉机关", "指控", "长沙市", "长沙", "沙市", "天心区", "201.1", "莫某"):
        assert noise not in words
    assert is_place("汤池镇") and not is_place("超市") and not is_place("镇")


def test_bm25_over_facts_and_charge_boost() -> None:
    facts = [DRUNK.format(n=80 + i) for i in range(5)] + [THEFT.format(n=i + 1) for i in range(5)]
    charges = [("危险驾驶罪",)] * 5 + [("盗窃罪",)] * 5
    matrix = FactsMatrix.build([str(i) for i in range(10)], facts, charges)
    query = "被告人丙饮酒后驾驶汽车，血液中乙醇含量超标。"
    scores = matrix.scores(query)
    assert scores[:5].min() > scores[5:].max()
    overlap = charge_overlap({"盗窃罪": 1.0}, matrix.charges)
    assert overlap.tolist() == [0.0] * 5 + [1.0] * 5
    assert charge_overlap({"盗窃罪": 1.0}, matrix).tolist() == overlap.tolist()  # the vectorised form
    # A strong enough charge signal reorders; the text alone does not.
    assert np.argmax(blend(scores, overlap, 2.0)) >= 5 and np.argmax(blend(scores, overlap, 0.0)) < 5
    rows = np.array([7, 2])
    assert matrix.scores(query, rows).tolist() == scores[rows].tolist()
    assert "长沙市" not in matrix.contributions(query, 0, min_df=1)
    assert set(matrix.contributions(query, 0, min_df=1)) <= {"驾驶", "乙醇", "血液", "含量", "酒后"}
    vector = matrix.query_vector(query)
    assert matrix.batch_contributions(*vector, [0, 6], min_df=1) == [matrix.contributions(query, r, min_df=1) for r in (0, 6)]


def test_charge_model_trains_saves_and_predicts(tmp_path: Path) -> None:
    facts = [DRUNK.format(n=80 + i) for i in range(8)] + [THEFT.format(n=i + 1) for i in range(8)] + ["其他事实。"] * 2
    charges = [["危险驾驶罪"]] * 8 + [["盗窃罪", "诈骗罪"]] * 8 + [["罕见罪"]] * 2
    model, accuracy = train(facts, charges)
    assert accuracy["examples"] == 16  # 罕见罪 has fewer than MIN_EXAMPLES
    model.save(tmp_path / "charges.npz")
    loaded = ChargeModel.load(tmp_path / "charges.npz")
    assert sorted(loaded.classes) == ["危险驾驶罪", "盗窃罪"]
    predicted = loaded.predict("某人醉酒驾驶机动车，血液中乙醇含量很高。")
    assert next(iter(predicted)) == "危险驾驶罪" and abs(sum(predicted.values()) - 1.0) < 1e-5
    assert next(iter(loaded.predict("某人盗窃他人手机两部。"))) == "盗窃罪"


def test_the_all_words_view_scores_names_and_places_but_never_explains_by_them() -> None:
    # Two judgments with the same conduct; only the second happened in the query's county.
    facts = [DRUNK.format(n=90).replace("长沙市天心区", "衡阳市珠晖区"), DRUNK.format(n=90),
             THEFT.format(n=1), THEFT.format(n=2), THEFT.format(n=3)]
    matrix = FactsMatrix.build([str(i) for i in range(5)], facts, [("危险驾驶罪",)] * 2 + [("盗窃罪",)] * 3, words_view=True)
    assert matrix.words_view is not None and matrix.words_view.analyzer == "words"
    assert {"长沙市", "天心区", "莫新国"} <= set(all_words("被告人莫新国在长沙市天心区酒后驾驶。"))
    query = "被告人丙酒后驾驶小型轿车行驶至长沙市天心区，其血液中乙醇含量超标。"
    conduct, words = matrix.text_scores(query)
    assert words is not None
    assert conduct[0] == conduct[1]  # the conduct view drops places: it cannot tell them apart
    both = blend(conduct, np.zeros(5), 0.0, words)
    assert both[1] > both[0] > both[2:].max()
    assert blend(conduct, np.zeros(5), 0.0).tolist() == (conduct / conduct.max()).tolist()  # no view, no change
    for row in (0, 1):
        reasons = matrix.contributions(query, row, min_df=1)
        assert reasons and not {"长沙市", "天心区", "长沙", "天心"} & set(reasons)


def test_query_words_count_by_their_square_root_in_the_conduct_view_only() -> None:
    facts = [DRUNK.format(n=80 + i) for i in range(3)] + [THEFT.format(n=i + 1) for i in range(3)]
    matrix = FactsMatrix.build([str(i) for i in range(6)], facts, words_view=True)
    assert matrix.words_view is not None
    once, four = matrix.query_vector("酒后驾驶。"), matrix.query_vector("酒后驾驶。" * 4)
    assert once[0].tolist() == four[0].tolist() and four[1].tolist() == [2.0] * len(once[0])
    assert matrix.words_view.query_vector("酒后驾驶。" * 4)[1].max() == 4.0
    assert np.allclose(matrix.scores("酒后驾驶。" * 4), 2 * matrix.scores("酒后驾驶。"))


def test_times_are_not_conduct() -> None:
    # jieba cuts 3日晚 into 3 + 日晚 and 5月初 into 5 + 月初: when, not what was done.
    assert tokens("2019年5月3日晚，被告人酒后驾驶。同年6月初又驾驶。当晚8时许，3月底至4月中旬，2017年上半年。") == ["酒后", "驾驶", "驾驶", "至"]
