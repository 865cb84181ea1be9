"""The API's OpenAPI description, served at GET /api/openapi.json.

Adding an endpoint is one entry in ``PATHS``: the URL template and its operation, built with
``operation()`` from the shared parameters and schemas below. Responses list only what the
endpoint really answers; every error uses the one shape in ``ERROR``. A test in
tests/test_api_schema.py fails when an API route has no entry here, and schemathesis checks
the real responses against this document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from indexer.hits import REQUIRED, hit_properties
from indexer.schema import FILTERS, TYPES
from indexer.search import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, SORTS
from kb import __version__
from webapp.report import SIMILAR_HIT, SIMILAR_OPENAPI

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.0.3"

ERROR: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of the API.",
    "required": ["ok", "error", "errors", "status"],
    "properties": {
        "ok": {"type": "boolean", "enum": [False]},
        "error": {"type": "string", "description": "What is wrong and how to fix it."},
        "errors": {"type": "array", "items": {"type": "string"}},
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
    },
}

# The hit's properties are the shown index fields (indexer/schema.py) and the values a hit adds (indexer/hits.py).
HIT: dict[str, Any] = {"type": "object", "required": list(REQUIRED), "properties": hit_properties()}

ANSWER_CARD: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "description": "The guide that answers the question (page 1): what the search page's answer card shows.",
    "required": ["id", "title", "url"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string"},
        "summary": {"type": "string", "nullable": True, "description": "The guide's summary."},
        "summary_en": {"type": "string", "nullable": True, "description": "Its English summary, shown on the English page."},
        "checklist_heading": {"type": "string", "nullable": True, "description": "The heading of its checklist (举证清单 ...)."},
        "checklist": {"type": "array", "items": {"type": "string"}, "description": "The checklist's items, links written as their titles."},
    },
}



def link_object(description: str, *names: str) -> dict[str, Any]:
    """Return the schema of a link that may be null: an object of the strings ``names``, all required."""
    return {"type": "object", "nullable": True, "description": description, "required": list(names),
            "properties": {name: {"type": "string"} for name in names}}


LEAD = link_object("On page 1 by relevance, when an article leads and no guide answers: the article.", "title", "url", "article")

FACET_COUNT: dict[str, Any] = {
    "type": "object",
    "required": ["value", "count"],
    "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
}

SEARCH_PAGE: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "query", "total", "page", "per_page", "pages", "sort", "results", "facets"],
    "properties": {
        "ok": {"type": "boolean", "enum": [True]},
        "query": {"type": "string", "description": "The query as searched (control characters removed)."},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "pages": {"type": "integer", "minimum": 1},
        "sort": {"type": "string", "enum": list(SORTS)},
        "filters": {"type": "object", "description": "One value, or a list when a filter was repeated (any of them matches).",
                    "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
        "terms": {"type": "array", "items": {"type": "string"}},
        "expansions": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "fallback": {"type": "boolean"},
        "notice": {"type": "string", "nullable": True},
        "case_number": {"type": "string", "nullable": True},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
        "facets": {"type": "object", "description": "Counts per facet, each counted with the other facets' filters but not its own.",
                   "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/FacetCount"}}},
        "answer": {"$ref": "#/components/schemas/AnswerCard"},
        "lead": {"$ref": "#/components/schemas/Lead"},
        "redirect": {"type": "string", "nullable": True, "description": "The query is a case number: the path of its ruling (the search page goes there)."},
    },
}

ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "entry"],
    "properties": {
        "ok": {"type": "boolean", "enum": [True]},
        "entry": {
            "type": "object",
            "required": ["id", "type", "title", "url", "meta", "html"],
            "properties": {
                "id": {"type": "string"},
                "type": TYPES,
                "title": {"type": "string"},
                "url": {"type": "string"},
                "meta": {"type": "object", "description": "The entry's front matter, converted."},
                "html": {"type": "string", "description": "The body rendered from Markdown and sanitised."},
                "citations": {"type": "array", "items": {"type": "object"}},
                "backlinks": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                "related": {"type": "array", "items": {"type": "object"}},
                "articles": {"type": "array", "items": {"type": "string"}},
                "cited_by": {"type": "object"},
                "path": {"type": "string", "description": "The entry's file, as the build saw it (content/rulings/x.md)."},
                "edit_url": {"type": "string", "nullable": True, "description": "Where to edit the file (setting EDIT_URL), or null."},
                "previous": {"$ref": "#/components/schemas/EntryLink"},
                "next": {"$ref": "#/components/schemas/EntryLink"},
            },
        },
    },
}

ENTRY_LINK = link_object("The previous or next entry of the same type (newest first, undated last, then by id); null at either end.",
                         "id", "title", "url")

HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "documents"],
    "properties": {
        "ok": {"type": "boolean"},
        "documents": {"type": "integer", "minimum": 0},
        "build": {"type": "string", "nullable": True},
    },
}

VERSION: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "version"],
    "properties": {"ok": {"type": "boolean"}, "version": {"type": "string"}},
}

SUGGESTIONS: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "query", "suggestions"],
    "properties": {
        "ok": {"type": "boolean", "enum": [True]},
        "query": {"type": "string"},
        "suggestions": {"type": "array", "items": {
            "type": "object", "required": ["text", "kind"],
            "properties": {"text": {"type": "string"}, "kind": {"type": "string"}, "url": {"type": "string"}},
        }},
    },
}

OPENAPI_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {"openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"}},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR,
    "Hit": HIT,
    "AnswerCard": ANSWER_CARD,
    "Lead": LEAD,
    "SimilarHit": SIMILAR_HIT,
    "FacetCount": FACET_COUNT,
    "SearchPage": SEARCH_PAGE,
    "Entry": ENTRY,
    "EntryLink": ENTRY_LINK,
    "Health": HEALTH,
    "Version": VERSION,
    "Suggestions": SUGGESTIONS,
    "OpenAPI": OPENAPI_DOCUMENT,
}

def query_parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """Return an optional query-string parameter."""
    return {"name": name, "in": "query", "required": False, "description": description or schema.get("description", ""),
            "schema": {k: v for k, v in schema.items() if k != "description"}}


def search_parameters() -> list[dict[str, Any]]:
    """Return the parameters of /api/search; every filter the search accepts is one of them."""
    params = [
        query_parameter("q", {"type": "string", "maxLength": MAX_QUERY_CHARS},
                        f"Plain text (at most {MAX_QUERY_CHARS} characters); fielded Whoosh syntax only with syntax=1."),
    ]
    for name, spec in FILTERS.items():
        params.append(query_parameter(name, spec.filter_schema(), f"Only results whose {spec.name} is this value; repeat it for several "
                                      f"values (any of them). {spec.description}"))
    params += [
        query_parameter("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, f"Page, 1 to {MAX_PAGE}."),
        query_parameter("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
                        f"Results per page, 1 to {MAX_PER_PAGE}."),
        query_parameter("sort", {"type": "string", "enum": list(SORTS), "default": SORTS[0]}, "Order of the results."),
        query_parameter("syntax", {"type": "string", "enum": ["0", "1"], "default": "0"},
                        "1 parses q as Whoosh query syntax (fields, AND/OR/NOT, phrases); a syntax error is a 400."),
    ]
    return params


def response(description: str, schema: str) -> dict[str, Any]:
    """Return a JSON response that uses the named component schema."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def operation(summary: str, ok: str, *, parameters: list[dict[str, Any]] | None = None,
              errors: dict[int, str] | None = None, redirects: dict[int, str] | None = None,
              operation_id: str = "", tags: list[str] | None = None) -> dict[str, Any]:
    """Return a GET operation answering 200 with the ``ok`` schema, and the listed errors in the one error shape."""
    responses: dict[str, Any] = {"200": response("OK", ok)}
    for status, description in (redirects or {}).items():
        responses[str(status)] = {"description": description, "headers": {"Location": {"schema": {"type": "string"}}}}
    for status, description in (errors or {}).items():
        responses[str(status)] = response(description, "Error")
    op: dict[str, Any] = {"summary": summary, "responses": responses, "tags": tags or ["api"]}
    if operation_id:
        op["operationId"] = operation_id
    if parameters:
        op["parameters"] = parameters
    return {"get": op}


# One entry per path. Flask's <name> and <path:name> become OpenAPI's {name}.
PATHS: dict[str, dict[str, Any]] = {
    "/api/search": operation(
        "Search rulings, guidelines and statutes.", "SearchPage", parameters=search_parameters(),
        errors={400: "A parameter out of range, an unknown sort, a query too long, or a syntax error with syntax=1."},
        operation_id="search"),
    "/api/suggest": operation(
        "Autocomplete: entry titles, statutes, tags and legal terms for what has been typed.", "Suggestions",
        parameters=[query_parameter("q", {"type": "string"}, "What has been typed so far."),
                    query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                                    "At most this many suggestions, 1 to 50.")],
        errors={400: "limit out of range or not a number."}, operation_id="suggest"),
    "/api/entries/{id}": operation(
        "One entry: rendered, sanitised HTML, citations, backlinks; for statutes their articles.", "Entry",
        parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                     "description": "The entry id; an old id listed in an entry's aliases redirects."}],
        redirects={301: "The id is an alias; Location names the entry."},
        errors={404: "No entry has this id."}, operation_id="entry"),
    "/-/health": operation("Liveness and the number of documents in the live index.", "Health",
                           operation_id="health", tags=["system"]),
    "/-/version": operation("The software version.", "Version", operation_id="version", tags=["system"]),
    "/api/openapi.json": operation("This document.", "OpenAPI", operation_id="openapi", tags=["system"]),
    "/api/similar": SIMILAR_OPENAPI,
}


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI description of the API."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "NetCourt KB API",
            "version": __version__,
            "description": "Search China's internet-court rulings, guidelines and statutes. "
                           'Every error is {"ok": false, "error": "...", "errors": ["..."], "status": N}.',
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


@bp.get("/api/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """Return the OpenAPI description of the API."""
    return jsonify(openapi_document())
