"""Same results, and the CPU they cost, before and after a change that must not alter them (#16).

``dump OUT.json`` writes every page the app would answer for the STARD dev questions at scale (b)
(808 questions with and without the shipped model, six filter/sort/page variants of 60 of them,
query syntax, case numbers, typos), similar rulings by text and by id (both orders), backlinks,
citing rulings, articles, previous/next and the feed: run it on two trees over the same index and
compare the files (``cmp``). ``time`` prints CPU per search (warm: one pass untimed, two timed) and
per similar-rulings call. Run the two trees alternately: the machine is shared.

    .venv/bin/python -m bench.same_results dump /tmp/after.json
    .venv/bin/python -m bench.same_results time
    .venv/bin/python -m bench.same_results --limit 5 dump /tmp/quick.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.relevance import CONTENT, OUT
from bench.stard import DEEP, QUESTIONS
from indexer.build import copy_query_data, current_build
from indexer.search import SearchIndex
from indexer.similar import search_similar
from indexer.training import load_questions
from kb.loader import load_all

VARIANTS = [{"sort": "date"}, {"sort": "precedent"}, {"filters": {"type": "statute"}}, {"page": 2},
            {"filters": {"level": ["法律", "司法解释"]}}, {"filters": {"year": "2021"}}]
EXTRA = ["网络购物 AND 退货", '"举证责任"', "刷单 OR 炒信", "合同 NOT 劳动", "电子商务法", "（2019）京0491民初1号", "举证责人",
         "网络服务合同纠纷", "consumer protection refund", "离婚时财产怎么分", "我在网上买东西被骗了需要提供什么证据", ""]


def open_index() -> SearchIndex:
    """Return the search over the scale (b) index that bench/stard.py builds."""
    root = OUT / "index-ours"
    build = current_build(root)
    assert build is not None, "no scale (b) index: run python -m bench.stard --index-only"
    copy_query_data([CONTENT], build)
    return SearchIndex(root)


def rulings() -> list[str]:
    """Return the ids of content/'s rulings."""
    return sorted(e.id for e in load_all(CONTENT).entries if str(getattr(e.type, "value", e.type)) == "ruling")


def dump(path: Path, limit: int | None = None) -> int:
    """Write every answer to ``path`` as JSON (for the first ``limit`` questions only, if given)."""
    index = open_index()
    questions = load_questions(QUESTIONS)[:limit]
    shipped = index.ranker
    rows: list[Any] = []
    for name, ranker in (("none", None), ("shipped", shipped)):
        index.ranker = ranker
        rows += [[name, q.id, index.search(q.text, per_page=DEEP).to_dict()] for q in questions]
    index.ranker = shipped
    rows += [["variant", q.id, repr(v), index.search(q.text, **v).to_dict()] for q in questions[:60] for v in VARIANTS]
    for text in EXTRA:
        for syntax in (False, True):
            try:
                rows.append(["extra", text, syntax, index.search(text, syntax=syntax).to_dict()])
            except Exception as exc:  # noqa: BLE001 - the error is part of the answer
                rows.append(["extra", text, syntax, repr(exc)])
    for q in questions[:40]:
        text = q.text if len(q.text) >= 20 else q.text * 3
        rows += [["similar", q.id, order, search_similar(index, text=text, order=order).to_dict()] for order in ("similarity", "precedent")]
    ids = rulings()
    rows += [["similar-id", r, order, search_similar(index, entry_id=r, order=order).to_dict()] for r in ids for order in ("similarity", "precedent")]
    rows += [["backlinks", r, [h.to_dict() for h in index.backlinks(r)], index.neighbours(r, "ruling")] for r in ids[:5]]
    rows.append(["cited", [h.to_dict() for h in index.cited_by("电子商务法#第十七条")],
                 {k: [h.to_dict() for h in v] for k, v in index.cited_by_law("电子商务法").items()}])
    rows.append(["entries", index.count(), index.articles_of("电子商务法-2018-08-31"), index.recent_entries(20)])
    path.write_text(json.dumps(rows, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"{len(rows)} answers written to {path}")
    return 0


def cpu_ms(calls: list[Callable[[], Any]], passes: int) -> list[float]:
    """Return the CPU milliseconds of each call, over ``passes`` passes."""
    out = []
    for _ in range(passes):
        for call in calls:
            started = time.process_time()
            call()
            out.append((time.process_time() - started) * 1000)
    return sorted(out)


def timing(limit: int | None = None) -> int:
    """Print CPU per search and per similar-rulings call, warm."""
    index = open_index()
    questions = load_questions(QUESTIONS)[:limit]
    searches = [lambda q=q: index.search(q.text, per_page=DEEP) for q in questions]
    texts = ["".join(q.text for q in questions[i:i + 4]) for i in range(0, min(320, len(questions) - 3), 4)]  # 80 paragraphs of four
    entries = load_all(CONTENT).entries
    bodies = [e.body[:3000] for e in entries if str(getattr(e.type, "value", e.type)) == "ruling" and len(e.body) >= 20]
    similar = ([lambda t=t: search_similar(index, text=t) for t in texts + bodies]
               + [lambda r=r: search_similar(index, entry_id=r) for r in rulings()])
    for name, calls in (("search", searches), ("similar", similar)):
        cpu_ms(calls, 1)  # warm: posting arrays read, caches filled
        ms = cpu_ms(calls, 2)
        print(f"{name}: {len(ms)} calls, CPU p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * len(ms))]:.1f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``dump`` or ``time``."""
    parser = argparse.ArgumentParser(prog="python -m bench.same_results", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N questions (a quick look)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dump").add_argument("out", type=Path)
    sub.add_parser("time")
    args = parser.parse_args(argv)
    return dump(args.out, args.limit) if args.command == "dump" else timing(args.limit)


if __name__ == "__main__":
    sys.exit(main())
