"""The app object for production servers: ``gunicorn --preload -w 3 -b 127.0.0.1:8000 webapp.wsgi:app``.

Configuration comes from the environment (``KB_INDEX_DIR=instance/index``, ``KB_DEBUG`` off
unless set) and instance/config.py, as for every create_app(). jieba's dictionary is loaded
here, so with ``--preload`` the workers fork with it loaded instead of paying for it on their
first query. The index itself is opened by each worker on its first request: Whoosh file
handles are not shared across a fork.
"""

from __future__ import annotations

from indexer.analyzer import initialize
from webapp import create_app

app = create_app()
initialize()
