"""Changes proposed for indexer/search.py, measured here before the lead applies them.

``ProposedSearchIndex`` is the app's SearchIndex with one change: a long query (a pasted
paragraph of facts) keeps only its ``MAX_GROUPS`` most specific words (highest IDF among the
words the index holds), so Whoosh's minmatch OR no longer walks a hundred nested term groups.
bench/perf.py times it as the engine ``proposed`` over the same index as ``ours``.
"""

from __future__ import annotations

from pathlib import Path

from indexer.engine import Query
from indexer.query import TermGroup
from indexer.search import SearchIndex

MAX_GROUPS = 12


class ProposedSearchIndex(SearchIndex):
    """SearchIndex with long queries cut to their most specific words."""

    def _text_query(self, groups: list[TermGroup]) -> Query:
        if len(groups) > MAX_GROUPS:
            engine = self.engine()

            def specificity(group: TermGroup) -> float:
                df = max(engine.document_frequency(name, group.term) for name in ("title", "summary", "body"))
                return 1.0 / df if df else -1.0  # rarer is more specific; words absent from the index last

            ranked = sorted(groups, key=specificity, reverse=True)[:MAX_GROUPS]
            keep = {id(g) for g in ranked}
            groups = [g for g in groups if id(g) in keep]
        return super()._text_query(groups)


class ProposedSearch:
    """bench engine: the proposed SearchIndex over the ``ours`` index."""

    def __init__(self, out: Path) -> None:
        self.index = ProposedSearchIndex(out)

    def search(self, q: str, filters: dict[str, str], page: int) -> int:
        """Run one query; return the total."""
        return self.index.search(q, filters=filters, page=page).total

# The build proposals (a Whoosh stat-call workaround, no empty fields) are applied in the code
# itself now: indexer/whoosh_fixes.py and indexer.build._add.
