"""What litigants and judges asked for in issue #15, through the app and the index (no browser)."""

from __future__ import annotations

import re

import pytest

LINKED_ITEM = "起诉时在线提交证据。交易记录、聊天记录等电子数据的固定和提交方法，可参考网络购物合同纠纷举证指南中的举证清单。"


# -- answer card ----------------------------------------------------------------------------


def test_answer_card_keeps_the_words_of_a_link(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search", query_string={"q": "直播打赏的钱能要回来吗"}).get_json()
    answer = body["answer"]
    assert answer["id"] == "minors-topup-tipping-refund"
    assert answer["checklist_heading"] == "家长操作清单"
    assert answer["checklist"][-1] == LINKED_ITEM
    assert all("[[" not in item and "可参考中" not in item for item in answer["checklist"])


def test_api_and_page_show_the_same_answer_card(client) -> None:  # type: ignore[no-untyped-def]
    query = {"q": "网购要怎么举证"}
    answer = client.get("/api/search", query_string=query).get_json()["answer"]
    assert answer["summary"].startswith("北京互联网法院2021年制定过")
    assert answer["summary_en"] and len(answer["checklist"]) >= 8
    html = client.get("/search", query_string=query).get_data(as_text=True)
    card = html[html.index('id="answer"'):html.index("open-guide")]
    assert answer["summary"] in card and answer["checklist_heading"] in card
    for item in answer["checklist"][:8]:
        assert f"<li>{item}</li>" in card


def test_expansion_separator_stays_with_its_expansion(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search", query_string={"q": "网购要怎么举证"}).get_data(as_text=True)
    spans = re.findall(r'<span class="expansion">(.*?)</span>', html)
    assert len(spans) == 2
    assert spans[0].endswith("；") and not spans[1].endswith("；")
    assert "</span>；" not in html


def headings(markdown: str) -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+)$", markdown, re.M)}


@pytest.mark.parametrize("query", ["举证", "刷单", "网购买到假货怎么办", "直播打赏"])
def test_snippets_carry_neither_headings_nor_table_cells(content_search, query: str) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search(query, per_page=20)
    assert page.results
    for hit in page.results:
        text = re.sub(r"</?mark[^>]*>", "", hit.snippet)
        assert "|" not in text and "---" not in text and "\u3000" not in text, (hit.id, text)
        stored = content_search.get_entry(hit.id) if hit.kind == "entry" else None
        if stored and stored.get("markdown"):
            lines = {line.strip(" …") for line in text.splitlines()}
            assert not lines & headings(stored["markdown"]), (hit.id, lines & headings(stored["markdown"]))


# -- facets ---------------------------------------------------------------------------------


def counts(page, name: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return dict(page.facets.get(name, []))


def test_a_chosen_facet_keeps_the_counts_of_its_alternatives(content_search) -> None:  # type: ignore[no-untyped-def]
    everything = content_search.search("合同")
    rulings = content_search.search("合同", filters={"type": "ruling"})
    assert counts(rulings, "type") == counts(everything, "type")
    assert len(counts(rulings, "type")) == 3
    assert rulings.total == counts(everything, "type")["ruling"]
    assert {hit.type for hit in rulings.results} == {"ruling"}


def test_several_values_of_one_facet_are_any_of_them(content_search) -> None:  # type: ignore[no-untyped-def]
    everything = counts(content_search.search("合同"), "type")
    both = content_search.search("合同", filters={"type": ["ruling", "guideline"]}, per_page=50)
    assert both.total == everything["ruling"] + everything["guideline"]
    assert {hit.type for hit in both.results} == {"ruling", "guideline"}
    assert both.selected("type") == ["ruling", "guideline"]


def test_facets_of_different_names_all_apply(content_search) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search("合同", filters={"type": ["ruling", "guideline"], "year": "2021"}, per_page=50)
    assert page.results and {hit.type for hit in page.results} == {"ruling"}
    assert all(hit.date.startswith("2021") for hit in page.results)
    # The type facet is counted with the year filter: only rulings were decided in a year.
    assert counts(page, "type") == {"ruling": page.total}


def test_year_facet_counts_decision_years_of_rulings_only(content_search) -> None:  # type: ignore[no-untyped-def]
    page = content_search.search("合同")
    years = counts(page, "year")
    assert years and sum(years.values()) <= counts(page, "type")["ruling"]
    assert [year for year, _n in page.facets["year"]] == sorted(years, reverse=True)
    in_2021 = content_search.search("合同", filters={"year": "2021"}, per_page=50)
    assert in_2021.total == years["2021"]
    assert {hit.type for hit in in_2021.results} == {"ruling"}


def test_repeated_parameters_choose_several_values(client) -> None:  # type: ignore[no-untyped-def]
    one = client.get("/api/search?q=%E5%90%88%E5%90%8C&type=ruling").get_json()
    two = client.get("/api/search?q=%E5%90%88%E5%90%8C&type=ruling&type=guideline").get_json()
    assert one["filters"] == {"type": "ruling"} and two["filters"] == {"type": ["ruling", "guideline"]}
    facet = {f["value"]: f["count"] for f in one["facets"]["type"]}
    assert two["total"] == facet["ruling"] + facet["guideline"]
    html = client.get("/search?q=%E5%90%88%E5%90%8C&type=ruling&type=guideline").get_data(as_text=True)
    assert html.count('aria-current="true"') == 2
    # Unchoosing one value keeps the other.
    assert 'href="/search?q=%E5%90%88%E5%90%8C&amp;type=guideline"' in html


def test_facet_count_is_its_own_element_apart_from_the_label(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search", query_string={"q": "合同"}).get_data(as_text=True)
    assert re.search(r'<span class="label">网络服务合同纠纷</span></a>\s+<span class="count">\d+</span>', html)


def test_too_many_values_of_one_facet_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/search?q=a&" + "&".join(f"court=c{i}" for i in range(30)))
    assert response.status_code == 400 and "limit" in response.get_json()["error"]


# -- hits -----------------------------------------------------------------------------------


def test_api_search_hits_say_follow_and_tier_as_similar_does(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search", query_string={"q": "刷单", "type": "ruling"}).get_json()
    assert body["results"]
    for hit in body["results"]:
        assert hit["follow"] in ("应当参照", "可以参考")
        assert hit["tier"] in ("指导性案例", "典型案例", "参考案例", "其他")
    similar = client.post("/api/similar", json={"text": "原告在网上购物时商家以好评返现诱导好评，构成欺诈，请求三倍赔偿"}).get_json()
    assert {"follow", "tier"} <= set(similar["results"][0])


def test_favicon_is_served(client) -> None:  # type: ignore[no-untyped-def]
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"


# -- order and case numbers -----------------------------------------------------------------


def test_date_order_puts_undated_entries_last(content_search) -> None:  # type: ignore[no-untyped-def]
    hits = content_search.search("刷单", sort="date", per_page=50).results
    dates = [hit.date for hit in hits]
    assert None in dates and dates.index(None) > 0
    undated_from = dates.index(None)
    assert all(d is None for d in dates[undated_from:])
    dated = [d for d in dates if d]
    assert [d[:4] for d in dated] == sorted((d[:4] for d in dated), reverse=True)


def test_precedent_order_lists_rulings_first(content_search) -> None:  # type: ignore[no-untyped-def]
    hits = content_search.search("刷单", sort="precedent", per_page=50).results
    types = [hit.type for hit in hits]
    assert "ruling" in types and {"guideline", "statute"} & set(types)
    last_ruling = max(i for i, t in enumerate(types) if t == "ruling")
    assert types[: last_ruling + 1] == ["ruling"] * (last_ruling + 1)


@pytest.mark.parametrize("number", ["（2019）京0491民初2547号", "(2019)京0491民初2547号", "〔2019〕京0491民初2547号"])
def test_a_case_number_goes_straight_to_its_ruling(client, number: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/search", query_string={"q": number})
    assert response.status_code == 302 and response.headers["Location"] == "/entries/bic-2019-anshua-liuliang"
    body = client.get("/api/search", query_string={"q": number}).get_json()
    assert body["redirect"] == "/entries/bic-2019-anshua-liuliang"
    assert [hit["id"] for hit in body["results"]] == ["bic-2019-anshua-liuliang"]
    # With other words, or asked for the list, the list is shown.
    assert client.get("/search", query_string={"q": number, "list": "1"}).status_code == 200
    assert client.get("/api/search", query_string={"q": number + " 暗刷"}).get_json()["redirect"] is None


@pytest.mark.parametrize("number", ["（2018）鄂0981刑初183号", "2018鄂0981刑初183", "（2018） 鄂0981 刑初 183 号", "(2015)上刑初字第53号"])
def test_a_case_number_of_any_province_goes_straight_to_its_ruling(tmp_path, number: str) -> None:  # type: ignore[no-untyped-def]
    # Only Beijing's 京 was taken for part of a case number: 鄂, 沪, 粤… numbers listed results instead.
    from indexer import SearchIndex
    from tests.support import build_tree, entry_text

    canonical = "（2015）上刑初字第53号" if "字" in number else "（2018）鄂0981刑初183号"
    index = SearchIndex(build_tree(tmp_path, {
        "rulings/hubei.md": entry_text(title="王某非法狩猎案", case_number="（2018）鄂0981刑初183号", court="湖北省应城市人民法院"),
        "rulings/henan.md": entry_text(title="李某盗窃案", case_number="（2015）上刑初字第53号", court="河南省郑州市上街区人民法院"),
    }))
    page = index.search(number)
    assert page.redirect is not None and [hit.case_number for hit in page.results] == [canonical]
    assert index.search(number + " 狩猎").redirect is None


def test_a_case_number_two_courts_gave_lists_both_rulings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from indexer import SearchIndex
    from tests.support import build_tree, entry_text

    number = "（2015）上刑初字第53号"  # before 2016, two courts could give the same number
    index = SearchIndex(build_tree(tmp_path, {
        "rulings/henan.md": entry_text(title="李某盗窃案", case_number=number, court="河南省郑州市上街区人民法院"),
        "rulings/jiangxi.md": entry_text(title="张某盗窃案", case_number=number, court="江西省上犹县人民法院"),
    }))
    page = index.search(number)
    assert page.redirect is None
    assert {hit.court for hit in page.results[:2]} == {"河南省郑州市上街区人民法院", "江西省上犹县人民法院"}


# -- statute pages --------------------------------------------------------------------------


def test_statute_page_lists_cited_by_beside_each_article_from_one_query(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from whoosh.searching import Searcher

    from webapp import search_index
    from webapp.entries import entry_view

    searches: list[str] = []
    real = Searcher.search
    monkeypatch.setattr(Searcher, "search", lambda self, q, *a, **k: (searches.append(repr(q)), real(self, q, *a, **k))[1])
    with app.test_request_context():
        view = entry_view(search_index(app), "民法典-合同编")
    assert len(view["articles"]) > 400
    assert len([q for q in searches if "statutes" in q]) == 1, searches
    assert len(searches) <= 5
    assert view["cited_by"]["第四百七十二条"][0]["id"] == "bic-2021-meituan-delivery-fee"
    html = app.test_client().get("/entries/" + "民法典-合同编").get_data(as_text=True)
    article = html.index('<p id="第四百七十二条" class="article">')
    beside = html.index('<div class="article-cited-by">', article)
    assert beside < html.index('<p id="第四百七十三条" class="article">')
    assert 'href="/entries/bic-2021-meituan-delivery-fee"' in html[beside:html.index("</div>", beside)]


def test_citations_of_a_repealed_law_carry_a_badge(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/entries/bic-2019-anshua-liuliang").get_data(as_text=True)
    assert '《合同法》第五十二条第四项<span class="badge repealed" title="已废止（2021-01-01，《民法典》第一千二百六十条）">已废止</span>' in html
    citations = html[html.index('class="citations"'):]
    assert re.search(r"<li>合同法 第五十二条 <span class=\"badge repealed\"[^>]*>已废止</span></li>", citations)
    entry = client.get("/api/entries/bic-2019-anshua-liuliang").get_json()["entry"]
    assert {"citation": "合同法#第五十二条", "url": None,
            "repealed": {"repealed_on": "2021-01-01", "by": "《民法典》第一千二百六十条",
                         "source": "statute text: lawrefbook-laws/民法典/附则.md"}} in entry["citations"]
    # A law in force has no badge.
    assert "已废止" not in client.get("/entries/bic-2021-meituan-delivery-fee").get_data(as_text=True)


# -- CSV, Atom, citation --------------------------------------------------------------------


def test_search_csv_has_the_same_results_as_the_page(client) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    query = {"q": "刷单", "type": "ruling", "per_page": "20"}
    response = client.get("/search.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    api = client.get("/api/search", query_string=query).get_json()
    assert [r["id"] for r in rows] == [h["id"] for h in api["results"]]
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    anshua = next(r for r in rows if r["id"] == "bic-2019-anshua-liuliang")
    assert anshua["case_number"] == "（2019）京0491民初2547号" and anshua["court"] == "北京互联网法院"
    assert anshua["url"] == "http://localhost/entries/bic-2019-anshua-liuliang" and anshua["follow"] == "可以参考"
    html = client.get("/search", query_string=query).get_data(as_text=True)
    assert 'id="csv-link" href="/search.csv?q=%E5%88%B7%E5%8D%95&amp;type=ruling&amp;per_page=20"' in html
    assert client.get("/search.csv", query_string={"q": "x", "per_page": "1000"}).status_code == 400


def test_csv_cells_never_start_a_formula() -> None:
    from webapp.pages import csv_safe

    assert csv_safe("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and csv_safe("@a") == "'@a" and csv_safe("普通") == "普通"


def test_search_atom_feed_parses_and_carries_the_results(client) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    query = {"q": "刷单", "type": "ruling", "sort": "date"}
    response = client.get("/search.atom", query_string=query)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.data)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.find("a:title", ns).text == "NetCourt KB: 刷单"
    assert feed.find("a:link[@rel='self']", ns).get("href") == "http://localhost/search.atom?q=%E5%88%B7%E5%8D%95&type=ruling&sort=date"
    assert feed.find("a:link[@rel='alternate']", ns).get("href") == "http://localhost/search?q=%E5%88%B7%E5%8D%95&type=ruling&sort=date"
    api = client.get("/api/search", query_string=query).get_json()
    entries = feed.findall("a:entry", ns)
    assert [e.find("a:link", ns).get("href") for e in entries] == ["http://localhost" + h["url"] for h in api["results"]]
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find("a:updated", ns).text)
        assert entry.find("a:id", ns).text and entry.find("a:title", ns).text
    summary = entries[0].find("a:summary", ns)
    assert summary.get("type") == "html" and "<mark" in summary.text  # escaped HTML, read back as HTML
    html = client.get("/search", query_string=query).get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="订阅本检索" '
            'href="/search.atom?q=%E5%88%B7%E5%8D%95&amp;type=ruling&amp;sort=date">') in html


def test_ruling_page_offers_its_citation(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/entries/bic-2019-anshua-liuliang").get_data(as_text=True)
    assert 'data-citation="常某某诉许某网络服务合同纠纷案（“暗刷流量”案），北京互联网法院（2019）京0491民初2547号，2019-05-23。"' in html
    assert '<script src="/static/copy.js"></script>' in html
    guideline = client.get("/entries/guide-burden-of-proof-online-shopping").get_data(as_text=True)
    assert "copy-citation" not in guideline and "copy.js" not in guideline
