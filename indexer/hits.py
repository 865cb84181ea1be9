"""A hit: what a search result, a similar ruling, a backlink or a citing ruling shows of its document.

Its index fields are those ``indexer/schema.py`` marks as shown (read by ``shown_values``); a hit
adds the values in ``HIT_VALUES`` (where it links to, its snippet and score, a ruling's holding and
art. 9's 应当参照 / 可以参考). Search (``indexer.search``) returns :class:`Hit`; similar rulings
(``indexer.similar.SimilarHit``) are hits with the reasons they matched. The API's JSON and its
OpenAPI description (:func:`hit_properties`) come from the same declarations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from indexer.schema import FIELDS_BY_NAME, SHOWN_FIELDS, shown_values
from kb.precedent import CONSULT, FOLLOW, TIERS, reference, tier_name
from kb.render import entry_url


@dataclass(frozen=True)
class HitValue:
    """A value a hit adds to the index fields it shows."""

    name: str
    schema: Mapping[str, Any]
    description: str


FOLLOWS = {"type": "string", "enum": [FOLLOW, CONSULT]}
HIT_VALUES: tuple[HitValue, ...] = (
    HitValue("url", {"type": "string"}, "Path of the entry page, with #article for a statute article."),
    HitValue("snippet", {"type": "string"}, "HTML: escaped text with <mark> around matches."),
    HitValue("score", {"type": "number"}, "The ranking's score (0 for a result placed first by rule: a case number, a guide)."),
    HitValue("holding", {"type": "string"}, "Rulings: 裁判要点, the rule the ruling stands for."),
    HitValue("follow", FOLLOWS, "Rulings: a guiding case must be followed (应当参照), any other may be consulted (可以参考)."),
    HitValue("reference", FOLLOWS, "Rulings: the same as follow (its earlier name)."),
    HitValue("tier", {"type": "string", "enum": list(TIERS)}, "Rulings: authority tier (art. 4), as in /api/similar."),
    HitValue("others", {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
        "version_on": {"type": "string"}, "source_file": {"type": "string"}}}},
        "Copies collapsed into this result: other versions of the article, restatements."),
)
REQUIRED = ("id", "type", "title", "url", "snippet", "score")


def hit_properties() -> dict[str, dict[str, Any]]:
    """Return the OpenAPI properties of a hit: the shown index fields, then the values a hit adds."""
    properties = {name: FIELDS_BY_NAME[name].json_schema() for name in SHOWN_FIELDS}
    properties.update({v.name: {**v.schema, "description": v.description} for v in HIT_VALUES})
    return properties


def _empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == []


@dataclass
class Hit:
    """One result: the shown index fields (``hit.court``, ``hit.title`` ...) and the values of ``HIT_VALUES``."""

    shown: dict[str, Any]  # schema.shown_values of the stored document
    url: str
    score: float
    snippet: str = ""
    holding: str | None = None
    others: list[dict[str, str]] = field(default_factory=list)  # collapsed copies: versions, restatements

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any], *, score: float, snippet: str = "", **values: Any) -> Self:
        """Return the hit of a stored document (its fields as the index keeps them)."""
        meta = json.loads(stored["meta"]) if stored.get("meta") else {}
        shown = shown_values(stored, meta)
        article = shown["kind"] == "article"
        url = entry_url(stored["parent_id"], stored.get("article")) if article else entry_url(shown["id"])
        return cls(shown=shown, url=url, score=score, snippet=snippet, holding=meta.get("holding"), **values)

    def __getattr__(self, name: str) -> Any:
        # Called only when an attribute is not found: the shown index fields.
        shown = self.__dict__.get("shown")
        if shown is not None and name in SHOWN_FIELDS:
            return shown.get(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def follow(self) -> str | None:
        """Return 应当参照 or 可以参考 for a ruling (kb/precedent.py), None for other entries."""
        return reference(self.authority) if self.type == "ruling" else None

    @property
    def reference(self) -> str | None:
        """Return ``follow`` (the search page's earlier name for it)."""
        return self.follow

    @property
    def tier(self) -> str | None:
        """Return a ruling's authority tier (其他 when it names none), None for other entries."""
        return tier_name(self.authority) if self.type == "ruling" else None

    def to_dict(self) -> dict[str, Any]:
        """Return the hit as JSON-ready values, without empty ones."""
        data = dict(self.shown, **{v.name: getattr(self, v.name) for v in HIT_VALUES})
        return {k: v for k, v in data.items() if not _empty(v)}
