"""System pages under /-/: content problems, live-reload status, and the Atom feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for

from indexer.status import read_problems
from webapp import public_url, search_index

bp = Blueprint("system", __name__)


def content_problems() -> dict:
    """Return the problems recorded by the latest build of the served index."""
    return read_problems(Path(current_app.config["INDEX_DIR"]))


@bp.app_context_processor
def inject_problems() -> dict:
    """Give every page the problem count, for the banner."""
    return {"problem_count": lambda: content_problems()["total"]}


@bp.get("/-/problems")
def problems():  # type: ignore[no-untyped-def]
    """List the problems in the content, path and line first, as editors read them."""
    return render_template("problems.html", report=content_problems())


@bp.get("/-/problems.json")
def problems_json():  # type: ignore[no-untyped-def]
    """The same problems as JSON."""
    return jsonify({"ok": True, **content_problems()})


@bp.get("/-/status")
def status():  # type: ignore[no-untyped-def]
    """Return a stamp that changes whenever the index or the problems change (pages poll it to reload)."""
    index = search_index(current_app)
    report = content_problems()
    stamp = f"{index.state()}:{report.get('updated')}"
    response = jsonify({"ok": True, "stamp": stamp, "problems": report["total"]})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/feed.xml")
def feed():  # type: ignore[no-untyped-def]
    """Atom feed of rulings and guidelines, newest change first."""
    # Links from KB_BASE_URL, never from the Host header; relative without it, and ids (which
    # must be absolute IRIs) then a URN of the path.
    def ident(path: str) -> str:
        url = public_url(path)
        return url if "://" in url else "urn:netcourt-kb:" + path

    entries = [dict(e, url=public_url(e["url"]), id=ident(e["url"])) for e in search_index(current_app).recent_entries(limit=50)]
    updated = max((e["updated"] for e in entries), default=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    xml = render_template("feed.xml", entries=entries, updated=updated, feed_url=public_url(url_for("system.feed")),
                          feed_id=ident(url_for("system.feed")), site_url=public_url(url_for("pages.search")))
    return Response(xml, mimetype="application/atom+xml")
