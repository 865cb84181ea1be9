"""The retrieval report (类案检索报告): the builder page and the Markdown, Word and print-ready HTML exports."""

from __future__ import annotations

import json
import re

import pytest

ART_8_SECTIONS = ["一、检索主体", "二、检索时间", "三、检索平台", "四、检索方法", "五、检索结果", "六、类案裁判要点",
                  "七、待决案件争议焦点", "八、类案运用情况"]
SEARCHES = json.dumps([
    {"time": "2024-06-01T02:03:04.000Z", "kind": "search", "query": "配送费", "filters": {"cause": "网络服务合同纠纷", "evil": "x"}, "total": 3},
    {"time": "2024-06-01T02:05:00.000Z", "kind": "similar", "query": "与《陈某诉北京三快科技有限公司网络服务合同纠纷案》相似", "filters": {}, "total": 8},
    "not an object",
])


def export(client, fmt: str, **extra):  # type: ignore[no-untyped-def]
    data = {"format": fmt, "id": ["bj4-2021-meituan-delivery-fee-appeal", "bic-minor-comic-app-topup"],
            "searcher": "张法官", "unit": "民一庭", "pending": "（2024）京0491民初1号",
            "dispute": "选购页与结算页配送费不一致是否构成欺诈", "conclusion": "两案均可参考。",
            "note:bj4-2021-meituan-delivery-fee-appeal": "事实基本相同。", "searches": SEARCHES}
    data.update(extra)
    return client.post("/report/export", data=data)


def test_report_page_is_a_form_for_the_script(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/report").get_data(as_text=True)
    assert 'id="report-form"' in html and 'name="dispute"' in html and 'name="searcher"' in html
    assert 'src="/static/report.js"' in html and "<script>" not in html


def test_markdown_export_has_every_part_of_article_8(client) -> None:  # type: ignore[no-untyped-def]
    response = export(client, "md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    for section in ART_8_SECTIONS:
        assert f"## {section}" in text
    assert "- 检索人：张法官" in text and "民一庭" in text
    assert "2024-06-01 10:03 关键词检索：配送费；筛选：案由=网络服务合同纠纷；结果 3 件" in text  # Beijing time
    assert "evil" not in text
    assert "类案检索：与《陈某诉北京三快科技有限公司网络服务合同纠纷案》相似；结果 8 件" in text
    assert "\n- NetCourt KB\n" in text  # no KB_BASE_URL: no address (never the client's Host header)
    # Facts come from the index; the typical case comes first (art. 4).
    first, second = text.index("13岁女孩"), text.index("（2021）京04民终407号")
    assert first < second
    assert "- 权威层级：典型案例" in text and "- 参照或参考：可以参考" in text and "北京市第四中级人民法院" in text
    assert "裁判要点：二审维持一审认定" in text and "事实基本相同。" in text
    assert "选购页与结算页配送费不一致是否构成欺诈" in text and "- 可以参考：1、2" in text


def test_html_export_is_print_ready_and_safe(client) -> None:  # type: ignore[no-untyped-def]
    response = export(client, "html", dispute="<script>alert(1)</script>**焦点**", **{
        "note:bic-minor-comic-app-topup": "<img src=x onerror=alert(1)>意见"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for section in ART_8_SECTIONS:
        assert section in html
    assert "<script>alert" not in html and "onerror" not in html and "<strong>焦点</strong>" in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/report.js" defer>']
    assert "report.css" in html and "（2021）京04民终407号" in html and "应当参照" in html


@pytest.mark.parametrize("changes, message", [
    ({"id": []}, "至少一件裁判"),
    ({"id": ["no-such-ruling"]}, "not rulings"),
    ({"id": ["guide-burden-of-proof-online-shopping"]}, "not rulings"),
    ({"id": [f"r{i}" for i in range(51)]}, "at most 50"),
    ({"searches": "{not json"}, "JSON list"),
    ({"searches": '{"a": 1}'}, "JSON list"),
    ({"format": "pdf"}, "format must be"),
])
def test_bad_exports_are_400(client, changes: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    fmt = changes.pop("format", "md")
    response = export(client, fmt, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_report_in_english(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/-/lang/en")
    html = client.get("/report").get_data(as_text=True)
    assert "Dispute focus" in html and "争议焦点" not in html
    text = export(client, "md").get_data(as_text=True)
    assert "## 1. Searcher" in text and "## 8. Use of the similar cases" in text
    client.get("/-/lang/zh")


def test_search_page_records_the_search_and_offers_rulings(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search", query_string={"q": "配送费", "cause": "网络服务合同纠纷"}).get_data(as_text=True)
    assert 'id="report-record"' in html and 'data-kind="search"' in html and 'data-query="配送费"' in html
    assert "网络服务合同纠纷" in re.search(r"data-filters='([^']*)'", html).group(1)
    assert 'class="report-add" data-id="bj4-2021-meituan-delivery-fee-appeal"' in html


def test_word_export_has_every_part_of_article_8_that_html_has(client) -> None:  # type: ignore[no-untyped-def]
    import io

    from docx import Document

    response = export(client, "docx", facts="原告在选购页看到的配送费低于结算页。")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "report.docx" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ART_8_SECTIONS
    html = export(client, "html").get_data(as_text=True)
    assert [h for h in re.findall(r"<h2>(.*?)</h2>", html)] == headings  # the same sections as the HTML (and so the PDF)
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    assert ["检索人", "张法官"] in tables[0] and ["所在部门", "民一庭"] in tables[0]
    cases = next(t for t in tables if t[0][0] == "#")
    assert cases[0] == ["#", "案件", "案号", "法院", "裁判日期", "权威层级", "参照或参考"]
    assert ["2", "陈某与北京三快科技有限公司网络服务合同纠纷二审案（美团配送费差额案）", "（2021）京04民终407号",
            "北京市第四中级人民法院", "2021-09-02", "其他", "可以参考"] in cases
    assert "2024-06-01 10:03 关键词检索：配送费；筛选：案由=网络服务合同纠纷；结果 3 件" in text
    assert "争议焦点：" in text and "选购页与结算页配送费不一致是否构成欺诈" in text
    assert "基本案情：" in text and "原告在选购页看到的配送费低于结算页。" in text
    assert "裁判要点：二审维持一审认定" in text and "事实基本相同。" in text and "两案均可参考。" in text


def test_platform_is_the_site_and_its_version_and_the_dispute_focus_has_its_label(client) -> None:  # type: ignore[no-untyped-def]
    from kb import __version__

    build = client.get("/-/health").get_json()["build"]
    markdown = export(client, "md").get_data(as_text=True)
    html = export(client, "html").get_data(as_text=True)
    for text in (markdown, html):
        assert build not in text and "索引版本" not in text
        assert f"版本：{__version__}" in text
        assert "争议焦点：" in text.replace("<strong>", "").replace("</strong>", "")
    assert "## 七、待决案件争议焦点\n\n争议焦点：\n\n选购页与结算页配送费不一致是否构成欺诈" in markdown


def test_recorded_search_with_several_values_of_a_facet(client) -> None:  # type: ignore[no-untyped-def]
    searches = json.dumps([{"time": "2024-06-01T02:03:04.000Z", "kind": "search", "query": "合同",
                            "filters": {"type": ["ruling", "guideline"]}, "total": 16}])
    text = export(client, "md", searches=searches).get_data(as_text=True)
    assert "合同；筛选：类型=ruling、guideline；结果 16 件" in text
