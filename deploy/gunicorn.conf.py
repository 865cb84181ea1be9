"""gunicorn settings for production (``make serve``, and ``make prod`` behind nginx).

    KB_INDEX_DIR=instance/index gunicorn -c deploy/gunicorn.conf.py webapp.wsgi:app

- One worker per core, ``--preload``: searches are CPU-bound (README, "Production"), and the
  master loads the dictionaries and the index once for all workers (webapp/wsgi.py).
- ``limit_request_line = 16384``: a 1,000-character Chinese query (the README's limit) is about
  9,100 bytes percent-encoded, past gunicorn's largest finite limit (8,190, which answered 414),
  and 0 would mean no limit at all. gunicorn clamps to its module constant MAX_REQUEST_LINE, so
  that is raised to the same 16 KB, nginx's ``large_client_header_buffers 4 16k``
  (deploy/nginx.conf.template); the app answers a query over 1,000 characters with a 400.
- gunicorn's own error answers (414, 431, 400 for a malformed request) come in the app's JSON
  error shape with its security headers, not gunicorn's HTML page without them.
"""

from __future__ import annotations

import os

import gunicorn.http.message
import gunicorn.util

bind = os.environ.get("KB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("KB_WORKERS") or os.cpu_count() or 2)
preload_app = True
REQUEST_LINE_LIMIT = 16384
gunicorn.http.message.MAX_REQUEST_LINE = REQUEST_LINE_LIMIT
limit_request_line = REQUEST_LINE_LIMIT
limit_request_fields = 100
limit_request_field_size = 16384
timeout = 30
graceful_timeout = 10
keepalive = 5


def _write_error(sock, status_int, reason, mesg):  # type: ignore[no-untyped-def]
    """Answer gunicorn's own errors in the app's JSON shape, with its security headers."""
    from webapp.errors import raw_error_response

    message = {414: "the request line is too long.", 431: "the request headers are too large."}.get(
        status_int, f"{reason.lower()}: {mesg}" if mesg else reason.lower())
    sock.sendall(raw_error_response(status_int, reason, message))


gunicorn.util.write_error = _write_error
