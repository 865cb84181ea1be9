"""An entry as pages and API show it: rendered body, links resolved, articles, cited-by, backlinks."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app

from indexer import SearchIndex
from indexer.browse import neighbours
from kb.citations import Citation
from kb.links import citation_key
from kb.render import entry_url, render_markdown


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
    view: dict[str, Any] = {
        "id": stored["id"],
        "type": stored["type"],
        "title": stored["title"],
        "url": entry_url(stored["id"]),
        "updated": stored.get("updated") or None,
        "meta": meta,
        "html": render_markdown(stored.get("markdown") or "", link_entry=link_entry, link_citation=link_citation,
                                title_of=lambda target: (index.get_entry(target) or {}).get("title"),
                                article_anchors=is_statute),
        "citations": [
            {"citation": key, "url": entry_url(*target.split("#", 1))} for key, target in links.items()
        ],
        "backlinks": [hit.to_dict() for hit in index.backlinks(stored["id"])],
        "related": [
            {"id": rid, "title": (index.get_entry(rid) or {}).get("title", rid), "url": entry_url(rid)}
            for rid in meta.get("related", [])
        ],
    }
    view.update(entry_navigation(index, stored))
    if is_statute:
        short = meta.get("short_title") or stored["title"]
        articles = []
        for article in index.articles_of(stored["id"]):
            key = f"{short}#{article['article']}"
            cited_by = [hit.to_dict() for hit in index.cited_by(key)]
            articles.append({"article": article["article"], "url": entry_url(stored["id"], article["article"]),
                             "cited_by": cited_by})
        view["articles"] = [a["article"] for a in articles]
        view["cited_by"] = {a["article"]: a["cited_by"] for a in articles if a["cited_by"]}
    return view


def entry_navigation(index: SearchIndex, stored: dict[str, Any]) -> dict[str, Any]:
    """Return the entry's file, its "edit this file" URL (setting EDIT_URL) and its previous and next entries."""
    path = stored.get("path") or ""
    prefix = current_app.config.get("EDIT_URL") or ""
    searcher = index.searcher()
    previous, following = neighbours(searcher, stored["id"], stored["type"], (str(index.build_dir), searcher.reader().generation()))
    return {
        "path": path,
        "edit_url": prefix.rstrip("/") + "/" + quote(path) if prefix and path else None,
        "previous": {"id": previous["id"], "title": previous["title"], "url": entry_url(previous["id"])} if previous else None,
        "next": {"id": following["id"], "title": following["title"], "url": entry_url(following["id"])} if following else None,
    }

