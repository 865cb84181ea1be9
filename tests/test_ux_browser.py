"""What litigants and judges see (issue #15), in Debian's headless Chromium: phone width,
accessibility (axe-core), autocomplete, copy citation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import ROOT, new_page, pdf_text, serving

pytestmark = pytest.mark.browser

# axe-core 4.14.1 from npm (`npm pack axe-core@4.14.1`), vendored with its MPL-2.0 licence: the test
# run needs neither Node nor the network. tests/vendor/axe-core/README.md says how to update it.
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
STATUTE = "/entries/" + quote("民法典-合同编")
TABLE_ENTRY = "/entries/guide-burden-of-proof-online-infringement"
RULING = "/entries/bic-2021-haoping-fanxian-fraud"


@pytest.fixture(scope="module")
def server(content_index: Path) -> Iterator[str]:
    """Serve the bundled content's index on a free port, once for this module."""
    with serving(content_index) as base:
        yield base


@pytest.fixture
def phone(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context, page = new_page(browser, timeout=15_000, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context, page = new_page(browser, timeout=15_000, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


def overflow(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Return the document's scroll width and the viewport's width."""
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_phone_shows_results_first_and_nothing_wider_than_the_screen(phone, server: str) -> None:  # type: ignore[no-untyped-def]
    phone.goto(server + "/search?q=" + quote("刷单"))
    first_hit = phone.locator(".hit").first.bounding_box()
    facets = phone.locator("aside.facets").bounding_box()
    assert first_hit["y"] + 40 < PHONE["height"], f"first hit at {first_hit['y']} px, below the fold"
    assert first_hit["y"] < facets["y"]
    # In document (and so tab) order too: results, then facets.
    assert phone.evaluate("""() => {
        const hit = document.querySelector('.hit a.title'), facet = document.querySelector('aside.facets a');
        return Boolean(hit.compareDocumentPosition(facet) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    width, viewport = overflow(phone)
    assert width <= viewport, f"search page is {width} px wide at {viewport} px"

    phone.goto(server + TABLE_ENTRY)
    assert phone.locator(".table-wrap table").count() >= 1
    width, viewport = overflow(phone)
    assert width <= viewport, f"entry with a table is {width} px wide at {viewport} px"
    wrap = phone.locator(".table-wrap").first
    # The five-column table scrolls inside its wrapper instead of shrinking to a few characters a line.
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    header_width = phone.locator(".table-wrap th").first.bounding_box()["width"]
    assert header_width >= 80, f"first column squeezed to {header_width} px"

    phone.goto(server + STATUTE)
    width, viewport = overflow(phone)
    assert width <= viewport, f"statute page is {width} px wide at {viewport} px"

    phone.goto(server + RULING)
    width, viewport = overflow(phone)
    assert width <= viewport, f"ruling page (long source URLs) is {width} px wide at {viewport} px"
    assert phone.errors == []


def test_results_page_has_a_heading_a_skip_link_and_a_favicon(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/search?q=" + quote("刷单"))
    assert "刷单" in page.locator("main h1").inner_text()
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["x"] >= 0  # visible once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next stops are the results, before any facet.
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("""() => {
            const el = document.activeElement;
            return el.closest('aside.facets') ? 'facet' : el.closest('.hit') ? 'hit' : 'other';
        }"""))
    assert "hit" in stops and "facet" in stops
    assert stops.index("hit") < stops.index("facet")
    assert page.request.get(server + "/favicon.ico").status == 200
    assert page.failed == []


AXE_PAGES = {
    "search": "/search?q=" + quote("网购要怎么举证"),
    "entry (guideline)": TABLE_ENTRY,
    "statute": STATUTE,
    "ruling": RULING,
    "report": "/report",
    "problems": "/-/problems",
}


def serious_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Run axe-core in the page; return its serious and critical violations with their targets."""
    # Evaluated through the DevTools protocol: the page's strict CSP (no inline script) still holds.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def report(violations: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} at {v['targets']}" for v in violations)


@pytest.mark.parametrize("name", list(AXE_PAGES))
def test_axe_finds_no_serious_or_critical_violations(page, server: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + AXE_PAGES[name])
    page.wait_for_load_state("load")
    serious = serious_violations(page)
    assert serious == [], report(serious)
    assert page.errors == []


def test_axe_at_phone_width_with_suggestions_open(phone, server: str) -> None:  # type: ignore[no-untyped-def]
    phone.goto(server + AXE_PAGES["search"])
    box = phone.locator("input[name=q]")
    box.fill("")
    box.press_sequentially("举证", delay=50)
    phone.locator("#search-suggestions [role=option]").first.wait_for()
    box.press("ArrowDown")
    serious = serious_violations(phone)
    assert serious == [], report(serious)
    assert phone.errors == []


def test_search_box_suggests_and_a_suggestion_is_picked_with_the_keyboard(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/")
    box = page.locator("input[name=q]")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-autocomplete") == "list"
    box.press_sequentially("举证", delay=50)
    options = page.locator("#search-suggestions [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    texts = options.all_inner_texts()
    assert "举证责任" in texts
    # Down to 举证责任, then Enter: the search for it runs.
    for _ in range(texts.index("举证责任") + 1):
        box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").inner_text() == "举证责任"
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("input[name=q]").input_value() == "举证责任"
    assert page.locator(".hit").count() > 0
    # Escape closes the list and leaves the text as typed.
    box = page.locator("input[name=q]")
    box.fill("")
    box.press_sequentially("网络购物", delay=50)
    page.locator("#search-suggestions [role=option]").first.wait_for()
    box.press("Escape")
    assert page.locator("#search-suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false" and box.input_value() == "网络购物"
    assert page.errors == []


def test_report_pdf_keeps_the_court_column_readable(page, server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/report")
    # Submit the export form as the builder would (a form post; the page's CSP allows posts to itself).
    page.evaluate("""() => {
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/report/export';
        const fields = [['format', 'html'], ['id', 'bj4-2021-meituan-delivery-fee-appeal'], ['id', 'bic-minor-comic-app-topup'],
                        ['id', 'bic-2019-anshua-liuliang'], ['searcher', '张法官'], ['dispute', '配送费是否构成欺诈']];
        for (const [name, value] of fields) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();
    }""")
    page.wait_for_selector(".report-document")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    for cell in page.locator(".report-table td.court").all():
        lines = cell.evaluate("td => { const r = document.createRange(); r.selectNodeContents(td);"
                              " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }")
        assert lines <= 2, f"{cell.inner_text()} takes {lines} lines"
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    text = pdf_text(pdf, "-layout")
    rows = [line for line in text.splitlines() if "可以参考" in line and ("京" in line)]
    assert any("北京互联网法院" in line for line in rows)  # the court's name on one line, not 2-4 characters a line
    assert any("北京市第四中级" in line for line in rows)
    assert "争议焦点：" in text


def test_copy_citation_puts_the_citation_on_the_clipboard(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context, page = new_page(browser, timeout=15_000)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        page.goto(server + RULING)
        button = page.locator("button.copy-citation")
        assert button.is_visible()
        button.click()
        page.locator("#copy-status", has_text="已复制引用").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == "刘某诉枸杞网店经营公司案：以“好评返现”诱导好评构成欺诈，北京互联网法院，2021。"
        assert page.errors == []
    finally:
        context.close()
