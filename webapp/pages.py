"""HTML pages: search and entries. Same data as the API, rendered by templates."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from indexer import schema
from indexer.search import rfc3339
from webapp import search_index
from webapp.entries import find_entry
from webapp.params import search_params

bp = Blueprint("pages", __name__)

FILTER_LABELS = {name: _l(label) for name, label in schema.FILTER_LABELS.items()}  # every filter's, facets first (indexer/schema.py)
TYPE_LABELS = {"ruling": _l("裁判"), "guideline": _l("指引"), "statute": _l("法条")}


def page_url(args: Mapping[str, str], endpoint: str = "pages.search", **changes: object) -> str:
    """Return the search URL with ``changes`` applied to the current parameters (None removes one, a list repeats one)."""
    getlist = getattr(args, "getlist", None)
    merged: dict[str, list[str]] = {}
    for key in args:
        values = getlist(key) if getlist else [args[key]]
        merged[key] = [v for v in values if v not in (None, "")]
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, (list, tuple)):
            merged[key] = [str(v) for v in value]
        else:
            merged[key] = [str(value)]
    pairs = [(k, v) for k, values in merged.items() for v in values]
    return url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")


@bp.get("/")
@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """Show the search form, and results when there is a query or a filter."""
    params = search_params(request.args)
    args = request.args
    result = None
    if params["query"] or params["filters"]:
        result = search_index(current_app).search(**params)
        if result.redirect and result.redirect.startswith("/entries/") and not request.args.get("list"):
            # A case number goes straight to its ruling (?list=1 shows the result list instead).
            return redirect(result.redirect)
    return render_template("search.html", result=result, answer=result.answer if result else None, args=args, page_url=page_url,
                           facet_labels=FILTER_LABELS, type_labels=TYPE_LABELS)


CSV_COLUMNS = ("rank", "id", "type", "title", "url", "case_number", "court", "date", "cause", "charges", "procedure", "authority",
               "follow", "tier", "article", "source_file")


@bp.get("/search.csv")
def search_csv():  # type: ignore[no-untyped-def]
    """Return a page of results as CSV (same parameters as the search page; per_page up to 100)."""
    import csv
    import io

    params = search_params(request.args)
    result = search_index(current_app).search(**params)
    base = request.host_url.rstrip("/")
    out = io.StringIO()
    out.write("\ufeff")  # a BOM: Excel then reads the file as UTF-8, as Chinese users open it
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    first = (result.page - 1) * result.per_page + 1
    for rank, hit in enumerate(result.results, first):
        row = dict(hit.to_dict(), rank=rank, url=base + hit.url)
        writer.writerow({k: csv_safe(_cell(row.get(k))) for k in CSV_COLUMNS})
    response = Response(out.getvalue(), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=\"search.csv\""
    return response


def _cell(value: object) -> str:
    """Return a hit's value as one CSV cell: a list (a judgment's charges) joined by 、."""
    if value is None:
        return ""
    return "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def csv_safe(value: str) -> str:
    """Return a cell that a spreadsheet never runs as a formula (CSV injection: =, +, -, @ first)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/search.atom")
def search_atom():  # type: ignore[no-untyped-def]
    """Return the results of a search as an Atom feed (same parameters as the page), to follow new rulings on a question."""
    params = search_params(request.args)
    result = search_index(current_app).search(**params)
    base = request.host_url.rstrip("/")
    feed_url = base + page_url(request.args, "pages.search_atom", page=None)
    page_link = base + page_url(request.args, page=None)
    entries = [{"title": hit.title, "url": base + hit.url, "updated": rfc3339(hit.updated or hit.date), "type": hit.type,
                "summary": hit.snippet, "court": hit.court, "case_number": hit.case_number} for hit in result.results]
    updated = max((e["updated"] for e in entries), default="1970-01-01T00:00:00Z")
    title = f"{current_app.config['SITE_NAME']}: {result.query or _l('检索结果')}"
    xml = render_template("search_atom.xml", entries=entries, updated=updated, feed_url=feed_url, page_link=page_link, title=title)
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    """Serve the icon browsers ask for at the root, whatever the page links."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/entries/<path:entry_id>")
def entry(entry_id: str):  # type: ignore[no-untyped-def]
    """Show one entry; an old id listed in ``aliases`` redirects with 301."""
    # gettext, not lazy_gettext: a lazy string counts as safe markup in templates, and the
    # id is the visitor's text (a 404 page must not reflect HTML).
    view = find_entry(entry_id, "pages.entry", _("没有这个条目：%(id)s", id=entry_id))
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
