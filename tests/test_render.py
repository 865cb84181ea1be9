"""Markdown rendering: links, anchors, and sanitising of hostile HTML."""

from __future__ import annotations

import pytest

from kb.citations import Citation
from kb.render import plain_text, render_markdown
from tests.support import PAYLOADS


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_is_sanitised(name: str) -> None:
    html = render_markdown("前文\n\n" + PAYLOADS[name] + "\n\n后文").lower()
    for bad in ("<script", "onerror", "onload", "onclick", "javascript:", "<svg", "<iframe", "<style", "<object",
                "<form", "<meta", "data:text/html"):
        assert bad not in html, (name, html)
    assert "前文" in html and "后文" in html


def test_citations_become_links_and_unknown_ones_stay_text() -> None:
    def link(c: Citation) -> str | None:
        return "/entries/xiaobao#第五十五条" if c.article == 55 else None

    html = render_markdown("依《消费者权益保护法》第五十五条与《某法》第一条。", link_citation=link)
    assert '<a class="citation" href="/entries/xiaobao#第五十五条" rel="noopener noreferrer">《消费者权益保护法》第五十五条</a>' in html
    assert "《某法》第一条" in html and html.count("<a ") == 1


def test_wiki_links_and_broken_links() -> None:
    html = render_markdown("见[[known]]、[[known#第三条|第三条]]和[[missing]]。",
                           link_entry=lambda i, a: f"/entries/{i}" + (f"#{a}" if a else "") if i == "known" else None)
    assert '<a class="wiki-link" href="/entries/known" rel="noopener noreferrer">known</a>' in html
    assert '<a class="wiki-link" href="/entries/known#第三条" rel="noopener noreferrer">第三条</a>' in html
    assert '<span class="broken-link">missing</span>' in html


def test_article_anchors() -> None:
    html = render_markdown("## 第一章\n\n第一条 为了保护。\n\n第二条 适用。", article_anchors=True)
    assert '<p id="第一条" class="article">第一条 为了保护。</p>' in html
    assert '<p id="第二条" class="article">' in html


def test_tables_and_checklists_render() -> None:
    html = render_markdown("| 事实 | 举证方 |\n|---|---|\n| 合同成立 | 消费者 |\n\n- [ ] 保存订单截图\n- [x] 公证")
    assert "<table>" in html and "<td>合同成立</td>" in html
    assert '<input type="checkbox" disabled="">' in html or '<input disabled="" type="checkbox">' in html


def test_plain_text_drops_markup() -> None:
    text = plain_text("## 案情\n\n**重要**：见[[a-b|相关案]]与[[c]]，[链接](https://x)。\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                      titles={"c": "丙案"})
    assert "##" not in text and "**" not in text and "[[" not in text and "|" not in text and "---" not in text
    assert "相关案" in text and "丙案" in text and "链接" in text and "https" not in text


def test_checklist_is_the_list_under_a_checklist_heading() -> None:
    from kb.render import checklist

    text = "## 简介\n\n- 不是这个\n\n## 举证清单\n\n1. **截图**：保存页面。\n2. 见[[x|某案]]。\n\n## 相关\n\n- 也不是"
    assert checklist(text) == ("举证清单", ["截图：保存页面。", "见某案。"])
    assert checklist("## 无\n\n- a") == ("", [])
