"""Markdown to sanitised HTML: wiki-links and statute citations become links, articles get anchors.

Editors' Markdown may hold raw HTML. Everything goes through nh3 (Rust's ammonia, a maintained
allow-list sanitiser) after rendering, so no script, event handler, ``javascript:`` URL or SVG
payload reaches a browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import quote

import markdown
import nh3

from kb.citations import Citation, extract_citations
from kb.entry import heading_anchor
from kb.links import WIKI_LINK

EntryLinker = Callable[[str, str | None], str | None]  # (id, anchor) -> URL, or None if unknown
CitationLinker = Callable[[Citation], str | None]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "mark", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul", "input",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "p": {"id", "class"},
    "span": {"class"},
    "td": {"align"},
    "th": {"align"},
    "input": {"type", "disabled", "checked"},
    "li": {"class"},
}
# `id` and `class` only with the values our own renderer gives them: an editor's `id` or
# `class` could fake a part of the page (the problems banner) or style an outside link as a
# wiki-link. An article anchor is the article's label (第十七条).
OWN_CLASSES = {"a": {"wiki-link", "citation"}, "span": {"broken-link"}, "p": {"article"}, "li": {"task"}}
ARTICLE_ID = re.compile(r"第[一二三四五六七八九十百千零〇两\d]+条(?:之[一二三四五六七八九十]+)?")
LINK_TAG = re.compile(r"<a\s[^>]*>")
CLASS_ATTRIBUTE = re.compile(r'\sclass="[^"]*"')
ARTICLE_PARAGRAPH = re.compile(r"<p>(第[一二三四五六七八九十百千零〇两\d]+条(?:之[一二三四五六七八九十]+)?)(\s)")
TASK_ITEM = re.compile(r"<li>\[([ xX])\]\s")


def entry_url(entry_id: str, anchor: str | None = None) -> str:
    """Return the site URL of an entry (and article anchor)."""
    url = "/entries/" + quote(entry_id, safe="")
    return url + ("#" + quote(anchor, safe="") if anchor else "")


def _markdown_link(label: str, url: str, css: str) -> str:
    label = label.replace("[", "\\[").replace("]", "\\]")
    return f'<a class="{css}" href="{url}">{label}</a>'


def link_markup(text: str, link_entry: EntryLinker, link_citation: CitationLinker,
                title_of: Callable[[str], str | None] | None = None) -> str:
    """Replace ``[[wiki-links]]`` and statute citations in Markdown source with HTML links.

    A wiki-link without a label shows the target's title when ``title_of`` knows it.
    """

    def wiki(match: re.Match[str]) -> str:
        target, anchor, label = (g.strip() if g else None for g in match.groups())
        title = (title_of(target) if title_of and target else None) or target
        shown = label or (f"{title} {anchor}" if anchor else title) or ""
        shown = shown.replace("<", "&lt;").replace(">", "&gt;")
        url = link_entry(target or "", anchor)
        if url is None:
            return f'<span class="broken-link">{shown}</span>'
        return _markdown_link(shown, url, "wiki-link")

    text = WIKI_LINK.sub(wiki, text)
    pieces = []
    last = 0
    for match in extract_citations(text):
        url = link_citation(match.citation)
        if url is None or match.start < last:
            continue
        # Do not touch citations inside a link we just made or inside HTML tags.
        before = text[last:match.start]
        if before.count("<a ") > before.count("</a>") or text.rfind("<", 0, match.start) > text.rfind(">", 0, match.start):
            continue
        pieces.append(before)
        pieces.append(_markdown_link(match.text, url, "citation"))
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces)


MARKDOWN_NOISE = [
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>\n]{1,200}>"), " "),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),
    (re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.M), ""),
    (re.compile(r"\s*\|\s*"), "　"),
    (re.compile(r"^\s*(?:[-*+]|\d+\.)\s+(\[[ xX]\]\s*)?", re.M), ""),
    (re.compile(r"^\s*>\s?", re.M), ""),
    (re.compile(r"(\*\*|__|\*|`)"), ""),
]


def plain_text(text: str, titles: Mapping[str, str] | None = None) -> str:
    """Return Markdown as plain text for indexing and snippets; a wiki-link becomes its label or title."""
    titles = titles or {}
    text = WIKI_LINK.sub(lambda m: (m.group(3) or titles.get(m.group(1).strip(), "")).strip(), text)
    for pattern, replacement in MARKDOWN_NOISE:
        text = pattern.sub(replacement, text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{3,}", "\n\n", text)).strip()


def _own_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        return value if value in OWN_CLASSES.get(tag, ()) else None
    if attribute == "id":
        return value if tag == "p" and ARTICLE_ID.fullmatch(value) else None
    return value


def sanitize(html: str) -> str:
    """Return ``html`` with everything outside the allow-list removed."""
    html = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=_own_attribute,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")
    # A wiki-link or citation class only on a link to an entry.
    return LINK_TAG.sub(lambda m: m[0] if ' href="/entries/' in m[0] else CLASS_ATTRIBUTE.sub("", m[0]), html)


def render_markdown(text: str, *, link_entry: EntryLinker | None = None,
                    link_citation: CitationLinker | None = None, article_anchors: bool = False,
                    title_of: Callable[[str], str | None] | None = None) -> str:
    """Render an entry body to safe HTML."""
    source = link_markup(text, link_entry or (lambda _id, _a: None), link_citation or (lambda _c: None), title_of)
    # toc gives each heading an id, so that [[entry#heading]] links land (kb check checks them).
    html = markdown.markdown(source, extensions=["tables", "sane_lists", "fenced_code", "toc"], output_format="html",
                             extension_configs={"toc": {"slugify": heading_anchor}})
    if article_anchors:
        html = ARTICLE_PARAGRAPH.sub(lambda m: f'<p id="{m.group(1)}" class="article">{m.group(1)}{m.group(2)}', html)
    html = TASK_ITEM.sub(lambda m: '<li class="task"><input type="checkbox" disabled' + (" checked" if m.group(1) != " " else "") + "> ", html)
    return wrap_tables(sanitize(html))


def wrap_tables(html: str) -> str:
    """Put each table in a region that scrolls sideways, so a wide table on a phone scrolls instead of squeezing.

    After sanitising (nh3 would drop the attributes); the region is focusable so that keyboard
    users can scroll it too (axe: scrollable-region-focusable).
    """
    return html.replace("<table>", '<div class="table-wrap" tabindex="0" role="region" aria-label="表格"><table>').replace("</table>", "</table></div>")


CHECKLIST_HEADING = re.compile(r"^#{2,4}\s*(.*(?:清单|checklist).*)$", re.I | re.M)
LIST_ITEM = re.compile(r"^\s*(?:\d+[.、)]|[-*+])\s+(?:\[[ xX]\]\s*)?(.+)$")


def checklist(text: str, titles: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """Return the heading and items of the first section titled 清单/checklist, as plain text.

    ``titles`` maps entry ids to titles, so an unlabelled ``[[id]]`` keeps its words ("可参考
    网络购物合同纠纷举证指南中的举证清单", not "可参考中的举证清单").
    """
    match = CHECKLIST_HEADING.search(text)
    if not match:
        return "", []
    items = []
    for line in text[match.end():].splitlines():
        if re.match(r"^#{1,6}\s", line):
            break
        item = LIST_ITEM.match(line)
        if item:
            items.append(plain_text(item.group(1), titles))
    return match.group(1).strip(), items


def linked_ids(text: str) -> list[str]:
    """Return the entry ids that ``[[links]]`` in ``text`` point to, in order, without repeats."""
    return list(dict.fromkeys(m.group(1).strip() for m in WIKI_LINK.finditer(text)))


HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s.*$", re.M)
TABLE_LINE = re.compile(r"^\s*\|.*$", re.M)


def prose_text(text: str, titles: Mapping[str, str] | None = None) -> str:
    """Return the running text of Markdown for snippets: plain text without headings and tables.

    A snippet is read as a sentence: a section heading ("相关", "法律依据") or a table row cut
    into cells reads as noise in the middle of one.
    """
    return plain_text(TABLE_LINE.sub("", HEADING_LINE.sub("", text)), titles)
