"""The retrieval report end to end in Debian's Chromium: search, filter by 案由, open a ruling, see its
similar rulings, add two to the report, export it, print it to PDF and read the PDF back."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import pdf_text

pytestmark = pytest.mark.browser
ART_8_SECTIONS = ["一、检索主体", "二、检索时间", "三、检索平台", "四、检索方法", "五、检索结果", "六、类案裁判要点",
                  "七、待决案件争议焦点", "八、类案运用情况"]


def test_search_filter_similar_report_pdf(page, live_server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    page.fill("input[name=q]", "配送费 网络服务合同")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    page.locator(".facet[data-facet=cause] a", has_text="网络服务合同纠纷").click()
    page.wait_for_url("**cause=**")
    assert page.locator(".hit").count() >= 1
    page.locator(".hit a.title", has_text="陈某诉北京三快").first.click()
    page.wait_for_selector("article.entry")

    similar = page.locator(".similar-hit")
    assert similar.count() >= 2
    first = similar.first
    assert first.get_attribute("data-id") == "bj4-2021-meituan-delivery-fee-appeal"  # the same case on appeal ranks first
    assert first.locator(".why-labels").inner_text() == "网络服务合同纠纷"
    assert first.locator(".why-terms mark").count() >= 3
    chosen = [similar.nth(i).get_attribute("data-id") for i in range(2)]
    for i in range(2):
        similar.nth(i).locator("button.report-add").click()
    assert page.locator("#report-count").inner_text() == "2"
    assert similar.first.locator("button.report-add").get_attribute("aria-pressed") == "true"

    page.locator("#report-link").click()
    page.wait_for_selector("#report-form")
    items = page.locator(".report-case-item")
    # The list is filled by report.js from the browser's storage after the form appears: wait for it
    # (on a loaded machine the first read once found it still empty).
    expect(items).to_have_count(len(chosen))
    assert [items.nth(i).get_attribute("data-id") for i in range(items.count())] == chosen
    assert page.locator("#report-searches li").count() >= 2  # the search, the filtered search, the similar search
    page.fill("input[name=searcher]", "张法官")
    page.fill("input[name=pending]", "（2024）京0491民初1号")
    page.fill("textarea[name=dispute]", "外卖平台结算时多收配送费是否构成欺诈")
    items.first.locator("textarea").fill("同一案件的二审，维持一审。")

    with page.expect_download() as download:
        page.click("#export-md")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert all(section in markdown for section in ART_8_SECTIONS)
    assert "（2021）京04民终407号" in markdown and "同一案件的二审" in markdown

    page.click("#export-html")
    page.wait_for_selector(".report-document")
    pdf = tmp_path / "report.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=False)
    text = pdf_text(pdf)
    flat = "".join(text.split())
    for section in ART_8_SECTIONS:
        assert section in flat, section
    for expected in ["张法官", "北京时间", "NetCourtKB", "关键词检索", "配送费网络服务合同", "案由=网络服务合同纠纷", "类案检索",
                     "（2021）京04民终407号", "北京市第四中级人民法院", "2021-09-02", "裁判要点", "可以参考",
                     "外卖平台结算时多收配送费是否构成欺诈", "同一案件的二审"]:
        assert expected in flat, expected
    assert "打印或存为PDF" not in flat  # the toolbar is not printed
    assert page.errors == []
