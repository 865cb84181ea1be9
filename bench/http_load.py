"""Real questions through the production server under load (issue #16): STARD dev questions on /api/search.

    .venv/bin/python -m bench.http_load                         # this tree against 0487648, 2 rounds
    .venv/bin/python -m bench.http_load --baseline none --rounds 1
    .venv/bin/python -m bench.http_load --profile 200           # in-process: where a question's CPU goes

The server is the one `make serve` runs: gunicorn with deploy/gunicorn.conf.py, 2 workers
(``--workers``), ``webapp.wsgi:app`` (preloaded), over the scale (b) index of bench.stard
(bench/out/relevance/index-ours). The baseline is the code of a git commit (``git archive`` into
bench/out), run with the same Python and packages on the same index. Variants alternate within
each round, so the machine's load falls on both.

Each server first answers 100 questions at 8 clients (warm-up: its caches hold what a server that
has been running holds), then 1, 4 and 8 closed-loop clients each ask their own slice of the other
708 dev questions, each question once: no answer comes from the facet cache of a repeated query.
Recorded per level: latency p50/p95/p99, throughput, and the CPU seconds the gunicorn processes
used per question (their utime + stime from /proc, the service time a question costs, which holds
up better than wall time on this shared 2-core machine), with the load average around the run.
The JSON answers of the two variants are compared question by question (every field but the
timing-free ones is the same when the search is the same). Figures go to
bench/out/http-load/results.json and, as Markdown, to stdout. Requests go to 127.0.0.1 only,
bounded in number and time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.build_speed import source_of
from bench.perf import children_of, free_port, http_get, load_test, stop_server
from bench.stard import QUESTIONS
from indexer.training import load_questions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "http-load"
INDEX = ROOT / "bench" / "out" / "relevance" / "index-ours"
BASELINE = "0487648"  # main before this work on query speed
WARM_UP = 100
LEVELS = ((1, 100), (4, 200), (8, 408))  # (clients, questions); slices of the dev questions after the warm-up ones
MAX_SECONDS = 300  # per level: a load loop stops by itself


def process_cpu(pids: list[int]) -> float:
    """Return the CPU seconds (user + system) ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def ask(port: int, questions: list[str], clients: int, answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ask every question once from ``clients`` closed-loop threads; return latencies and statuses."""

    def keep(question: str, body: bytes) -> None:
        if answers is not None:
            answers[question] = json.loads(body)

    return load_test(port, questions, clients=clients, max_requests=len(questions), max_seconds=MAX_SECONDS,
                     path_of=lambda question: "/api/search?" + urllib.parse.urlencode({"q": question}), on_answer=keep)


def run_variant(variant: str, baseline: str, questions: list[str], workers: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start gunicorn on one variant's code, warm it up, load it at each level; return its figures and answers."""
    src = source_of("before" if variant == "baseline" else "after", baseline)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src), "KB_INDEX_DIR": str(INDEX)}
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-c", str(src / "deploy" / "gunicorn.conf.py"), "-w", str(workers),
           "-b", f"127.0.0.1:{port}", "--log-level", "warning", "webapp.wsgi:app"]
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"server-{variant}.log"
    answers: dict[str, Any] = {}
    result: dict[str, Any] = {"variant": variant, "levels": []}
    with open(log, "w", encoding="utf-8") as handle:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=src, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while time.perf_counter() - started < 180 and proc.poll() is None:
            try:
                if http_get(port, "/-/health", timeout=60)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"{variant}: the server did not answer within 180 s; see {log}")
        result["ready_s"] = time.perf_counter() - started
        ask(port, questions[:WARM_UP], 8)
        offset = WARM_UP
        for clients, count in LEVELS:
            batch = questions[offset:offset + count]
            offset += count
            pids = [proc.pid, *children_of(proc.pid)]
            cpu_before, load_before = process_cpu(pids), os.getloadavg()[0]
            figures = ask(port, batch, clients, answers)
            cpu = process_cpu(pids) - cpu_before
            figures.update(clients=clients, server_cpu_s=cpu, cpu_ms_per_question=cpu / max(1, figures["n"]) * 1000,
                           load_before=load_before, load_after=os.getloadavg()[0])
            result["levels"].append(figures)
            print(f"[{time.strftime('%H:%M:%S')}] {variant} {clients} clients: p50 {figures['p50']:.0f} / p95 "
                  f"{figures['p95']:.0f} ms, {figures['rps']:.1f} q/s, server CPU {figures['cpu_ms_per_question']:.1f} ms/question, "
                  f"load {load_before:.1f} -> {figures['load_after']:.1f}", flush=True)
    finally:
        stop_server(proc, timeout=20)
    return result, answers


def same_answers(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Return the questions whose JSON answers differ between two variants."""
    return [q for q in first if q in second and first[q] != second[q]]


def profile(count: int) -> None:
    """Print where an in-process STARD question's CPU goes (cProfile over ``count`` questions, after 20 to warm up)."""
    import cProfile
    import pstats

    from indexer.search import SearchIndex

    questions = [q.text for q in load_questions(QUESTIONS)]
    index = SearchIndex(INDEX)
    for question in questions[:20]:
        json.dumps(index.search(question).to_dict(), ensure_ascii=False)
    profiler = cProfile.Profile()
    cpu = time.process_time()
    profiler.enable()
    for question in questions[20:20 + count]:
        json.dumps(index.search(question).to_dict(), ensure_ascii=False)
    profiler.disable()
    print(f"{count} questions, {(time.process_time() - cpu) / count * 1000:.1f} ms CPU each under the profiler")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default=BASELINE, help=f"the commit to compare with (default {BASELINE}); 'none' for this tree alone")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=int, metavar="N", help="profile N questions in-process instead")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    if not (INDEX / "CURRENT").is_file():
        raise SystemExit(f"no scale (b) index at {INDEX}: build it with .venv/bin/python -m bench.stard --index-only")
    questions = [q.text for q in load_questions(QUESTIONS)]
    variants = (["baseline"] if args.baseline != "none" else []) + ["this tree"]
    runs: list[dict[str, Any]] = []
    answers: dict[str, dict[str, Any]] = {}
    for round_ in range(args.rounds):
        for variant in variants:
            result, answered = run_variant(variant, args.baseline, questions, args.workers)
            result["round"] = round_ + 1
            runs.append(result)
            answers.setdefault(variant, {}).update(answered)
    differ = same_answers(answers["baseline"], answers["this tree"]) if len(variants) == 2 else []
    report = {"command": " ".join(["python -m bench.http_load", *(argv if argv is not None else sys.argv[1:])]),
              "baseline": args.baseline, "workers": args.workers, "cpus": os.cpu_count(), "runs": runs,
              "answers_compared": len(answers.get("this tree", {})), "answers_differ": differ,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    (OUT / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print()
    print("| variant | clients | p50 ms | p95 ms | p99 ms | questions/s | server CPU ms per question | load avg | runs (p95 ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variant in variants:
        for clients, _count in LEVELS:
            levels = [level for run in runs if run["variant"] == variant for level in run["levels"] if level["clients"] == clients]
            loads = [x for level in levels for x in (level["load_before"], level["load_after"])]
            print(f"| {variant} | {clients} | {statistics.median(v['p50'] for v in levels):.0f} | "
                  f"{statistics.median(v['p95'] for v in levels):.0f} | {statistics.median(v['p99'] for v in levels):.0f} | "
                  f"{statistics.median(v['rps'] for v in levels):.1f} | {statistics.median(v['cpu_ms_per_question'] for v in levels):.1f} | "
                  f"{min(loads):.1f}-{max(loads):.1f} | {', '.join(str(round(v['p95'])) for v in levels)} |")
    if len(variants) == 2:
        print(f"\nJSON answers compared: {report['answers_compared']}; differ: {len(differ)}"
              + (f" ({'; '.join(differ[:5])})" if differ else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
