"""gunicorn settings for serving NetCourt KB: with ``--preload``, load the segmenters, the index,
its dictionary and vocabulary once in the master, before the workers fork, so they share them
and answer their first query at once.

    KB_INDEX_DIR=instance/index gunicorn -c bench/gunicorn_conf.py -w 4 --preload 'webapp:create_app()'

``make serve`` runs ``webapp.wsgi:app``, which does the same when it is imported. Without either,
each worker loads all of it on its first request (seconds, and 100+ MB each).
"""

from __future__ import annotations

import gc


def when_ready(server):  # type: ignore[no-untyped-def]
    """Warm the preloaded app in the master, after it is listening and before the workers fork."""
    if not server.cfg.preload_app:
        return  # each worker loads its own app: nothing in the master to share
    from webapp import warm_up

    warm_up(server.app.wsgi())
    gc.freeze()  # keep the shared pages shared: a worker's garbage collection would write to them
