"""Similar rulings and the retrieval report (类案检索报告)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("report", __name__)
