"""Limits on what a client may send: body size, JSON depth and text that cannot be encoded.

A request body is never read past ``MAX_CONTENT_LENGTH`` (413 in the one error shape); a JSON
body or a JSON form field nested deeper than ``MAX_JSON_DEPTH``, or holding a lone surrogate
(``"\\ud800"``, valid JSON but not encodable as UTF-8), is a 400 before any code uses it.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.exceptions import BadRequest

# The largest legitimate body is a report export: 50 rulings with 4,000-character notes, the
# facts (20,000 characters) and 100 recorded searches, under 1 MB in UTF-8.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
MAX_JSON_DEPTH = 20


def too_large_message(limit: int) -> str:
    """Return the 413 message for a body over ``limit`` bytes."""
    return f"the request body is too large (the limit is {limit // 1024 // 1024} MB)."


def parse_json(raw: str | bytes, what: str, invalid: str | None = None) -> Any:
    """Return the JSON value of ``raw``; raise BadRequest if it is not JSON, too deep, or holds a lone surrogate."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
    except ValueError:  # also UnicodeDecodeError: bytes that are not UTF-8
        raise BadRequest(invalid or f"{what} must be JSON.") from None
    check_json(value, what)
    return value


def check_json(value: Any, what: str) -> None:
    """Raise BadRequest if ``value`` is nested deeper than MAX_JSON_DEPTH or holds a string that is not valid Unicode."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    check_text(key, what)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            check_text(item, what)


def check_text(text: str, what: str) -> None:
    """Raise BadRequest if ``text`` holds a lone surrogate (it could not be written out as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{what} holds a lone surrogate (\\ud800-\\udfff); send valid Unicode text.") from None
