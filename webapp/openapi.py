"""The API's OpenAPI description, served at GET /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("openapi", __name__)
