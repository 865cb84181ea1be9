"""One error shape: JSON ``{"ok": false, "error", "errors", "status"}`` for the API, a page for people."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer import QueryError
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
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
