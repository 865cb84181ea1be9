"""HTML pages: search and entries. Same data as the API, rendered by templates."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from webapp import search_index
from webapp.entries import entry_view
from webapp.params import search_params

bp = Blueprint("pages", __name__)

FACET_LABELS = {
    "type": "类型", "court": "法院", "cause": "案由", "year": "年份", "procedure": "程序",
    "authority": "权威层级", "level": "效力层级",
}
TYPE_LABELS = {"ruling": "裁判", "guideline": "指引", "statute": "法条"}


def page_url(args: dict[str, str], **changes: object) -> str:
    """Return the search URL with ``changes`` applied to the current parameters (None removes one)."""
    merged = {k: v for k, v in args.items() if v not in (None, "")}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return url_for("pages.search") + ("?" + urlencode(merged) if merged else "")


@bp.get("/")
@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Show the search form, and results when there is a query or a filter."""
    params = search_params(request.args)
    args = request.args.to_dict()
    result = None
    if params["query"] or params["filters"]:
        result = search_index(current_app).search(**params)
    return render_template("search.html", result=result, args=args, page_url=page_url,
                           facet_labels=FACET_LABELS, type_labels=TYPE_LABELS)


@bp.get("/entries/<path:entry_id>")
def entry(entry_id: str):  # type: ignore[no-untyped-def]
    """Show one entry; an old id listed in ``aliases`` redirects with 301."""
    index = search_index(current_app)
    view = entry_view(index, entry_id)
    if view is None:
        target = index.find_alias(entry_id)
        if target:
            return redirect(url_for("pages.entry", entry_id=target), code=301)
        abort(404, description=f"没有这个条目：{entry_id}")
    return render_template("entry.html", entry=view, type_labels=TYPE_LABELS)
