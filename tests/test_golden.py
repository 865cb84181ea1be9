"""Golden queries over the bundled content/: the entry a user needs comes first (or in the top 3)."""

from __future__ import annotations

import pytest

from tests.support import CONTENT

TOP1 = {
    "刷单": "bic-2021-shuadan-compensation-position",
    "好评返现": ("haoping-fanxian-administrative-penalty", "bic-2021-haoping-fanxian-fraud"),
    "刷单 赔偿": "bic-2021-shuadan-compensation-position",
    "无障碍电影": "bic-2021-iqiyi-accessible-film",
    "未成年人 打赏 退款": ("bic-minor-17-tipping-refund", "minors-topup-tipping-refund"),
    "网络购物 举证": "guide-burden-of-proof-online-shopping",
    "（2019）京0491民初2547号": "bic-2019-anshua-liuliang",
    "(2021)京04民终407号": "bj4-2021-meituan-delivery-fee-appeal",
    "案号 怎么看": "guide-case-numbers",
    "天平链": "tianping-chain-evidence",
    "互联网少年法庭": "bic-internet-juvenile-tribunal",
}

# Litigants' questions, with their traditional-Chinese and English forms: the entry in the top 3.
TOP3 = [
    (("网上买的东西是假货，商家不认怎么办", "網上買的東西是假貨，商家不認怎麼辦", "bought fake goods online and the seller denies it"),
     {"bic-2021-haoping-fanxian-fraud", "guide-burden-of-proof-online-shopping"}),
    (("直播打赏的钱能要回来吗", "直播打賞的錢能要回來嗎", "can I get back money my child spent on live streaming tips"),
     {"minors-topup-tipping-refund", "bic-minor-17-tipping-refund"}),
    (("刷好评返现违法吗", "刷好評返現違法嗎", "fake reviews cash back"),
     {"bic-2021-haoping-fanxian-fraud", "haoping-fanxian-administrative-penalty"}),
    (("網購買到假貨", "网购买到假货"), {"bic-2021-haoping-fanxian-fraud", "guide-burden-of-proof-online-shopping"}),
    (("online shopping burden of proof", "网购要怎么举证"), {"guide-burden-of-proof-online-shopping"}),
]


def top(index, query: str, n: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.id for hit in index.search(query).results[:n]]


@pytest.mark.parametrize("query", sorted(TOP1))
def test_top_result(content_search, query: str) -> None:  # type: ignore[no-untyped-def]
    expected = TOP1[query]
    expected = (expected,) if isinstance(expected, str) else expected
    first = top(content_search, query, 1)
    assert first and first[0] in expected, (query, top(content_search, query, 5))


@pytest.mark.parametrize("forms, wanted", TOP3)
def test_litigant_questions_in_top_3(content_search, forms, wanted) -> None:  # type: ignore[no-untyped-def]
    for form in forms:
        found = top(content_search, form)
        assert wanted & set(found), (form, found)


def test_long_question_returns_results(content_search) -> None:  # type: ignore[no-untyped-def]
    question = "我在网上买了一个包，收到后发现是假货，商家一直不承认也不给退款，我手里只有聊天截图，应该怎么证明"
    assert len(question) >= 40
    page = content_search.search(question)
    assert page.total > 0 and not page.fallback
    assert "guide-burden-of-proof-online-shopping" in top(content_search, question)


def test_content_is_clean_in_strict_mode(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner("check", "--strict", str(CONTENT))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("no problems.")


def test_every_citation_in_content_resolves() -> None:
    from kb.links import StatuteResolver, cited, load_repealed
    from kb.loader import load_all

    report = load_all(CONTENT)
    resolver = StatuteResolver(report.entries, load_repealed([CONTENT]))
    unresolved = [(e.id, str(c)) for e in report.entries for c, _line in cited(e)
                  if not resolver.resolve(c) and not resolver.is_repealed(c)]
    assert unresolved == []
    citing = [e for e in report.entries if e.type != "statute"]
    assert len(citing) >= 25


def test_broken_file_is_reported_and_the_rest_still_searchable(tmp_path, monkeypatch, runner) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from indexer import SearchIndex

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    (content / "rulings" / "broken.md").write_text("---\ntype: ruling\ntitle: 坏文件\ndecided_on: 2021-13-01\ncase_number: x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner("index", "--content", str(content), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 1
    assert "content/rulings/broken.md:1: front matter: no closing '---'. Add a line '---' after the last field." in result.stdout
    assert top(SearchIndex(tmp_path / "ix"), "刷单", 1) == ["bic-2021-shuadan-compensation-position"]


@pytest.mark.parametrize("typo, fixed", [("举证责人", "举证责任"), ("网络购午", "网络购物"), ("无障爱电影", "无障碍电影"), ("好评反现", "好评返现")])
def test_did_you_mean_fixes_homophone_typos(content_search, typo: str, fixed: str) -> None:  # type: ignore[no-untyped-def]
    assert content_search.search(typo).did_you_mean == fixed


@pytest.mark.parametrize("query", ["举证责任", "刷单", "網購買到假貨要怎麼舉證", "直播打赏的钱能要回来吗", "（2019）京0491民初2547号"])
def test_no_correction_for_correct_queries(content_search, query: str) -> None:  # type: ignore[no-untyped-def]
    assert content_search.search(query).did_you_mean is None


def test_answer_card_for_a_question_a_guide_answers(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search", query_string={"q": "网购要怎么举证"}).get_json()
    assert body["answer"]["id"] == "guide-burden-of-proof-online-shopping"
    html = client.get("/search", query_string={"q": "网购要怎么举证"}).get_data(as_text=True)
    assert 'id="answer"' in html and "举证清单" in html and html.count("<li>") >= 5


def test_suggest_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/suggest", query_string={"q": "举证"}).get_json()
    texts = [s["text"] for s in body["suggestions"]]
    assert body["ok"] is True and texts[0] == "举证" and "举证责任" in texts
    assert any(s["kind"] == "entry" for s in client.get("/api/suggest", query_string={"q": "网络购物合同"}).get_json()["suggestions"])
    assert client.get("/api/suggest", query_string={"q": "x", "limit": "0"}).status_code == 400
    assert client.get("/api/suggest", query_string={"q": "长" * 200}).status_code == 400


def test_statute_hits_show_the_article_text_title_and_version(content_search) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search("经营者 欺诈 三倍", filters={"kind": "article"})
    hit = page.results[0]
    assert hit.id == "消费者权益保护法-2013-10-25#第五十五条"
    assert hit.title == "中华人民共和国消费者权益保护法 第五十五条"
    assert hit.version_on == "2013-10-25" and hit.source_file == "民法商法/消费者权益保护法(2013-10-25).md"
    assert "<mark" in hit.snippet and "欺诈" in hit.snippet
