"""The judge's flow on real judgments, in Debian's Chromium (issue #13): search a charge, keep its
judgments with the 罪名 facet, filter by court and year, open a judgment, see similar judgments with their reasons, add them to the
retrieval report and export it. The index holds content/ and 643 real LeCaRD judgments
(tests/conftest.py: judgments_index); skipped without ../shared."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kb.casenumber import PROVINCES
from tests.support import serving

pytestmark = pytest.mark.browser
CHARGE = "危险驾驶罪"
# A word ending in one of these names a place (上海市, 闵行区), bar the common nouns below.
PLACE_ENDS = ("省", "市", "县", "区", "镇", "乡", "村")
NOT_PLACES = {"小区", "社区", "城区", "辖区", "市区", "景区"}


@pytest.fixture(scope="module")
def judge_server(judgments_index: Path) -> Iterator[str]:
    with serving(judgments_index) as base:
        yield base


def defendants(entry) -> set[str]:  # type: ignore[no-untyped-def]
    """Return the names of a judgment's defendants, as its text introduces them (被告人金建华，男 …) and its title opens."""
    names = set(re.findall(r"被告人([\u4e00-\u9fff]{2,3})[，,（(]", entry.body))
    names.update(re.findall(r"^([\u4e00-\u9fff]{2,3}?)(?:危险驾驶|交通肇事|犯)", entry.title))
    return {n for n in names if "某" not in n}


def is_place(term: str, courts: set[str]) -> bool:
    """Return True for a place: a province's one-character name, a part of a court's name (闵行, 上海), or 本市-like words."""
    return ((len(term) == 1 and term in PROVINCES) or any(term in court for court in courts)
            or (term.endswith(PLACE_ENDS) and term not in NOT_PLACES))


def test_judge_flow_on_real_judgments(page, judge_server: str, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def]
    judgments = judgment_entries
    courts = {e.court for e in judgments.values() if e.court}
    page.goto(judge_server + "/")
    page.fill("input[name=q]", CHARGE)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    total = int(page.locator("#total").get_attribute("data-total"))
    assert total >= 300  # the 387 judgments of the charge, and accidents that mention it

    # Keep the judgments of the charge: the accidents that only mention it go.
    convicted = sum(CHARGE in e.charges for e in judgments.values())
    charge_item = page.locator(".facet[data-facet=charge] li", has=page.locator(".label", has_text=CHARGE))
    assert int(charge_item.locator(".count").inner_text()) == convicted
    charge_item.locator("a").click()
    page.wait_for_url("**charge=**")
    in_charge = int(page.locator("#total").get_attribute("data-total"))
    assert in_charge == convicted < total
    shown = page.locator(".hit a.title").evaluate_all("links => links.map(a => decodeURIComponent(a.pathname))")
    assert shown and all(CHARGE in judgments[path.removeprefix("/entries/")].charges for path in shown)
    charges = page.locator(".hit .meta .charges").all_inner_texts()
    assert len(charges) == len(shown) and all(CHARGE in c.split("、") for c in charges)
    assert f"罪名={CHARGE}" in page.locator(".summary").inner_text()

    # Filter by the court with the most judgments, then by its busiest year: facets list by count.
    court_link = page.locator(".facet[data-facet=court] a").first
    court = court_link.locator(".label").inner_text()
    court_link.click()
    page.wait_for_url("**court=**")
    in_court = int(page.locator("#total").get_attribute("data-total"))
    assert 3 <= in_court < in_charge
    years = page.locator(".facet[data-facet=year] li")
    counts = [int(years.nth(i).locator(".count").inner_text()) for i in range(years.count())]
    year_link = years.nth(counts.index(max(counts))).locator("a")
    year = year_link.locator(".label").inner_text()
    year_link.click()
    page.wait_for_url("**year=**")
    in_year = int(page.locator("#total").get_attribute("data-total"))
    assert 2 <= in_year <= in_court
    metas = page.locator(".hit .meta").all_inner_texts()
    assert metas and all(court in m and f" {year}-" in m for m in metas)
    assert f"法院={court}" in page.locator(".summary").inner_text() and f"裁判年份={year}" in page.locator(".summary").inner_text()

    # Open the first judgment: its court, date and charge are in its header.
    title = page.locator(".hit a.title").first.inner_text()
    page.locator(".hit a.title").first.click()
    page.wait_for_selector("article.entry")
    opened = page.locator("article.entry").get_attribute("data-entry-id")
    entry = judgments[opened]
    assert page.locator("article.entry h1").inner_text() == title == entry.title
    assert page.locator(".field-court").inner_text() == court
    assert page.locator(".field-decided_on").inner_text().startswith(year)
    assert CHARGE in page.locator(".field-charges").inner_text()

    # Similar judgments, each with reasons: the shared charge and terms, never a name or a place.
    similar = page.locator(".similar-hit")
    expect(similar.first).to_be_visible()
    assert similar.count() >= 5
    ids = [similar.nth(i).get_attribute("data-id") for i in range(similar.count())]
    assert opened not in ids and all(i in judgments for i in ids)
    names = defendants(entry)
    assert names
    for i, hit_id in enumerate(ids):
        hit = similar.nth(i)
        shared_charges = set(judgments[hit_id].charges) & set(entry.charges)
        if shared_charges:
            assert set(hit.locator(".why-labels").inner_text().split("、")) == shared_charges, hit_id
        terms = hit.locator(".why-terms mark").all_inner_texts()
        assert terms, hit_id
        people = names | defendants(judgments[hit_id])
        assert not [t for t in terms if any(t in n or n in t for n in people)], (hit_id, terms, people)
        assert not [t for t in terms if is_place(t, courts)], (hit_id, terms)
        assert not [t for t in terms if re.fullmatch(r"[零〇一二两三四五六七八九十百千万]+\w?", t)], (hit_id, terms)  # 十五日, 二个
    assert all(CHARGE in judgments[i].charges for i in ids[:3])  # a drunk-driving case first finds drunk driving

    # Add the judgment and its two most similar ones to the report; export it.
    page.locator(".report-this button.report-add").click()
    for i in range(2):
        similar.nth(i).locator("button.report-add").click()
    assert page.locator("#report-count").inner_text() == "3"
    chosen = [opened, *ids[:2]]
    page.locator("#report-link").click()
    page.wait_for_selector("#report-form")
    items = page.locator(".report-case-item")
    expect(items).to_have_count(3)
    assert [items.nth(i).get_attribute("data-id") for i in range(3)] == chosen
    page.fill("input[name=searcher]", "李法官")
    page.fill("textarea[name=dispute]", "醉酒驾驶机动车，血液酒精含量较高且有坦白情节的，如何量刑")

    with page.expect_download() as download:
        page.click("#export-md")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    with page.expect_download() as download:
        page.click("#export-docx")
    from docx import Document

    document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    word = "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])
    for case_id in chosen:
        case = judgments[case_id]
        for text in (markdown, word):
            assert case.title in text and case.case_number in text and case.court in text, case_id
            # An imported judgment has no editor's holding: the report gives the court's outcome instead.
            assert "裁判结果：" + " ".join(case.summary.split()) in text, case_id
    assert markdown.count(f"- 罪名：{CHARGE}") >= 3
    assert "裁判要点：（未填写）" not in markdown and "裁判要点：（未填写）" not in word
    assert f"关键词检索：{CHARGE}；筛选：罪名={CHARGE}；结果 {in_charge} 件" in markdown
    assert f"关键词检索：{CHARGE}；筛选：罪名={CHARGE}；法院={court}；裁判年份={year}；结果 {in_year} 件" in markdown
    assert f"类案检索：与《{title}》相似" in markdown
    assert "李法官" in word and f"法院={court}" in word
    assert page.errors == []
