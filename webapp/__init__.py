"""The Flask app: a search UI and a JSON API over one index. Imports indexer and kb."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask

from indexer import SearchIndex
from webapp.limits import MAX_CONTENT_LENGTH

DEFAULTS: dict[str, Any] = {
    # Where the index lives (built by `kb index`). Env: KB_INDEX_DIR.
    "INDEX_DIR": "instance/index",
    # Show draft entries (preview only). Env: KB_SHOW_DRAFTS.
    "SHOW_DRAFTS": False,
    # Name shown in the page header and in retrieval reports. Env: KB_SITE_NAME.
    "SITE_NAME": "NetCourt KB",
    # Reload open pages when the index changes (set by `kb serve --watch`). Env: KB_WATCH.
    "WATCH": False,
    # "Edit this file" on entry pages: the URL the entry's path (content/rulings/x.md) is appended to,
    # e.g. https://github.com/org/kb/edit/main. Unset: the preview shows the file's path. Env: KB_EDIT_URL.
    "EDIT_URL": "",
    # Interface languages; the first is the default. Env: KB_LANGUAGES (JSON list).
    "LANGUAGES": ["zh", "en"],
    # The site's public address, e.g. https://kb.example.org, for the Atom feed and the report's
    # platform line. Never taken from the request's Host header (a client chooses it); unset,
    # links are relative (or built from SERVER_NAME if that is set). Env: KB_BASE_URL.
    "BASE_URL": "",
    # Largest request body read, in bytes; more is a 413 before it is read (webapp/limits.py).
    # Env: KB_MAX_CONTENT_LENGTH.
    "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
    # Largest form field and most form fields (Werkzeug reads no more). Env: KB_MAX_FORM_MEMORY_SIZE, KB_MAX_FORM_PARTS.
    "MAX_FORM_MEMORY_SIZE": MAX_CONTENT_LENGTH,
    "MAX_FORM_PARTS": 1000,
}
LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """Return the interface language: ?lang=, then the lang cookie, then the default (Chinese)."""
    from flask import current_app, request

    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    return languages[0]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then instance config, then KB_* environment, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KB")
    if test_config:
        app.config.from_mapping(test_config)
    app.wsgi_app = quote_raw_query_string(app.wsgi_app)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from flask_babel import Babel

    from webapp import api, errors, openapi, pages, report, system

    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["current_language"] = select_locale

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(report.bp)
    app.register_blueprint(system.bp)
    errors.register(app)
    return app


def quote_raw_query_string(wsgi_app: Callable) -> Callable:
    """Percent-encode raw UTF-8 bytes in the query string (``curl '...?q=刷单'`` sends them unquoted).

    WSGI hands the query string over as latin-1 text; unquoted non-ASCII bytes would otherwise
    be read as latin-1 characters instead of UTF-8, and a search for 刷单 would find nothing.
    """

    def middleware(environ: dict, start_response: Callable) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if query and not query.isascii():
            try:
                raw = query.encode("latin-1")
            except UnicodeEncodeError:
                raw = query.encode("utf-8")
            try:
                # Werkzeug's development server encodes once more (latin-1 -> UTF-8): undo it.
                undone = raw.decode("utf-8").encode("latin-1")
                undone.decode("utf-8")
                raw = undone
            except UnicodeError:
                pass
            environ["QUERY_STRING"] = quote(raw, safe="=&+%;/:,?@!$'()*~-._")
        return wsgi_app(environ, start_response)

    return middleware


def public_url(path: str = "/") -> str:
    """Return ``path`` on the configured public address (BASE_URL, else SERVER_NAME), else ``path`` itself."""
    from flask import current_app

    config = current_app.config
    base = config["BASE_URL"] or (f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}" if config.get("SERVER_NAME") else "")
    return base.rstrip("/") + path if base else path


def search_index(app: Flask) -> SearchIndex:
    """Return the app's open index, opening it on first use."""
    index = app.extensions.get("search_index")
    if index is None:
        index = SearchIndex(Path(app.config["INDEX_DIR"]))
        app.extensions["search_index"] = index
    return index


# A word of the default legal dictionary, so every build's vocabulary knows it and "did you mean"
# needs no pinyin for it (see warm_up).
WARM_UP_PATH = "/api/search?q=" + quote("网络购物")


def warm_up(app: Flask) -> None:
    """Load now what the first search would: the segmenters, the index with its dictionary and vocabulary, its arrays.

    Production servers call it once before the workers fork (webapp/wsgi.py, bench/gunicorn_conf.py):
    the workers then share all of it and answer their first query at once. The index stays open
    across the fork: Whoosh reads its segments through read-only memory maps, and the file
    descriptors it keeps are the maps' own, never read through. Safe to call twice.

    pypinyin is left out (0.35 s of start-up): only a query with a word the vocabulary does not
    know needs it, and a worker loads it then, once.
    """
    if app.extensions.get("warmed_up"):
        return
    from indexer.analyzer import initialize

    initialize()
    try:
        index = search_index(app)
    except FileNotFoundError:  # no index yet: the pages say how to build one
        return
    index.vocabulary()
    app.test_client().get(WARM_UP_PATH)  # the first request's one-time costs: the index's arrays, Flask's own
    app.extensions["warmed_up"] = True
