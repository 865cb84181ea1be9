"""The Flask app: a search UI and a JSON API over one index. Imports indexer and kb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from indexer import SearchIndex

DEFAULTS: dict[str, Any] = {
    # Where the index lives (built by `kb index`). Env: KB_INDEX_DIR.
    "INDEX_DIR": "instance/index",
    # Show draft entries (preview only). Env: KB_SHOW_DRAFTS.
    "SHOW_DRAFTS": False,
    # Name shown in the page header and in retrieval reports. Env: KB_SITE_NAME.
    "SITE_NAME": "NetCourt KB",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then instance config, then KB_* environment, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KB")
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from webapp import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    return app


def search_index(app: Flask) -> SearchIndex:
    """Return the app's open index, opening it on first use."""
    index = app.extensions.get("search_index")
    if index is None:
        index = SearchIndex(Path(app.config["INDEX_DIR"]))
        app.extensions["search_index"] = index
    return index
