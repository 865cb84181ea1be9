"""An entry as pages and API show it: rendered body, links resolved, articles, cited-by, backlinks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import abort, current_app, redirect, url_for
from flask_babel import gettext as _
from markupsafe import escape

from indexer import SearchIndex
from kb.citations import Citation, extract_citations
from kb.links import citation_key
from kb.render import entry_url, render_markdown


def find_entry(entry_id: str, endpoint: str, missing: str) -> dict[str, Any]:
    """Return the view of ``entry_id`` for the route ``endpoint`` (pages.entry or api.entry).

    An old id listed in an entry's ``aliases`` ends the request with a 301 to ``endpoint`` of that
    entry; an id of no entry ends it with a 404 whose description is ``missing``.
    """
    from webapp import search_index

    index = search_index(current_app)
    view = entry_view(index, entry_id)
    if view is None:
        target = index.find_alias(entry_id)
        if target:
            abort(redirect(url_for(endpoint, entry_id=target), code=301))
        abort(404, description=missing)
    return view


def entry_view(index: SearchIndex, entry_id: str) -> dict[str, Any] | None:
    """Return everything the entry page shows, or None if the index has no entry ``entry_id``."""
    stored = index.get_entry(entry_id)
    if stored is None:
        return None
    links: dict[str, str] = stored["links"]
    meta = stored["meta"]

    def link_entry(target: str, anchor: str | None) -> str | None:
        return entry_url(target, anchor) if index.get_entry(target) is not None else None

    def link_citation(citation: Citation) -> str | None:
        target = links.get(citation_key(citation))
        if not target:
            return None
        statute_id, _, label = target.partition("#")
        return entry_url(statute_id, label)

    is_statute = stored.get("type") == "statute"
    repealed = index.repealed_laws()
    html = render_markdown(stored.get("markdown") or "", link_entry=link_entry, link_citation=link_citation,
                           title_of=lambda target: (index.get_entry(target) or {}).get("title"),
                           article_anchors=is_statute)
    view: dict[str, Any] = {
        "id": stored["id"],
        "type": stored["type"],
        "title": stored["title"],
        "url": entry_url(stored["id"]),
        "updated": stored.get("updated") or None,
        "meta": meta,
        "html": mark_repealed(html, repealed),
        "citations": [
            {"citation": key, "url": entry_url(*target.split("#", 1))} for key, target in links.items()
        ] + repealed_citations(meta, links, repealed),
        "backlinks": [hit.to_dict() for hit in index.backlinks(stored["id"])],
        "related": [
            {"id": rid, "title": (index.get_entry(rid) or {}).get("title", rid), "url": entry_url(rid)}
            for rid in meta.get("related", [])
        ],
    }
    view.update(entry_navigation(index, stored))
    if stored["type"] == "ruling":
        view["citation"] = ruling_citation(stored["title"], meta)
    if is_statute:
        short = meta.get("short_title") or stored["title"]
        cited_by = index.cited_by_law(short)  # one query for the whole law
        labels = [article["article"] for article in index.articles_of(stored["id"])]
        view["articles"] = labels
        view["cited_by"] = {label: [hit.to_dict() for hit in cited_by[label]] for label in labels if cited_by.get(label)}
        view["html"] = cited_beside_articles(view["html"], view["cited_by"])
    return view


def entry_navigation(index: SearchIndex, stored: dict[str, Any]) -> dict[str, Any]:
    """Return the entry's file, its "edit this file" URL (setting EDIT_URL) and its previous and next entries."""
    path = stored.get("path") or ""
    prefix = current_app.config.get("EDIT_URL") or ""
    previous, following = index.neighbours(stored["id"], stored["type"])
    return {
        "path": path,
        "edit_url": prefix.rstrip("/") + "/" + quote(path) if prefix and path else None,
        "previous": {"id": previous["id"], "title": previous["title"], "url": entry_url(previous["id"])} if previous else None,
        "next": {"id": following["id"], "title": following["title"], "url": entry_url(following["id"])} if following else None,
    }


def ruling_citation(title: str, meta: dict[str, Any]) -> str:
    """Return how a ruling is cited: 标题，法院（年份）案号，裁判日期。"""
    court_and_number = f"{meta.get('court') or ''}{meta.get('case_number') or ''}"
    return "，".join(part for part in (title, court_and_number, meta.get("decided_on") or "") if part) + "。"


def repealed_citations(meta: dict[str, Any], links: dict[str, str], repealed: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Return the entry's citations of repealed laws (no text kept, so no link), with what replaced them."""
    found = []
    for text in meta.get("statutes") or []:
        for match in extract_citations(str(text)):
            key = citation_key(match.citation)
            law = key.split("#", 1)[0]
            if law in repealed and key not in links and key not in [c["citation"] for c in found]:
                found.append({"citation": key, "url": None, "repealed": repealed[law]})
    return found


def mark_repealed(html: str, repealed: dict[str, dict[str, str]]) -> str:
    """Put an 已废止 badge after each citation of a repealed law in rendered text (never inside a tag or a link)."""
    if not repealed:
        return html
    pieces, last = [], 0
    for match in extract_citations(html):
        law = citation_key(match.citation).split("#", 1)[0]
        if law not in repealed or match.start < last:
            continue
        before = html[last:match.end]
        if html.rfind("<", 0, match.start) > html.rfind(">", 0, match.start):
            continue  # inside a tag
        if html[:match.start].count("<a ") > html[:match.start].count("</a>"):
            continue  # inside a link
        details = repealed[law]
        note = _("已废止") + (f"（{details['repealed_on']}" + (f"，{details['by']}" if details.get("by") else "") + "）" if details.get("repealed_on") else "")
        pieces.append(before)
        pieces.append(f'<span class="badge repealed" title="{escape(note)}">{escape(_("已废止"))}</span>')
        last = match.end
    pieces.append(html[last:])
    return "".join(pieces)


ARTICLE_START = re.compile(r'<p id="([^"]+)" class="article">')


def cited_beside_articles(html: str, cited_by: dict[str, list[dict[str, Any]]]) -> str:
    """Put the list of entries citing an article at the end of that article, where a reader of it looks."""
    if not cited_by:
        return html
    starts = [(m.start(), m.group(1)) for m in ARTICLE_START.finditer(html)]
    pieces, last = [], 0
    for i, (_start, label) in enumerate(starts):
        hits = cited_by.get(label)
        if not hits:
            continue
        end = starts[i + 1][0] if i + 1 < len(starts) else len(html)
        items = "".join(
            f'<li><a href="{escape(hit["url"])}">{escape(hit["title"])}</a>'
            + (f" {escape(hit['case_number'])}" if hit.get("case_number") else "") + "</li>"
            for hit in hits
        )
        pieces.append(html[last:end])
        heading = _("引用%(article)s的条目（%(n)s）", article=label, n=len(hits))
        pieces.append(f'<div class="article-cited-by"><p>{escape(heading)}</p><ul>{items}</ul></div>')
        last = end
    pieces.append(html[last:])
    return "".join(pieces)
