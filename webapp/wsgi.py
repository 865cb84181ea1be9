"""The app object for production servers: ``gunicorn --preload -w 3 -b 127.0.0.1:8000 webapp.wsgi:app``.

Configuration comes from the environment (``KB_INDEX_DIR=instance/index``, ``KB_DEBUG`` off
unless set) and instance/config.py, as for every create_app(). With ``--preload`` this module is
imported once, in gunicorn's master: :func:`webapp.warm_up` loads jieba, the fast segmenter, the
index with its user dictionary and vocabulary, and answers one query, so the workers fork with
all of it loaded and answer their first query at once (instead of paying seconds each).
"""

from __future__ import annotations

import gc
import sys

from indexer import IndexUnusableError
from webapp import create_app, warm_up

app = create_app()
try:
    warm_up(app)
except IndexUnusableError as exc:  # no build can be read: refuse to start, in one line
    print(f"webapp.wsgi: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(1) from None
# What the master loaded stays shared with the workers only while no worker writes to its pages;
# a garbage collection in a worker would (it marks every object it visits), so the master's
# objects are moved out of the collector's sight before the fork.
gc.freeze()
