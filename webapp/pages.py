"""HTML pages: search and entries. Same data as the API, rendered by templates."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kb.render import checklist
from webapp import search_index
from webapp.entries import entry_view
from webapp.params import search_params

bp = Blueprint("pages", __name__)

FACET_LABELS = {
    "type": _l("类型"), "court": _l("法院"), "court_level": _l("法院层级"), "cause": _l("案由"), "year": _l("年份"), "procedure": _l("程序"),
    "authority": _l("权威层级"), "level": _l("效力层级"),
}
TYPE_LABELS = {"ruling": _l("裁判"), "guideline": _l("指引"), "statute": _l("法条")}


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
    answer = None
    if params["query"] or params["filters"]:
        index = search_index(current_app)
        result = index.search(**params)
        if result.answer:
            stored = index.get_entry(result.answer["id"])
            if stored:
                heading, items = checklist(stored.get("markdown") or "")
                answer = dict(result.answer, summary=stored["meta"].get("summary"), summary_en=stored["meta"].get("summary_en"),
                              checklist_heading=heading, checklist=items)
    return render_template("search.html", result=result, answer=answer, args=args, page_url=page_url,
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
        # gettext, not lazy_gettext: a lazy string counts as safe markup in templates, and the
        # id is the visitor's text (a 404 page must not reflect HTML).
        abort(404, description=_("没有这个条目：%(id)s", id=entry_id))
    return render_template("entry.html", entry=view, type_labels=TYPE_LABELS)


@bp.get("/-/lang/<code>")
def set_language(code: str):  # type: ignore[no-untyped-def]
    """Switch the interface language (cookie) and go back to the page the user was on."""
    from webapp import LANGUAGE_COOKIE

    if code not in current_app.config["LANGUAGES"]:
        abort(404, description=f"unknown language '{code}'.")
    response = redirect(local_path(request.args.get("next") or "/"))
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def local_path(target: str) -> str:
    """Return ``target`` if it is a path on this site, else "/".

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    ``/<TAB>/evil.example`` and ``/\\evil.example`` both lead off the site: any control
    character or backslash makes the target unsafe, as does anything with a scheme or a host.
    """
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in target):
        return "/"
    if not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
