"""Facet counting before and after the 罪名 facet (a list field counted from its terms), in one command.

    .venv/bin/python -m bench.facets                      # before = 8635875 (main before the facet), after = this tree
    .venv/bin/python -m bench.facets --rounds 5 --repeat 7

Indexes, each built once and shared by both variants:

* (l) content/ + the 9,088 LeCaRD judgments (imported into bench/out/lecard/entries as
  bench/lecard.py does, built into bench/out/facets/index-l): 44+ charges per query to count;
* (b) content/ + the statute corpus (bench/out/relevance/index-ours, made by
  ``python -m bench.stard --index-only``), if present: no document has a charge, so the facet
  counts nothing there, and what it costs is its overhead.

Each variant is a child process running that code (``git archive`` of the commit into bench/out,
or this tree) over the same index: it answers every query once untimed (arrays read, filters
cached), then, per query, times ``SearchIndex._count_facets`` (every facet, the lifted filters
re-matched; the facet cache bypassed) and the whole ``search`` (facet cache cleared) ``--repeat``
times, in wall and CPU milliseconds (time.process_time), each after a garbage collection (a full
one, ~60 ms here, otherwise lands inside whichever call happens to trigger it). Variants alternate within each round,
so the machine's load falls on both. Printed: medians over queries of the per-query medians, the
p95, and the CPU seconds of all timed facet counts; the answers of the two (hits, totals and
facets but the new one) are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.build_speed import source_of
from bench.corpus import CONTENT, OUT, ROOT

HERE = OUT / "facets"
LECARD_ENTRIES = OUT / "lecard" / "entries"
LECARD = ROOT.parent / "shared" / "corpus" / "lecard-judgments"
SCALE_B = OUT / "relevance" / "index-ours"
BEFORE = "8635875"  # main before the charge facet
# Queries both variants accept (no charge filter: the code before has none): charges and facts as
# words, with no filter, a type or year filter, and the busiest court; an empty query over every ruling.
QUERIES = {
    "l": [("", {"type": "ruling"}), ("危险驾驶罪", {}), ("盗窃", {}), ("故意伤害 轻伤", {}), ("诈骗 手机 转账", {}),
          ("醉酒 驾驶 机动车", {"year": "2017"}), ("交通肇事 逃逸", {"type": "ruling"}), ("毒品 贩卖", {}),
          ("寻衅滋事", {}), ("被告人 供述", {}), ("合同", {}), ("网络", {"type": "ruling"})],
    "b": [("合同", {}), ("消费者 退货", {}), ("网络 个人信息", {"type": "statute"}), ("劳动合同 解除 赔偿", {}),
          ("电子商务法", {}), ("", {"type": "ruling"}), ("离婚 财产", {"level": "法律"}), ("刷单", {})],
}
CHILD = """
import gc, json, statistics, sys, time
from pathlib import Path
from indexer.search import SearchIndex, clean_filters, clean_query
index = SearchIndex(Path(sys.argv[1]))
queries, repeat = json.loads(sys.argv[2]), int(sys.argv[3])
engine = index.engine()
rows = []
for text, filters in queries:
    index.search(text, filters=filters)  # warm
    filters = clean_filters(filters)
    _plan, main, _case, _redirect = index._main_query(engine, clean_query(text), False)
    flt = index._filter_query(filters)
    matched = index._docs(engine, main, flt)
    facet_wall, facet_cpu, search_wall, search_cpu = [], [], [], []
    for _ in range(repeat):
        gc.collect()  # a collection of the whole heap (jieba's dictionary ...) costs ~60 ms wherever it falls
        w, c = time.perf_counter(), time.process_time()
        counts = index._count_facets(engine, main, filters, matched)
        facet_wall.append((time.perf_counter() - w) * 1000)
        facet_cpu.append((time.process_time() - c) * 1000)
        index._facet_cache.clear()
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        page = index.search(text, filters=filters)
        search_wall.append((time.perf_counter() - w) * 1000)
        search_cpu.append((time.process_time() - c) * 1000)
    rows.append({"query": text, "filters": filters, "docs": int(len(matched)),
                 "facet_wall": statistics.median(facet_wall), "facet_cpu": statistics.median(facet_cpu),
                 "facet_cpu_total": sum(facet_cpu) / 1000, "search_wall": statistics.median(search_wall),
                 "search_cpu": statistics.median(search_cpu), "counts": counts, "answer": page.to_dict()})
print("RESULT " + json.dumps(rows, ensure_ascii=False))
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_lecard_index() -> Path:
    """Return index (l): content/ + every LeCaRD judgment, imported and built once."""
    from indexer.build import build_index, current_build
    from kb.importers.lecard import import_judgments

    index = HERE / "index-l"
    if current_build(index) is not None:
        return index
    if not (LECARD_ENTRIES.is_dir() and len(os.listdir(LECARD_ENTRIES)) >= 9000):
        log("importing the 9,088 judgments …")
        import_judgments(LECARD, LECARD_ENTRIES)
    log("building index (l) …")
    report = build_index([CONTENT, LECARD_ENTRIES], index, clean=True)
    log(f"index (l): {report.documents} documents")
    return index


def run(variant: str, commit: str, index: Path, queries: list, repeat: int) -> list[dict]:
    """Run the timing child of one variant over one index; return its rows."""
    source = source_of(variant, commit)
    done = subprocess.run([sys.executable, "-c", CHILD, str(index), json.dumps(queries, ensure_ascii=False), str(repeat)],
                          cwd=source, env={**os.environ, "PYTHONPATH": str(source)}, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def summary(rounds: list[list[dict]]) -> dict[str, float]:
    """Return medians over queries (of each query's median over the rounds) and the CPU seconds of the timed facet counts."""
    per_query = list(zip(*rounds, strict=True))

    def med(key: str) -> list[float]:
        return sorted(statistics.median(r[key] for r in rows) for rows in per_query)

    out = {}
    for key in ("facet_wall", "facet_cpu", "search_wall", "search_cpu"):
        values = med(key)
        out[f"{key}_p50"] = statistics.median(values)
        out[f"{key}_p95"] = values[min(len(values) - 1, int(0.95 * len(values)))]
    out["facet_cpu_s"] = sum(r["facet_cpu_total"] for rows in rounds for r in rows)
    return out


def main(argv: list[str] | None = None) -> int:
    """Time both variants over each index, alternating; print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.facets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per query and round")
    parser.add_argument("--scales", default="l,b")
    args = parser.parse_args(argv)
    indexes = {"l": ensure_lecard_index, "b": lambda: SCALE_B}
    results: dict[tuple[str, str], list[list[dict]]] = {}
    load = []
    for scale in args.scales.split(","):
        index = indexes[scale]()
        if not index.is_dir():
            log(f"no index ({scale}) at {index}: skipped")
            continue
        for n in range(args.rounds):
            for variant in (("before", "after") if n % 2 == 0 else ("after", "before")):
                load.append(os.getloadavg()[0])
                results.setdefault((scale, variant), []).append(run(variant, args.before, index, QUERIES[scale], args.repeat))
                log(f"({scale}) round {n + 1} {variant} done")
    HERE.mkdir(parents=True, exist_ok=True)
    (HERE / "results.json").write_text(json.dumps({f"{s}/{v}": r for (s, v), r in results.items()}, ensure_ascii=False, indent=1))
    print(f"Facet counting, {args.before} (before) against this tree (after); {args.rounds} rounds x {args.repeat} calls per query;"
          f" load average {min(load):.1f}-{max(load):.1f}\n")
    print("| index | variant | facets p50 / p95 wall ms | facets p50 / p95 CPU ms | facet CPU s (all timed) | search p50 / p95 wall ms | search p50 CPU ms |")
    print("|---|---|---|---|---|---|---|")
    for (scale, variant), rounds in results.items():
        s = summary(rounds)
        print(f"| ({scale}) | {variant} | {s['facet_wall_p50']:.2f} / {s['facet_wall_p95']:.2f} | {s['facet_cpu_p50']:.2f} / "
              f"{s['facet_cpu_p95']:.2f} | {s['facet_cpu_s']:.2f} | {s['search_wall_p50']:.1f} / {s['search_wall_p95']:.1f} | "
              f"{s['search_cpu_p50']:.1f} |")
    for scale in {s for s, _v in results}:
        before, after = results.get((scale, "before")), results.get((scale, "after"))
        if before and after:
            changed = [r["query"] for r, a in zip(before[0], after[0], strict=True)
                       if {k: v for k, v in a["counts"].items() if k != "charge"} != r["counts"]
                       or dict(a["answer"], facets={k: v for k, v in a["answer"]["facets"].items() if k != "charge"}) != r["answer"]]
            charged = sum(1 for a in after[0] if a["counts"].get("charge"))
            print(f"\n({scale}): answers (hits, totals, other facets) equal in {len(before[0]) - len(changed)} of {len(before[0])} "
                  f"queries {changed or ''}; the charge facet counts values in {charged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
