"""Previous and next entry of the same type, as on MkDocs and Docusaurus pages.

The order is the one a type's listing (`sort=date`) is meant to have: newest first, undated
entries last, then by id so that the order is the same after every build. It is computed from
the index's columns (date, parent_id), not from stored fields: a statute's stored fields hold its
whole text. One order per type and index state is kept, so a page view costs a dictionary lookup.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from indexer.engine import Engine, Term, all_of

_CACHE_SIZE = 8
_EPOCH = dt.datetime.min  # below every date: where the undated would sort, before they are put last
_orders: OrderedDict[tuple, tuple[list[int], dict[str, int]]] = OrderedDict()
_lock = threading.Lock()


def type_order(engine: Engine, entry_type: str, state: Any) -> tuple[list[int], dict[str, int]]:
    """Return the document numbers of the entries of ``entry_type`` in listing order, and each id's position.

    ``state`` names the index state (build and generation); the order is computed once per state.
    """
    key = (state, entry_type)
    with _lock:
        if key in _orders:
            _orders.move_to_end(key)
            return _orders[key]
    docs = engine.match(all_of([Term("kind", "entry"), Term("type", entry_type)]))
    keyed = list(zip(engine.columns(docs, "date"), engine.columns(docs, "parent_id"), docs.tolist(), strict=True))
    # Newest first, undated last, then by id: sorts are stable, so the last key is sorted first.
    keyed.sort(key=lambda item: (item[1] or "", item[2]))
    keyed.sort(key=lambda item: item[0] or _EPOCH, reverse=True)
    keyed.sort(key=lambda item: item[0] is None)
    order = [d for _date, _id, d in keyed]
    positions = {entry_id: n for n, (_date, entry_id, _d) in enumerate(keyed)}
    with _lock:
        _orders[key] = (order, positions)
        while len(_orders) > _CACHE_SIZE:
            _orders.popitem(last=False)
    return order, positions


def neighbours(engine: Engine, entry_id: str, entry_type: str, state: Any) -> tuple[dict | None, dict | None]:
    """Return the stored fields of the previous and the next entry of the same type (None at either end)."""
    order, positions = type_order(engine, entry_type, state)
    n = positions.get(entry_id)
    if n is None:
        return None, None
    previous = engine.stored(order[n - 1]) if n > 0 else None
    following = engine.stored(order[n + 1]) if n + 1 < len(order) else None
    return previous, following
