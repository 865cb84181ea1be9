"""The JSON API: the same search and entries as the pages, as JSON."""

from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, current_app, jsonify, request

from indexer import QueryError
from kb import __version__
from webapp import search_index
from webapp.entries import find_entry
from webapp.params import int_param, search_params

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():  # type: ignore[no-untyped-def]
    """Search; same parameters as the search page."""
    page = search_index(current_app).search(**search_params(request.args))
    return jsonify(page.to_dict())


@bp.get("/api/suggest")
def suggest():  # type: ignore[no-untyped-def]
    """Autocomplete: entry titles, statutes, tags and legal terms for what has been typed."""
    query = request.args.get("q", "")
    limit = int_param(request.args, "limit", 10)
    if not 1 <= limit <= 50:
        raise QueryError("limit must be between 1 and 50.")
    items = search_index(current_app).suggest(query, limit)
    return jsonify({"ok": True, "query": query, "suggestions": [s.to_dict() for s in items]})


@bp.get("/api/entries/<path:entry_id>")
def entry(entry_id: str):  # type: ignore[no-untyped-def]
    """Return one entry with its rendered HTML and links; an old id listed in ``aliases`` redirects with 301."""
    return jsonify({"ok": True, "entry": find_entry(entry_id, "api.entry", f"no entry '{entry_id}'.")})


@bp.get("/-/health")
def health():  # type: ignore[no-untyped-def]
    """Report whether searches work (one real search, 503 if it fails) and how many documents the index holds."""
    from webapp import WARM_UP_PATH
    from webapp.errors import error_response

    try:
        index = search_index(current_app)
        index.search(unquote(WARM_UP_PATH.split("q=", 1)[1]), per_page=1)
        return jsonify({"ok": True, "documents": index.count(), "build": index.build_name})
    except Exception as exc:  # noqa: BLE001 - whatever stops a search makes the server unhealthy
        current_app.logger.exception("health check failed")
        return error_response(f"searches fail: {type(exc).__name__}: {str(exc)[:300]}", 503)


@bp.get("/-/version")
def version():  # type: ignore[no-untyped-def]
    """Report the software version."""
    return jsonify({"ok": True, "version": __version__})
