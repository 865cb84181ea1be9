"""Layperson questions about what to prove reach the burden-of-proof guide for their dispute (#12).

The questions were written for this test, in the words litigants use; none is a benchmark
question. The guide must be the first result, and its answer card (summary and checklist) must
show, in the page and in the API alike. Questions that ask for evidence in a dispute no guide
covers must not be given one.
"""

from __future__ import annotations

import pytest

SHOPPING = "guide-burden-of-proof-online-shopping"
INFRINGEMENT = "guide-burden-of-proof-online-infringement"
DISSEMINATION = "guide-burden-of-proof-network-dissemination"

QUESTIONS = [
    ("在淘宝买的手机是翻新机，商家不给退，我需要提供什么证据", SHOPPING),
    ("网购的衣服质量有问题，跟卖家打官司要准备哪些材料", SHOPPING),
    ("網購收到的商品和描述不一樣，我要怎麼舉證", SHOPPING),
    ("网店卖给我的手机是假的 需要什么证据", SHOPPING),
    ("在直播间买的化妆品是假的，要证明什么", SHOPPING),
    ("what evidence do I need when an online shop sells me a fake product", SHOPPING),
    ("有人在微博上造谣骂我，我起诉需要收集哪些证据", INFRINGEMENT),
    ("别人把我的照片和电话号码发到网上，我要证明什么", INFRINGEMENT),
    ("有人在网上公开我的住址和身份证，怎么取证", INFRINGEMENT),
    ("I was defamed on a forum, what do I have to prove", INFRINGEMENT),
    ("我拍的照片被别的网站盗用了，打官司要提供什么证据", DISSEMINATION),
    ("我写的小说被人放到网上免费看，怎么证明侵权", DISSEMINATION),
    ("公众号文章被别人转载了没署名，我该准备哪些证据", DISSEMINATION),
    ("歌曲被短视频平台擅自使用需要哪些证据", DISSEMINATION),
    ("视频网站未经许可播放我的电影，我需要证明什么", DISSEMINATION),
]

# Evidence questions about disputes no burden-of-proof guide covers, and a question that asks
# nothing about proof.
NO_GUIDE = [
    "离婚时财产怎么分割需要什么证据",
    "借钱不还要准备哪些证据",
    "公司拖欠工资要准备什么证据",
    "交通事故对方不赔需要哪些证据",
]
GUIDES = {SHOPPING, INFRINGEMENT, DISSEMINATION}


@pytest.mark.parametrize("question, guide", QUESTIONS)
def test_the_guide_is_first_with_its_answer_card(content_search, question: str, guide: str) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search(question)
    assert [h.id for h in page.results[:1]] == [guide], (question, [h.id for h in page.results[:5]])
    assert page.answer is not None and page.answer["id"] == guide


@pytest.mark.parametrize("question", NO_GUIDE)
def test_no_guide_is_forced_on_a_dispute_no_guide_covers(content_search, question: str) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search(question)
    assert page.results and page.results[0].id not in GUIDES, (question, [h.id for h in page.results[:5]])


def test_the_page_and_the_api_show_the_guide_and_its_checklist(client) -> None:  # type: ignore[no-untyped-def]
    question = "网购的衣服质量有问题，跟卖家打官司要准备哪些材料"
    api = client.get("/api/search", query_string={"q": question}).get_json()
    assert api["results"][0]["id"] == SHOPPING
    assert api["answer"]["id"] == SHOPPING
    html = client.get("/search", query_string={"q": question}).get_data(as_text=True)
    card = html.split('class="answer', 1)[1].split("</section>", 1)[0]
    assert "网络购物合同纠纷举证指南" in card
    assert "<li" in card  # the guide's checklist, not only its title


def test_a_statute_question_names_the_article_that_answers_it_first(client) -> None:  # type: ignore[no-untyped-def]
    api = client.get("/api/search", query_string={"q": "电子合同有法律效力吗"}).get_json()
    first = api["results"][0]
    assert first["kind"] == "article"
    assert api["lead"] == {"title": first["title"], "url": first["url"], "article": first["article"]}
    html = client.get("/search", query_string={"q": "电子合同有法律效力吗"}).get_data(as_text=True)
    lead = html.split('id="lead"', 1)[1].split("</p>", 1)[0]
    assert f'href="{first["url"]}"' in lead and first["title"] in lead


def test_no_lead_article_when_a_guide_answers(client) -> None:  # type: ignore[no-untyped-def]
    api = client.get("/api/search", query_string={"q": "网购的衣服质量有问题，跟卖家打官司要准备哪些材料"}).get_json()
    assert api["answer"]["id"] == SHOPPING and api["lead"] is None
