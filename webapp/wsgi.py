"""The app object for production servers: ``gunicorn --preload -w 3 -b 127.0.0.1:8000 webapp.wsgi:app``.

Configuration comes from the environment (``KB_INDEX_DIR=instance/index``, ``KB_DEBUG`` off
unless set) and instance/config.py, as for every create_app(). jieba's dictionary and the
index's user dictionary are loaded here, so with ``--preload`` the workers fork with them loaded
instead of paying about 1.5 s each on their first query. The index itself is opened by each
worker on its first request: Whoosh file handles are not shared across a fork.
"""

from __future__ import annotations

from pathlib import Path

from indexer.analyzer import initialize, load_dictionary
from indexer.build import USER_DICTIONARY, current_build
from webapp import create_app

app = create_app()
initialize()
_build = current_build(Path(app.config["INDEX_DIR"]))
if _build is not None:
    load_dictionary(_build / USER_DICTIONARY)
