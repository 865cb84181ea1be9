"""Similar rulings (indexer.similar, POST /api/similar): term extraction, labels, ranking, explanations."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import QueryError
from indexer.similar import (
    detect_labels,
    is_key_term,
    key_terms,
    precedent_order,
    search_similar,
    similar,
    snippet,
    text_statutes,
)

# About 400 characters of facts, in a judge's words, not copied from the entry.
FACTS = (
    "2022年3月，原告王某在被告经营的网店购买了一箱宁夏枸杞，商品详情页显示有上千条好评。收货后原告发现枸杞颗粒细小、颜色发暗，"
    "与页面图片严重不符。包裹内附有一张卡片，写明给予五星好评并晒图即可返现五元，客服还主动发来了事先拟好的评价文字和照片。"
    "原告认为商家以返现换取好评，虚构商品评价，使其误以为商品质量上乘而下单，构成欺诈，依据《消费者权益保护法》第五十五条"
    "请求退还货款并按价款三倍赔偿。被告辩称商品质量合格，返现只是促销手段，买家自愿评价，不构成欺诈。经审理查明，被告店铺"
    "在一个月内通过返现卡片获得好评四百余条，其中大量评价的文字与客服提供的模板一致。本院认为，本案的争议焦点在于好评返现"
    "是否足以误导消费者，以及被告是否应当承担惩罚性赔偿责任。另查明，原告此前并无职业索赔记录，其购买数量与日常消费相符。"
    "庭审中，被告提交了商品检验报告和进货单据，但未能说明为何评价文字高度雷同；原告提交了聊天记录截图、卡片照片和订单页面，"
    "主张被告的行为违反诚实信用原则，请求法院依法支持其全部诉讼请求。"
)


def test_facts_are_long_enough_to_matter() -> None:
    assert len(FACTS) >= 400


def test_key_terms_keep_the_facts_and_drop_the_boilerplate() -> None:
    terms = [t for t, _w in key_terms(FACTS)]
    assert {"好评", "枸杞", "欺诈"} <= set(terms[:15]) and "好评返现" in terms
    for noise in ("原告", "被告", "本院认为", "经审理查明", "王某", "第五十五", "消费者权益保护法"):
        assert noise not in terms
    weights = [w for _t, w in key_terms(FACTS)]
    assert weights == sorted(weights, reverse=True) and weights[0] == 1.0


@pytest.mark.parametrize("word", ["十五日", "二个月", "三个", "十五", "浙", "沪", "本市", "附近", "建议", "具结", "签字", "判处", "量刑", "罪名",
                                  "毫克", "毫升", "公斤", "厘米", "日晚", "月初", "当晚", "日至",
                                  "书证", "勘验", "现场", "合法", "公安机关", "上述事实", "视听资料"])
def test_numbers_places_and_plea_boilerplate_are_never_reasons(word: str) -> None:
    # What the explanations of real drunk-driving judgments showed (tests/test_judge_browser.py).
    assert not is_key_term(word)


@pytest.mark.parametrize("word", ["酒后", "乙醇", "轿车", "路口", "血液", "逃逸", "十字路口", "摩托车"])
def test_words_of_the_conduct_are_reasons(word: str) -> None:
    assert is_key_term(word)


def test_statutes_and_labels_found_in_text() -> None:
    assert text_statutes(FACTS) == ["消费者权益保护法#第五十五条"]
    labels = detect_labels("被告人张某某犯信用卡诈骗罪。", ["网络服务合同纠纷"])
    assert labels == {"信用卡诈骗罪": 1.0}  # the longest name, not 诈骗罪 inside it
    implied = detect_labels("被告人趁被害人熟睡之际，扒窃其手机一部。")
    assert 0 < implied["盗窃罪"] < 1.0
    assert detect_labels("双方因网络服务合同发生争议", ["网络服务合同纠纷"])["网络服务合同纠纷"] < 1.0
    assert detect_labels("本案系网络购物合同纠纷。")["网络购物合同纠纷"] == 1.0


def test_similar_from_facts_ranks_and_explains(content_search) -> None:  # type: ignore[no-untyped-def]
    hits = similar(content_search, text=FACTS, limit=10)
    assert hits[0].id == "bic-2021-haoping-fanxian-fraud"
    top = hits[0]
    assert top.shared_statutes == ["消费者权益保护法#第五十五条"]
    assert {"好评返现", "枸杞"} <= set(top.shared_terms)
    assert "<mark>" in top.snippet
    assert all(h.url.startswith("/entries/") for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_no_word_is_required(content_search) -> None:  # type: ignore[no-untyped-def]
    noisy = FACTS + "另有大量与本案无关的词语：火星探测器、量子纠缠、青花瓷、马拉松比赛、天气预报、高铁时刻表。"
    assert similar(content_search, text=noisy, limit=3)[0].id == "bic-2021-haoping-fanxian-fraud"


def test_similar_to_a_ruling_excludes_it_and_finds_its_appeal(content_search) -> None:  # type: ignore[no-untyped-def]
    result = search_similar(content_search, entry_id="bic-2021-iqiyi-accessible-film", limit=5)
    ids = [h.id for h in result.hits]
    assert "bic-2021-iqiyi-accessible-film" not in ids
    assert ids[0] == "bjip-2021-iqiyi-accessible-film-appeal"
    assert "著作权法#第二十四条" in result.hits[0].shared_statutes


def test_precedent_order_follows_article_4(content_search) -> None:  # type: ignore[no-untyped-def]
    hits = similar(content_search, entry_id="bic-2021-online-course-cartoon", limit=10)
    ordered = precedent_order(hits)
    tiers = [h.tier for h in ordered]
    assert tiers == sorted(tiers, key=["指导性案例", "典型案例", "参考案例", "其他"].index)
    assert all(h.follow == ("应当参照" if h.tier == "指导性案例" else "可以参考") for h in hits)


def test_engine_checks_its_input(content_search) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError):
        similar(content_search, text="太短")
    with pytest.raises(QueryError):
        similar(content_search, text=FACTS, entry_id="x")
    with pytest.raises(QueryError):
        similar(content_search, text=FACTS, limit=0)
    with pytest.raises(QueryError):
        similar(content_search, entry_id="no-such-entry")


def test_snippet_escapes_and_marks() -> None:
    html = snippet("<b>好评</b>返现", ["好评"])
    assert html == "&lt;b&gt;<mark>好评</mark>&lt;/b&gt;返现"


def test_api_similar_from_facts(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/similar", json={"text": FACTS, "limit": 5})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["source"] == "text" and 1 <= len(body["results"]) <= 5
    first = body["results"][0]
    assert first["id"] == "bic-2021-haoping-fanxian-fraud" and first["tier"] == "其他" and first["follow"] == "可以参考"
    why = first["explanation"]
    assert why["statutes"] == ["《消费者权益保护法》第五十五条"] and "好评返现" in why["terms"] and "<mark>" in why["snippet"]
    assert "holding" in first
    assert body["understood"]["statutes"] == ["《消费者权益保护法》第五十五条"]


def test_api_similar_from_a_ruling(client) -> None:  # type: ignore[no-untyped-def]
    body = client.post("/api/similar", json={"id": "bic-2021-meituan-delivery-fee", "limit": 3}).get_json()
    assert [r["id"] for r in body["results"]][0] == "bj4-2021-meituan-delivery-fee-appeal"
    assert body["results"][0]["explanation"]["causes"] == ["网络服务合同纠纷"]
    assert all(r["id"] != "bic-2021-meituan-delivery-fee" for r in body["results"])


@pytest.mark.parametrize("body, status, message", [
    (None, 400, "JSON object"),
    ([1, 2], 400, "JSON object"),
    ({"text": "短"}, 400, "between 20 and 20000"),
    ({"text": "字" * 20001}, 400, "between 20 and 20000"),
    ({"text": FACTS, "limit": 0}, 400, "limit"),
    ({"text": FACTS, "limit": 101}, 400, "limit"),
    ({"text": FACTS, "limit": "5"}, 400, "limit"),
    ({"text": FACTS, "id": "bic-2021-meituan-delivery-fee"}, 400, "not both"),
    ({}, 400, "either text"),
    ({"text": FACTS, "order": "date"}, 400, "order"),
    ({"text": FACTS, "page": 2}, 400, "unknown field"),
    ({"text": 42}, 400, "string"),
    ({"id": "no-such-ruling"}, 404, "no entry"),
])
def test_api_similar_errors_have_one_shape(client, body, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    if body is None:
        response = client.post("/api/similar", data="{not json", content_type="application/json")
    else:
        response = client.post("/api/similar", json=body)
    assert response.status_code == status
    data = response.get_json()
    assert data["ok"] is False and data["status"] == status and message in data["error"] and data["errors"] == [data["error"]]


def test_entry_page_shows_similar_rulings_with_reasons(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/entries/bic-2021-meituan-delivery-fee").get_data(as_text=True)
    assert 'class="similar"' in html and 'data-id="bj4-2021-meituan-delivery-fee-appeal"' in html
    assert "相同案由或罪名" in html and "共同的关键词" in html and 'class="report-add"' in html
    assert "report.js" in html and "<script>" not in html  # CSP: no inline script
    guideline = client.get("/entries/guide-burden-of-proof-online-shopping").get_data(as_text=True)
    assert 'class="similar"' not in guideline


def test_similar_page_for_pasted_facts(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/similar").status_code == 200
    html = client.post("/similar", data={"text": FACTS}).get_data(as_text=True)
    assert "bic-2021-haoping-fanxian-fraud" in html and "<mark>好评返现</mark>" in html and 'data-kind="similar"' in html
    short = client.post("/similar", data={"text": "太短了"})
    assert short.status_code == 400 and "20" in short.get_data(as_text=True)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(min_size=20, max_size=300))
def test_any_text_gives_an_answer(content_search, text: str) -> None:  # type: ignore[no-untyped-def]
    try:
        hits = similar(content_search, text=text, limit=5)
    except QueryError:
        assert len(text.strip()) < 20
        return
    assert len(hits) <= 5
