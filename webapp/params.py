"""Request parameters shared by pages and API, checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexer import QueryError
from indexer.search import FILTER_FIELDS


def int_param(args: Mapping[str, str], name: str, default: int) -> int:
    """Return an integer parameter, or raise QueryError naming it."""
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not '{raw[:40]}'.") from None


def filter_arg(args: Mapping[str, str], name: str) -> str | list[str]:
    """Return a filter's value, or its values when the parameter is repeated (``type=ruling&type=guideline``)."""
    getlist = getattr(args, "getlist", None)
    values = [v for v in getlist(name) if v] if getlist else [args[name]]
    return values[0] if len(values) == 1 else values


def search_params(args: Mapping[str, str]) -> dict[str, Any]:
    """Return the keyword arguments of SearchIndex.search from query-string ``args``."""
    return {
        "query": args.get("q", ""),
        "filters": {name: filter_arg(args, name) for name in FILTER_FIELDS if args.get(name)},
        "page": int_param(args, "page", 1),
        "per_page": int_param(args, "per_page", 10),
        "sort": args.get("sort") or "relevance",
        "syntax": args.get("syntax") in ("1", "true", "yes"),
    }
