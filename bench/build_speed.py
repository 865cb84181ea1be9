"""Full-build speed at scale (b), before and after, in one command (issue #16).

    .venv/bin/python -m bench.build_speed                     # before = 2ddc477, after = this tree; 3 rounds
    .venv/bin/python -m bench.build_speed --rounds 5 --variants before,after,after-1proc

Each build is a clean `build_index` of content/ + the imported statute corpus (bench/out/statutes,
made by `bench.corpus`) in a child process; its wall time, CPU seconds (user + system, the
child's and its workers', from wait4) and peak RSS are recorded. Variants alternate within each
round, so a change in the machine's load falls on all of them; the load average is recorded
around every build. "before" is the code of a git commit (``git archive`` into bench/out), run
with the same Python and packages. At the end the top 10 ids of 50 queries (bench/queries.py's
keywords and questions) are compared between the indexes, searched with this tree's code.
The build process's own CPU seconds are recorded apart from its children's (the forked worker,
and git for file dates): on two otherwise idle cores the wall time would be about the larger of
the two shares, so they show what the machine's load hides.
Figures go to bench/out/build-speed/results.json and, as a Markdown table, to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.corpus import CONTENT, OUT, ROOT, STATUTES, ensure_statutes

HERE = OUT / "build-speed"
BEFORE = "2ddc477"  # the last commit before issue #16's build work
BUILD = """
import json, resource, sys, time
from pathlib import Path
from indexer.build import build_index
started = time.perf_counter()
report = build_index([Path(d) for d in sys.argv[2:]], Path(sys.argv[1]), clean=True)
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("RESULT " + json.dumps({"documents": report.documents, "seconds": time.perf_counter() - started,
                              "parent_cpu_s": own.ru_utime + own.ru_stime, "children_cpu_s": children.ru_utime + children.ru_stime}))
"""


def source_of(variant: str, commit: str) -> Path:
    """Return the folder whose code a variant runs: this tree, or ``commit`` extracted into bench/out."""
    if not variant.startswith("before"):
        return ROOT
    folder = HERE / f"src-{commit}"
    if not (folder / "indexer" / "build.py").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run_build(variant: str, commit: str) -> dict:
    """Build scale (b) with one variant in a child process; return its figures."""
    src = source_of(variant, commit)
    out = HERE / f"index-{variant}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    if variant.endswith("-1proc"):
        env["KB_BUILD_PROCS"] = "1"
    load_before = os.getloadavg()[0]
    log = HERE / f"build-{variant}.log"
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        proc = subprocess.Popen([sys.executable, "-c", BUILD, str(out), str(CONTENT), str(STATUTES)], cwd=src, env=env,
                                stdout=handle, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)  # CPU of the build and of the workers it waited for
    wall = time.perf_counter() - started
    text = log.read_text(encoding="utf-8")
    result = next((json.loads(line[7:]) for line in text.splitlines() if line.startswith("RESULT ")), None)
    if status != 0 or result is None:
        raise SystemExit(f"{variant}: the build failed (wait status {status}):\n{text[-3000:]}")
    return {"variant": variant, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "load_before": load_before, "load_after": os.getloadavg()[0], **result}


def same_results(variants: list[str]) -> dict:
    """Compare the top 10 ids of 50 queries between the variants' indexes (searched with this tree's code)."""
    from bench.queries import KEYWORDS, QUESTIONS
    from indexer import SearchIndex

    queries = (KEYWORDS[:30] + QUESTIONS[:20])[:50]
    tops = {v: [[h.id for h in SearchIndex(HERE / f"index-{v}").search(q).results[:10]] for q in queries] for v in variants}
    first = variants[0]
    differ = {v: [q for q, a, b in zip(queries, tops[first], tops[v], strict=True) if a != b] for v in variants[1:]}
    return {"queries": len(queries), "differ": differ}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="before,after", help="before, after, after-1proc (comma-separated)")
    parser.add_argument("--before", default=BEFORE, help=f"the commit 'before' runs (default {BEFORE})")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    HERE.mkdir(parents=True, exist_ok=True)
    ensure_statutes()
    runs = []
    for round_ in range(args.rounds):
        for variant in variants:
            run = run_build(variant, args.before)
            run["round"] = round_ + 1
            runs.append(run)
            print(f"[{time.strftime('%H:%M:%S')}] round {round_ + 1} {variant}: {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU "
                  f"(build process {run['parent_cpu_s']:.1f}, its children {run['children_cpu_s']:.1f}), "
                  f"{run['documents']} documents, load {run['load_before']:.1f} -> {run['load_after']:.1f}", flush=True)
    compared = same_results(variants)
    result = {"command": " ".join([Path(sys.executable).name, "-m", "bench.build_speed", *(argv or sys.argv[1:])]),
              "before": args.before, "cpus": os.cpu_count(), "runs": runs, "same_results": compared,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (HERE / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print()
    print("| variant | wall s (median) | CPU s (median) | of which build process / children | peak RSS MB | documents | load avg during runs | runs (wall s) |")
    print("|---|---|---|---|---|---|---|---|")
    for variant in variants:
        mine = [r for r in runs if r["variant"] == variant]
        loads = [r["load_before"] for r in mine] + [r["load_after"] for r in mine]
        print(f"| {variant} | {statistics.median(r['wall_s'] for r in mine):.1f} | {statistics.median(r['cpu_s'] for r in mine):.1f} "
              f"| {statistics.median(r['parent_cpu_s'] for r in mine):.1f} / {statistics.median(r['children_cpu_s'] for r in mine):.1f} "
              f"| {max(r['peak_rss_mb'] for r in mine):.0f} | {mine[0]['documents']} | {min(loads):.1f}-{max(loads):.1f} "
              f"| {', '.join(str(round(r['wall_s'])) for r in mine)} |")
    print(f"\nTop 10 of {compared['queries']} queries against {variants[0]}: "
          + "; ".join(f"{v}: {len(d)} differ" + (f" ({', '.join(d[:5])})" if d else "") for v, d in compared["differ"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
