"""Changes proposed for indexer/search.py, measured here before the lead applies them.

``ProposedSearchIndex`` is the app's SearchIndex with one change: a long query (a pasted
paragraph of facts) keeps only its ``MAX_GROUPS`` most specific words (highest IDF among the
words the index holds), so Whoosh's minmatch OR no longer walks a hundred nested term groups.
bench/perf.py times it as the engine ``proposed`` over the same index as ``ours``.
"""

from __future__ import annotations

from pathlib import Path

from whoosh import query as wq

from indexer.query import TermGroup
from indexer.search import SearchIndex

MAX_GROUPS = 12


class ProposedSearchIndex(SearchIndex):
    """SearchIndex with long queries cut to their most specific words."""

    def _text_query(self, groups: list[TermGroup]) -> wq.Query:
        if len(groups) > MAX_GROUPS:
            reader = self.searcher().reader()

            def specificity(group: TermGroup) -> float:
                df = max(reader.doc_frequency(name, group.term) for name in ("title", "summary", "body"))
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


# -- build -----------------------------------------------------------------------------------------

def apply_build_patches() -> None:
    """Apply the changes proposed for indexer/build.py (and a Whoosh workaround) to this process.

    1. Whoosh 2.7's ``W3PerDocReader._cached_reader`` caches a field's length column only when it
       exists, so while a segment is flushed every posting of a field without lengths (every ID and
       KEYWORD field) asks the file system again (``os.stat``): about 35 stats per document here.
       Remembering the miss too removes them; a segment's files never change once written.
    2. ``_add`` leaves out empty-string fields (an article has no court, cause, case number ...),
       so Whoosh indexes no empty term for them.
    """
    from whoosh.codec import whoosh3

    import indexer.build as build

    original = whoosh3.W3PerDocReader._cached_reader
    if getattr(original, "_kb_patched", False):
        return

    def cached_reader(self, fieldname, column):  # type: ignore[no-untyped-def]
        readers = self._readers
        if fieldname in readers:
            return readers[fieldname]
        reader = original(self, fieldname, column)
        readers[fieldname] = reader  # None too: the column is not there, and will not appear
        return reader

    cached_reader._kb_patched = True  # type: ignore[attr-defined]
    whoosh3.W3PerDocReader._cached_reader = cached_reader

    def add(writer, doc):  # type: ignore[no-untyped-def]
        writer.add_document(**{k: v for k, v in doc.items() if v is not None and v != ""})

    build._add = add
