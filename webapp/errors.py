"""One error shape: JSON ``{"ok": false, "error", "errors", "status"}`` for the API, a page for people."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer import QueryError
from indexer.build import IndexMissingError, IndexUnusableError
from webapp.limits import too_large_message


def wants_json() -> bool:
    """Return True for API and system URLs, whose errors are JSON."""
    return request.path.startswith(("/api/", "/-/"))


def error_response(message: str, status: int, errors: list[str] | None = None) -> tuple[Response | str, int]:
    """Return the error in the shape the client expects (the message is always escaped in the page)."""
    message = str(message)
    if wants_json():
        return jsonify({"ok": False, "error": message, "errors": errors or [message], "status": status}), status
    return render_template("error.html", message=message, status=status), status


def register(app: Flask) -> None:
    """Install the error handlers and the security headers."""

    @app.errorhandler(IndexMissingError)
    @app.errorhandler(IndexUnusableError)
    def index_unusable(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.error("%s", exc)
        return error_response(str(exc), 503)

    @app.errorhandler(QueryError)
    def query_error(exc: QueryError):  # type: ignore[no-untyped-def]
        return error_response(str(exc), 400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if 300 <= (exc.code or 500) < 400:
            return exc.get_response()
        if exc.code == 413:
            limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
            return error_response(too_large_message(limit), 413)
        # str(): a lazy or Markup description would skip the template's escaping.
        return error_response(str(exc.description or exc.name), exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unexpected error on %s", request.path)
        return error_response(InternalServerError.description, 500)

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


# Sent with every answer: by the app, by gunicorn's own errors (deploy/gunicorn.conf.py) and by
# nginx (deploy/nginx.conf.template, which repeats them: nginx cannot import them).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def raw_error_response(status: int, reason: str, message: str) -> bytes:
    """Return a whole HTTP/1.1 error response in the one JSON shape, for servers that answer before the app does."""
    import json

    body = json.dumps({"ok": False, "error": message, "errors": [message], "status": status}, ensure_ascii=False).encode()
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}",
            "Connection: close", *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
