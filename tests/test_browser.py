"""End to end in Debian's headless Chromium, driven by Playwright: what a person does."""

from __future__ import annotations

import pytest

from tests.support import PAYLOADS, build_tree, entry_text, serving

pytestmark = pytest.mark.browser


def test_search_facet_and_open_entry(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    page.fill("input[name=q]", "刷单")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    first = page.locator(".hit").first
    assert first.locator("mark").count() >= 1  # highlighted
    total_before = int(page.locator("#total").get_attribute("data-total"))
    page.locator(".facet[data-facet=type] a", has_text="裁判").click()
    page.wait_for_url("**type=ruling**")
    total_after = int(page.locator("#total").get_attribute("data-total"))
    assert 0 < total_after < total_before
    assert all(t == "裁判" for t in page.locator(".hit .badge").all_inner_texts() if t in ("裁判", "指引", "法条"))
    title = page.locator(".hit a.title").first.inner_text()
    page.locator(".hit a.title").first.click()
    page.wait_for_selector("article.entry")
    assert page.locator("article.entry h1").inner_text() == title
    assert page.errors == []


def test_hostile_content_runs_no_script(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = "\n\n".join(PAYLOADS.values()) + "\n\n<img src=x onerror=\"window.__pwned=1\">\n\n<svg><script>window.__pwned=2</script></svg>"
    index_dir = build_tree(tmp_path, {"guidelines/hostile.md": entry_text(type_="guideline", title="恶意内容", body=body)})
    with serving(index_dir) as base:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/entries/hostile")
        page.wait_for_selector("article.entry")
        page.wait_for_timeout(300)
        assert dialogs == []
        assert page.evaluate("window.__pwned === undefined")


def test_open_entry_reloads_when_its_file_changes(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    content = tmp_path / "content"
    (content / "rulings").mkdir(parents=True)
    path = content / "rulings" / "live.md"
    path.write_text(entry_text(title="实时预览", body="第一版正文。"), encoding="utf-8")
    with serving(tmp_path / "ix", "--watch", "--content", str(content)) as base:
        page.goto(f"{base}/entries/live")
        assert "第一版正文" in page.locator("article .body").inner_text()
        page.wait_for_timeout(700)  # let the page take its first status stamp
        path.write_text(entry_text(title="实时预览", body="第二版正文，已经修改。"), encoding="utf-8")
        from playwright.sync_api import expect

        expect(page.locator("article .body")).to_contain_text("第二版正文", timeout=15000)
        assert page.errors == []


def test_english_interface_and_the_online_shopping_guide(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    page.locator("#lang-en").click()
    page.wait_for_selector("#lang-zh")
    assert page.locator("form.search button").inner_text() == "Search"
    page.fill("input[name=q]", "online shopping burden of proof")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    assert "results" in page.locator("#total").inner_text()
    card = page.locator("#answer")
    assert card.count() == 1
    card.locator("a.open-guide").click()
    page.wait_for_selector("article.entry")
    assert page.locator("article.entry h1").inner_text() == "网络购物合同纠纷举证指南"
    assert "burden-of-proof" in page.url
    assert page.locator(".summary[lang=en]").count() == 1
