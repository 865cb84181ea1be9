"""Previous and next entry of the same type, as on MkDocs and Docusaurus pages.

The order is the one a type's listing (`sort=date`) is meant to have: newest first, undated
entries last, then by id so that the order is the same after every build. It is computed from
the index's columns (date, parent_id), not from stored fields: a statute's stored fields hold its
whole text. One order per type and index state is kept, so a page view costs a dictionary lookup.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Any

from whoosh import query as wq
from whoosh.searching import Searcher

MISSING_DATE = 2**64 - 1  # what Whoosh's date column holds for a document without a date
_CACHE_SIZE = 8
_orders: OrderedDict[tuple, tuple[list[int], dict[str, int]]] = OrderedDict()
_lock = threading.Lock()


def type_order(searcher: Searcher, entry_type: str, state: Any) -> tuple[list[int], dict[str, int]]:
    """Return the document numbers of the entries of ``entry_type`` in listing order, and each id's position.

    ``state`` names the index state (build and generation); the order is computed once per state.
    """
    key = (state, entry_type)
    with _lock:
        if key in _orders:
            _orders.move_to_end(key)
            return _orders[key]
    docs = sorted(searcher.docs_for_query(wq.And([wq.Term("kind", "entry"), wq.Term("type", entry_type)])))
    keyed = []
    # Segment by segment: Whoosh's multi-segment column reader fails (IndexError) after incremental updates.
    leaves = searcher.reader().leaf_readers()
    for n, (leaf, offset) in enumerate(leaves):
        end = leaves[n + 1][1] if n + 1 < len(leaves) else float("inf")
        dates = leaf.column_reader("date", translate=False) if leaf.has_column("date") else None
        ids = leaf.column_reader("parent_id")
        for d in docs[bisect.bisect_left(docs, offset):bisect.bisect_left(docs, end)]:
            date = dates[d - offset] if dates is not None else MISSING_DATE
            keyed.append((date == MISSING_DATE, -date, ids[d - offset], d))
    keyed.sort()
    order = [d for *_key, d in keyed]
    positions = {entry_id: n for n, (_missing, _date, entry_id, _d) in enumerate(keyed)}
    with _lock:
        _orders[key] = (order, positions)
        while len(_orders) > _CACHE_SIZE:
            _orders.popitem(last=False)
    return order, positions


def neighbours(searcher: Searcher, entry_id: str, entry_type: str, state: Any) -> tuple[dict | None, dict | None]:
    """Return the stored fields of the previous and the next entry of the same type (None at either end)."""
    order, positions = type_order(searcher, entry_type, state)
    n = positions.get(entry_id)
    if n is None:
        return None, None
    previous = searcher.stored_fields(order[n - 1]) if n > 0 else None
    following = searcher.stored_fields(order[n + 1]) if n + 1 < len(order) else None
    return previous, following
