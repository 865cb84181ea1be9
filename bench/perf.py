"""Performance at scale (issue #5): builds, query latency, HTTP, incremental updates, start-up, memory.

One command runs everything and writes bench/RESULTS.md and bench/scale.png::

    make bench                                    # = .venv/bin/python -m bench.perf
    .venv/bin/python -m bench.perf --scales a,b   # a subset; (c) takes the longest
    .venv/bin/python -m bench.perf --rebuild      # rebuild (and re-time) every cached index

Scales: (a) content/; (b) content/ + the whole statute corpus imported; (c) (b) + the 9,088 real
criminal judgments of LeCaRD imported (`kb import lecard`; until issue #13, 50,000 generated
rulings). Heavy artefacts are cached in bench/out/ (the imported corpora, every index with the
figures of the build that made it); an index is rebuilt when the analyzer, schema or build code
changed, when its scale's data set changed, or with --rebuild. Every build and query benchmark runs in a child process,
so its peak memory is its own. Each figure is printed with its ratio against a baseline measured
in the same command: the naive setup (Whoosh + jieba.analyse.ChineseAnalyzer, defaults), SQLite
FTS5 and tantivy over the same cut. Load loops are bounded in count and in time, on 127.0.0.1 only.
No figure here is a test assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import corpus
from bench.corpus import OUT, ROOT, Scale

BENCH = ROOT / "bench"
RESULTS_MD = BENCH / "RESULTS.md"
CHART = BENCH / "scale.png"
BIN = Path(sys.executable).parent
ENGINES = ("ours", "naive", "fts5", "tantivy", "proposed")
SEARCH_ONLY = {"proposed": "ours"}  # engines that search another engine's index
TARGETS = {"build_s": 120, "build_vs_naive": 3.0, "query_p50_ms": 10, "query_p95_ms": 50, "http_p95_ms": 100,
           "update_s": 1.0, "ready_s": 3.0, "rss_mb": 600}
HTTP_CLIENTS = 8
# The data sets of cached builds that did not record theirs (before issue #13, (c) held generated rulings).
LABELS_BEFORE_13 = {"a": "content/", "b": "content/ + statute corpus", "c": "(b) + 50,000 generated rulings"}


# -- helpers -------------------------------------------------------------------------------------

def log(message: str) -> None:
    """Print a progress line with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def ratio(value: float | None, base: float | None) -> str:
    """Return 'x.xx×' for value/base, or '–'."""
    if not value or not base:
        return "–"
    return f"{value / base:.2f}×"


def folder_mb(path: Path) -> float:
    """Return the size of the files below ``path`` in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def code_fingerprint() -> str:
    """Return a hash of the code that decides what an index holds (a change means rebuild)."""
    digest = hashlib.sha256()
    for rel in ("indexer/analyzer.py", "indexer/schema.py", "indexer/build.py", "kb/loader.py", "kb/entry.py",
                "bench/engines.py", "indexer/data/legal_terms.txt", "indexer/data/stopwords.txt"):
        path = ROOT / rel
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def proc_memory(pid: int) -> dict[str, float]:
    """Return the RSS and PSS (MB) of process ``pid`` from /proc."""
    out = {"rss_mb": 0.0, "pss_mb": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def children_of(pid: int) -> list[int]:
    """Return the child process ids of ``pid``."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def machine() -> dict[str, str]:
    """Return what the figures were measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        mem = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GB"
    except (OSError, ValueError):
        pass
    versions = {}
    for name in ("whoosh", "jieba", "rjieba", "tantivy", "flask", "gunicorn"):
        try:
            from importlib.metadata import version

            dist = {"whoosh": "whoosh-reloaded"}.get(name, name)
            versions[name] = version(dist)
        except Exception:  # noqa: BLE001 - report what is there
            versions[name] = "absent"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "sqlite": __import__("sqlite3").sqlite_version,
            **{f"{k} version": v for k, v in versions.items()}}


def run_child(task: dict[str, Any], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``task`` in a child Python; return its result with its peak RSS and wall time."""
    OUT.mkdir(parents=True, exist_ok=True)
    logfile = OUT / f"child-{task['task']}-{task.get('engine', '')}-{task.get('scale', '')}.log"
    started = time.perf_counter()
    with open(logfile, "w", encoding="utf-8") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "bench.perf", "--child", json.dumps(task, ensure_ascii=False)],
                                cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    text = logfile.read_text(encoding="utf-8")
    result = None
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
    if result is None:
        tail = "\n".join(text.splitlines()[-15:])
        return {"error": f"exit {proc.returncode} after {wall:.0f} s (timeout {timeout:.0f} s); see {logfile}:\n{tail}"}
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["wall_s"] = wall
    return result


# -- child tasks ---------------------------------------------------------------------------------

def child(task: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark task in this (child) process and return its figures."""
    kind = task["task"]
    if kind == "build":
        from bench.engines import BUILDERS

        return BUILDERS[task["engine"]]([Path(d) for d in task["dirs"]], Path(task["out"]))
    if kind == "query":
        return child_query(task)
    if kind == "incremental":
        return child_incremental(task)
    if kind == "segment":
        return child_segment(task)
    raise SystemExit(f"unknown task {kind}")


def child_query(task: dict[str, Any]) -> dict[str, Any]:
    """Replay the 200 queries: one warm-up pass, then ``rounds`` timed passes."""
    from bench.engines import SEARCHERS
    from bench.queries import load_queries

    started = time.perf_counter()
    engine = SEARCHERS[task["engine"]](Path(task["out"]))
    opened = time.perf_counter() - started
    queries = load_queries()
    totals = []
    errors = 0
    for item in [q for q in queries if q["kind"] in ("keyword", "filter")][:20]:  # warm-up: first-use costs
        engine.search(item["q"], item.get("filters") or {}, item.get("page", 1))
    latencies: list[float] = []
    cpu: list[float] = []
    by_kind: dict[str, list[float]] = {}
    deadline = time.monotonic() + task.get("max_seconds", 300)
    timed_out = False
    for round_no in range(task.get("rounds", 1)):
        for item in queries:
            if time.monotonic() > deadline:
                timed_out = True
                break
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                total = engine.search(item["q"], item.get("filters") or {}, item.get("page", 1))
            except Exception as exc:  # noqa: BLE001 - count, report, go on
                errors += 1
                print("error", item, repr(exc))
                total = -1
            ms = (time.perf_counter() - t0) * 1000
            cpu.append((time.thread_time() - c0) * 1000)
            latencies.append(ms)
            by_kind.setdefault(item["kind"], []).append(ms)
            if round_no == 0:
                totals.append(total)
    slowest = sorted(zip(latencies[: len(queries)], queries), key=lambda x: -x[0])[:5]
    return {"open_s": opened, "n": len(latencies), "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "mean": statistics.fmean(latencies), "errors": errors,
            "cpu_p50": percentile(cpu, 50), "cpu_p95": percentile(cpu, 95), "cpu_p99": percentile(cpu, 99),
            "by_kind": {k: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for k, v in by_kind.items()},
            "timed_out": timed_out, "zero_results": sum(1 for t in totals if t == 0), "rss_mb": proc_memory(os.getpid())["rss_mb"],
            "slowest": [[round(ms, 1), item["kind"], item["q"][:40], item.get("filters"), item.get("page", 1)] for ms, item in slowest]}


def child_incremental(task: dict[str, Any]) -> dict[str, Any]:
    """Edit one statute file, run an incremental build, time until a live searcher finds the edit.

    Two paths, ``repeat`` timed runs each: ``watcher``, one LoadCache passed to every build as
    ``kb serve --watch`` keeps it (a first build warms it, not timed); ``cold``, no cache passed,
    as a new ``kb index`` run (which reads what the previous build saved beside its manifest).
    One more build of each path runs under cProfile, not timed.
    """
    import cProfile
    import io
    import pstats

    from whoosh.index import open_dir

    from indexer.build import build_index, current_build
    from indexer.search import SearchIndex
    from kb.links import StatuteResolver, load_repealed
    from kb.loader import load_all

    dirs = [Path(d) for d in task["dirs"]]
    out = Path(task["out"])
    target = Path(task["file"])
    repeat = task.get("repeat", 3)
    index = SearchIndex(out)
    index.search("刷单")
    original = target.read_text(encoding="utf-8")
    lines = original.split("\n")
    line_no = next(i for i, line in enumerate(lines) if line.startswith("第"))
    counter = iter(range(10**6))

    def edit_build_search(cache: dict | None, profiler: cProfile.Profile | None = None) -> dict[str, Any]:
        marker = f"kbbench{next(counter)}z{os.getpid()}"
        edited = lines.copy()
        edited[line_no] = edited[line_no] + f"（{marker}）"
        t0 = time.perf_counter()
        target.write_text("\n".join(edited), encoding="utf-8")
        if profiler:
            profiler.enable()
        report = build_index(dirs, out, wait=30, **({"cache": cache} if cache is not None else {}))
        if profiler:
            profiler.disable()
        t1 = time.perf_counter()
        found = 0
        while time.perf_counter() - t1 < 30:
            found = index.search(marker).total
            if found:
                break
            time.sleep(0.01)
        t2 = time.perf_counter()
        segments = len(open_dir(str(current_build(out)))._segments())  # a drop shows a merge of small segments
        return {"build_s": t1 - t0, "searchable_s": t2 - t0, "found": found, "mode": report.mode,
                "updated": report.updated, "documents": report.documents, "segments": segments}

    def profile_text(profiler: cProfile.Profile) -> str:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(14)
        return buffer.getvalue()

    paths: dict[str, dict[str, Any]] = {}
    try:
        for name in ("watcher", "cold"):
            cache: dict | None = None
            if name == "watcher":
                cache = {}
                build_index(dirs, out, wait=30, cache=cache)  # warm the cache, as `kb serve --watch` does on start
            runs = [edit_build_search(cache) for _ in range(repeat)]
            profiler = cProfile.Profile()
            edit_build_search(cache, profiler)
            paths[name] = {"runs": runs, "searchable_s": statistics.median(r["searchable_s"] for r in runs),
                           "build_s": statistics.median(r["build_s"] for r in runs), "profile": profile_text(profiler)}
    finally:
        target.write_text(original, encoding="utf-8")
        t0 = time.perf_counter()
        build_index(dirs, out, wait=30)
        revert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = load_all(dirs, include_drafts=False)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    StatuteResolver(loaded.entries, load_repealed(dirs))
    resolver_s = time.perf_counter() - t0
    watcher, cold = paths["watcher"], paths["cold"]
    return {"watcher": watcher, "cold": cold, "searchable_s": watcher["searchable_s"], "build_s": watcher["build_s"],
            "cold_searchable_s": cold["searchable_s"], "revert_s": revert_s, "load_all_s": load_s, "resolver_s": resolver_s,
            "entries": len(loaded.entries)}


def child_segment(task: dict[str, Any]) -> dict[str, Any]:
    """Measure segmentation speed (M characters/s) of jieba, the Whoosh chains and rjieba."""
    import jieba
    from jieba.analyse import ChineseAnalyzer as JiebaChineseAnalyzer

    from indexer import analyzer

    paragraphs: list[str] = []
    budget = task.get("chars", 1_000_000)
    for path in sorted(Path(task["source"]).rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("第"):
                paragraphs.append(line)
                budget -= len(line)
        if budget <= 0:
            break
    chars = sum(len(p) for p in paragraphs)
    analyzer.initialize()
    jieba.initialize()
    ours = analyzer.ChineseAnalyzer()
    naive = JiebaChineseAnalyzer()

    def ours_with(name: str):  # type: ignore[no-untyped-def]
        def run() -> int:
            previous = analyzer.set_segmenter(name)
            try:
                return sum(1 for p in paragraphs for _ in ours(p, positions=True, chars=True))
            finally:
                analyzer.set_segmenter(previous)
        return run

    candidates = {
        "jieba.lcut (HMM)": lambda: sum(len(jieba.lcut(p)) for p in paragraphs),
        "jieba.analyse.ChineseAnalyzer (naive)": lambda: sum(1 for p in paragraphs for _ in naive(p)),
        "our ChineseAnalyzer, jieba cut": ours_with("jieba"),
        "our ChineseAnalyzer, rjieba cut": ours_with("rjieba") if analyzer.rjieba else None,
        "rjieba tokenize alone": (lambda: sum(len(analyzer._fast_tokenizer().tokenize(p, "default", True)) for p in paragraphs))
        if analyzer.rjieba else None,
    }
    results = {}
    for name, run in candidates.items():
        if run is None:
            continue
        t0, c0 = time.perf_counter(), time.thread_time()
        tokens = run()
        seconds, cpu = time.perf_counter() - t0, time.thread_time() - c0
        results[name] = {"mchars_s": chars / seconds / 1e6, "mchars_cpu_s": chars / cpu / 1e6, "tokens": tokens,
                         "seconds": seconds, "cpu_s": cpu}
    return {"chars": chars, "results": results}


# -- HTTP ----------------------------------------------------------------------------------------

def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET ``path`` from 127.0.0.1:port; return the status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def search_path(item: dict[str, Any]) -> str:
    """Return the /api/search URL for one benchmark query."""
    params = {"q": item["q"], **(item.get("filters") or {})}
    if item.get("page", 1) != 1:
        params["page"] = str(item["page"])
    return "/api/search?" + urllib.parse.urlencode(params)


def load_test(port: int, queries: list[Any], *, clients: int, max_requests: int, max_seconds: float,
              path_of: Callable[[Any], str] | None = None, on_answer: Callable[[Any, bytes], None] | None = None) -> dict[str, Any]:
    """Send the queries from ``clients`` closed-loop threads until ``max_requests`` or ``max_seconds``; return latencies.

    ``path_of`` makes a query's URL path (default: :func:`search_path`); ``on_answer`` is given
    each query answered with 200 and the answer's body.
    """
    path_of = path_of or search_path
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            query = queries[n % len(queries)]
            path = path_of(query)
            t0 = time.perf_counter()
            try:
                status, body = http_get(port, path)
            except OSError:
                status, body = 0, b""
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1
                if on_answer is not None and status == 200:
                    on_answer(query, body)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"n": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed if elapsed else 0,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def stop_server(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a server started in a session of its own: SIGTERM to its group, SIGKILL if it is still there after ``timeout`` s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def serve_variant(name: str, index: Path, queries: list[dict[str, Any]], *, load: bool, args: argparse.Namespace) -> dict[str, Any]:
    """Start one server variant, time it to its first answer, load it, read its memory, stop it."""
    port = free_port()
    env = {**os.environ, "KB_INDEX_DIR": str(index)}
    if name == "dev server (kb serve)":
        cmd = [str(BIN / "kb"), "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(index)]
    else:
        cmd = [str(BIN / "gunicorn"), "-w", str(args.workers), "--preload", "-b", f"127.0.0.1:{port}", "--timeout", "120",
               "--log-level", "warning"]
        if "conf" in name:
            cmd += ["-c", str(BENCH / "gunicorn_conf.py")]
        cmd.append("webapp:create_app()")
        if "jieba only" in name:
            env["KB_SEGMENTER"] = "jieba"
    logfile = OUT / f"server-{name.split()[0]}-{port}.log"
    with open(logfile, "w") as handle:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    result: dict[str, Any] = {"variant": name}
    try:
        ready = None
        while time.perf_counter() - t0 < 120 and proc.poll() is None:
            try:
                status, _ = http_get(port, "/api/search?q=" + urllib.parse.quote("刷单"), timeout=60)
                if status == 200:
                    ready = time.perf_counter() - t0
                    break
            except OSError:
                time.sleep(0.05)
        result["ready_s"] = ready
        if ready is None:
            result["error"] = f"no answer within 120 s; see {logfile}"
            return result
        if load:
            load_test(port, queries, clients=HTTP_CLIENTS, max_requests=HTTP_CLIENTS * 10, max_seconds=20)  # warm every worker
            result.update(load_test(port, queries, clients=HTTP_CLIENTS, max_requests=args.http_requests, max_seconds=args.http_seconds))
        pids = [proc.pid, *children_of(proc.pid)]
        memory = {pid: proc_memory(pid) for pid in pids}
        workers = [m for pid, m in memory.items() if pid != proc.pid] or list(memory.values())
        result["rss_max_mb"] = max(m["rss_mb"] for m in workers)
        result["rss_master_mb"] = memory[proc.pid]["rss_mb"]
        result["pss_total_mb"] = sum(m["pss_mb"] for m in memory.values())
        result["processes"] = len(pids)
    finally:
        stop_server(proc)
    return result


def bench_http(index: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Measure every server variant: start-up to first answer, latency under load, memory."""
    from bench.queries import load_queries

    queries = load_queries()
    main = f"gunicorn -w {args.workers} --preload + conf"
    variants = [main, f"gunicorn -w {args.workers} --preload (no conf)", f"gunicorn -w {args.workers} --preload + conf, jieba only",
                "dev server (kb serve)"]
    out: dict[str, Any] = {"variants": []}
    for name in variants:
        log(f"  http: {name}")
        out["variants"].append(serve_variant(name, index, queries, load=True, args=args))
    starts = [v["ready_s"] for v in out["variants"][:1] if v.get("ready_s")]
    for _ in range(2):  # two more cold starts of the main variant, for a median
        again = serve_variant(main, index, queries, load=False, args=args)
        if again.get("ready_s"):
            starts.append(again["ready_s"])
    out["ready_median_s"] = statistics.median(starts) if starts else None
    out["ready_runs"] = starts
    return out


# -- orchestration -------------------------------------------------------------------------------

def build_dir(scale: str, engine: str) -> Path:
    """Return the cached index folder of an engine at a scale."""
    return OUT / f"scale-{scale}" / SEARCH_ONLY.get(engine, engine)


def ensure_build(scale: Scale, engine: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build (or reuse) the index of ``engine`` at ``scale``; return the build figures."""
    out = build_dir(scale.name, engine)
    meta = out.parent / f"{engine}.build.json"
    fingerprint = code_fingerprint()
    if meta.is_file() and not args.rebuild and out.exists():
        cached = json.loads(meta.read_text(encoding="utf-8"))
        held = cached.get("label", LABELS_BEFORE_13.get(scale.name))
        if held != scale.label:
            log(f"  build {engine}: the cached index holds {held}: rebuilding")
        elif (cached.get("fingerprint") == fingerprint or args.reuse) and "error" not in cached:
            if cached.get("fingerprint") != fingerprint:
                log(f"  build {engine}: reusing an index built by other code (--reuse)")
            cached["cached"] = True
            log(f"  build {engine}: cached ({cached['seconds']:.1f} s on {cached['measured_on']})")
            return cached
    log(f"  build {engine} ...")
    result = run_child({"task": "build", "engine": engine, "scale": scale.name, "dirs": [str(d) for d in scale.dirs], "out": str(out)},
                       timeout=args.build_timeout)
    if "error" in result:
        log(f"  build {engine} FAILED: {result['error']}")
        return result
    result["size_mb"] = folder_mb(out)
    result["docs_per_s"] = result["documents"] / result["seconds"]
    result["fingerprint"] = fingerprint
    result["label"] = scale.label
    result["measured_on"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    result["cached"] = False
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(result, indent=1), encoding="utf-8")
    log(f"  build {engine}: {result['seconds']:.1f} s, {result['documents']} docs, {result['size_mb']:.0f} MB, peak {result['peak_rss_mb']:.0f} MB")
    return result


def bench_scale(scale: Scale, engines: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Run every benchmark at one scale; return its figures (also saved to bench/out)."""
    started = time.perf_counter()
    log(f"scale ({scale.name}): {scale.label}")
    res: dict[str, Any] = {"scale": scale.name, "label": scale.label, "builds": {}, "queries": {},
                           "measured_on": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "commands": [args.command]}
    text_mb = sum(p.stat().st_size for d in scale.dirs for p in d.rglob("*.md")) / 1e6
    res["text_mb"] = text_mb
    for engine in engines:
        if engine not in SEARCH_ONLY:
            res["builds"][engine] = ensure_build(scale, engine, args)
    for engine in engines:
        if "error" in res["builds"].get(SEARCH_ONLY.get(engine, engine), {"error": "not built"}):
            continue
        log(f"  queries {engine} ...")
        q = run_child({"task": "query", "engine": engine, "scale": scale.name, "out": str(build_dir(scale.name, engine)),
                       "rounds": args.rounds, "max_seconds": args.query_seconds}, timeout=args.query_seconds * 3 + 300)
        res["queries"][engine] = q
        if "error" in q:
            log(f"  queries {engine} FAILED: {q['error']}")
        else:
            log(f"  queries {engine}: p50 {q['p50']:.1f} ms, p95 {q['p95']:.1f} ms, p99 {q['p99']:.1f} ms")
    ours = build_dir(scale.name, "ours")
    if "http" not in args.skip and "error" not in res["builds"].get("ours", {"error": 1}):
        res["http"] = bench_http(ours, args)
    if "incremental" not in args.skip and "error" not in res["builds"].get("ours", {"error": 1}):
        target = pick_edit_file(scale)
        log(f"  incremental: editing {target.relative_to(ROOT)}")
        res["incremental"] = run_child({"task": "incremental", "scale": scale.name, "dirs": [str(d) for d in scale.dirs],
                                        "out": str(ours), "file": str(target), "repeat": 3}, timeout=900)
        if "error" not in res["incremental"]:
            log(f"  incremental: searchable after {res['incremental']['searchable_s']:.2f} s with the watcher's cache, "
                f"{res['incremental']['cold_searchable_s']:.2f} s cold (medians of 3)")
    res["seconds"] = time.perf_counter() - started
    previous_file = OUT / f"results-{scale.name}.json"
    previous = json.loads(previous_file.read_text(encoding="utf-8")) if previous_file.is_file() else {}
    if previous.get("label") == scale.label:  # keep what an earlier run measured on the same data and this one did not
        for part in ("builds", "queries"):
            for engine, figures in previous.get(part, {}).items():
                if engine not in res[part]:
                    figures.setdefault("measured_on", previous.get("measured_on"))
                    res[part][engine] = figures
        for part in ("http", "incremental"):
            if part not in res and part in previous:
                res[part] = previous[part]
        res["commands"] = list(dict.fromkeys([*previous.get("commands", []), args.command]))
    (OUT / f"results-{scale.name}.json").write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    log(f"scale ({scale.name}) done in {res['seconds'] / 60:.1f} min")
    return res


def pick_edit_file(scale: Scale) -> Path:
    """Return the statute file the incremental benchmark edits (the Civil Code's first part if there)."""
    for folder in scale.dirs:
        for path in sorted(folder.rglob("*.md")):
            if "statutes" in path.parts or folder == corpus.STATUTES:
                text = path.read_text(encoding="utf-8")
                if "\n第" in text and path.stat().st_size > 2000:
                    return path
    raise SystemExit("no statute file to edit")


# -- report --------------------------------------------------------------------------------------

def fmt(value: Any, digits: int = 1) -> str:
    """Format a number for the tables."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def write_report(all_results: dict[str, dict[str, Any]], segment: dict[str, Any] | None, command: str,
                 env_info: dict[str, str], loads: list[str], took: dict[str, float]) -> str:
    """Write bench/RESULTS.md from the figures; return its text."""
    lines = ["# Performance at scale: results", "",
             "Produced by one command (from the repository root):", "", "```sh", command, "```", "",
             "`make bench` runs `.venv/bin/python -m bench.perf` (all three scales). Subsets: `--scales a,b`; "
             "`--rebuild` rebuilds and re-times every cached index in `bench/out/`. See `bench/perf.py` for what each "
             "figure is. Figures for a scale not run this time come from its last run (date shown).", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in env_info.items()]
    lines += [f"- load average (1, 5, 15 min) {w}: {v}" for w, v in zip(("at start", "at end"), loads)]
    lines += ["- The machine is shared: other jobs ran during the measurements, so absolute times are noisy "
              "(a few tens of percent); ratios measured in the same run are steadier.", ""]
    if took:
        lines += ["Wall time of this run per scale: " + ", ".join(f"({k}) {v / 60:.1f} min" for k, v in took.items()), ""]
    b = all_results.get("b")
    lines += ["## Targets on (b)", ""]
    if b:
        lines += target_table(b)
    else:
        lines += ["Scale (b) has not been run yet."]
    lines += [""]
    for name in ("a", "b", "c"):
        res = all_results.get(name)
        if not res:
            continue
        lines += scale_section(res)
    if segment and "results" in segment:
        lines += ["## Segmentation speed", "",
                  f"{segment['chars']:,} characters of statute articles, one pass each, in one child process.", "",
                  "| segmenter | M chars per wall s | M chars per CPU s | tokens | speed vs naive analyzer (CPU) |",
                  "|---|---:|---:|---:|---:|"]
        key = "mchars_cpu_s" if all("mchars_cpu_s" in r for r in segment["results"].values()) else "mchars_s"
        base = segment["results"].get("jieba.analyse.ChineseAnalyzer (naive)", {}).get(key)
        for name, r in segment["results"].items():
            lines.append(f"| {name} | {r['mchars_s']:.2f} | {fmt(r.get('mchars_cpu_s'), 2)} | {r['tokens']:,} | {ratio(r[key], base)} |")
        lines += ["", "Token counts differ between rows because the chains differ (the naive analyzer adds "
                  "search-mode sub-words and drops stop words and one-character tokens; ours adds dictionary sub-words). "
                  "Our analyzer's two rows must show the same count: the rjieba cut gives jieba's tokens "
                  "(tests/test_analyzer_parity.py). `rjieba tokenize alone` is the raw cut, before the re-cut of "
                  "letter/digit runs that makes it identical to jieba (so its count differs slightly).", ""]
    notes = BENCH / "notes.md"
    if notes.is_file():
        lines += [notes.read_text(encoding="utf-8").strip(), ""]
    lines += ["## Chart", "", "![scale](scale.png)", "",
              "`bench/scale.png`: build time, peak build memory, query p50/p95 and index size against the number "
              "of documents, for each engine at (a), (b), (c).", ""]
    text = "\n".join(lines) + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")
    return text


def target_table(b: dict[str, Any]) -> list[str]:
    """Return the table of issue #5's targets against the (b) figures."""
    ours = b["builds"].get("ours", {})
    naive = b["builds"].get("naive", {})
    q = b["queries"].get("ours", {})
    http = b.get("http", {})
    main = (http.get("variants") or [{}])[0]
    inc = b.get("incremental", {})
    rows = [
        ("full build ≤ 120 s", ours.get("seconds"), ours.get("seconds", 1e9) <= TARGETS["build_s"], "s"),
        ("full build ≥ 3× faster than naive", naive.get("seconds", 0) / ours["seconds"] if ours.get("seconds") and naive.get("seconds") else None,
         bool(ours.get("seconds") and naive.get("seconds") and naive["seconds"] / ours["seconds"] >= TARGETS["build_vs_naive"]), "×"),
        ("in-process query p50 ≤ 10 ms", q.get("p50"), q.get("p50", 1e9) <= TARGETS["query_p50_ms"], "ms"),
        ("in-process query p95 ≤ 50 ms", q.get("p95"), q.get("p95", 1e9) <= TARGETS["query_p95_ms"], "ms"),
        ("HTTP p95 ≤ 100 ms at 8 clients", main.get("p95"), main.get("p95", 1e9) <= TARGETS["http_p95_ms"], "ms"),
        ("edited file searchable ≤ 1 s (`kb serve --watch`: load cache kept across builds)", (inc.get("watcher") or {}).get("searchable_s"),
         (inc.get("watcher") or {}).get("searchable_s", 1e9) <= TARGETS["update_s"], "s"),
        ("server ready ≤ 3 s (median of 3 cold starts)", http.get("ready_median_s"), (http.get("ready_median_s") or 1e9) <= TARGETS["ready_s"], "s"),
        ("serving memory ≤ 600 MB (largest worker RSS)", main.get("rss_max_mb"), main.get("rss_max_mb", 1e9) <= TARGETS["rss_mb"], "MB"),
    ]
    out = ["| target | measured | met |", "|---|---:|:---:|"]
    for label, value, met, unit in rows:
        out.append(f"| {label} | {fmt(value, 2)} {unit} | {'yes' if met and value is not None else '**no**'} |")
    return out


def scale_section(res: dict[str, Any]) -> list[str]:
    """Return the Markdown section of one scale."""
    lines = [f"## Scale ({res['scale']}): {res['label']}", "",
             f"Measured {res['measured_on']}; {res['text_mb']:.1f} MB of Markdown."
             + (" Figures of this scale come from:" if res.get("commands") else ""), "",
             *(["```sh", *res["commands"], "```", ""] if res.get("commands") else []), "### Full build", "",
             "| engine | seconds | CPU s | documents | docs/s | index MB | peak RSS MB | time vs naive | measured |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    naive = res["builds"].get("naive", {})
    for engine, r in res["builds"].items():
        if "error" in r:
            lines.append(f"| {engine} | failed: {r['error'].splitlines()[0]} | | | | | | | |")
            continue
        lines.append(f"| {engine} | {r['seconds']:.1f} | {r.get('cpu_s', 0):.1f} | {r['documents']:,} | {r['docs_per_s']:,.0f} | {r['size_mb']:.0f} | "
                     f"{r['peak_rss_mb']:.0f} | {ratio(r['seconds'], naive.get('seconds'))} | "
                     f"{r['measured_on']}{' (cached)' if r.get('cached') else ''} |")
    lines += ["", "### In-process query latency (200 fixed queries, bench/queries.json)", "",
              "| engine | p50 ms | p95 ms | p99 ms | mean ms | CPU p50 / p95 / p99 ms | p50 vs naive | p95 vs naive | queries timed | zero-result | RSS MB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    nq = res["queries"].get("naive", {})
    for engine, q in res["queries"].items():
        if "error" in q:
            lines.append(f"| {engine} | failed | | | | | | | | | |")
            continue
        label = engine if not q.get("timed_out") else f"{engine} (**stopped at the time limit**)"
        lines.append(f"| {label} | {q['p50']:.2f} | {q['p95']:.2f} | {q['p99']:.2f} | {q['mean']:.2f} | "
                     f"{q.get('cpu_p50', 0):.2f} / {q.get('cpu_p95', 0):.2f} / {q.get('cpu_p99', 0):.2f} | {ratio(q['p50'], nq.get('p50'))} | "
                     f"{ratio(q['p95'], nq.get('p95'))} | {q['n']} | {q['zero_results']} | {q['rss_mb']:.0f} |")
    ours_q = res["queries"].get("ours", {})
    if "by_kind" in ours_q:
        lines += ["", "Ours by kind of query (p50 / p95 ms): " + "; ".join(
            f"{k} {v['p50']:.1f} / {v['p95']:.1f}" for k, v in sorted(ours_q["by_kind"].items())) + ".",
            "Slowest (ms, kind, query, filters, page): " + "; ".join(str(s) for s in ours_q.get("slowest", [])[:3]) + "."]
    lines += ["", "Ours computes facet counts, highlights and query expansion on every query; the naive setup, "
              "FTS5 and tantivy return a page of ids and titles and a total. `proposed` is ours with the change "
              "proposed for indexer/search.py in bench/proposals.py (a long query keeps its 12 most specific words), "
              "over the same index.", ""]
    http = res.get("http")
    if http:
        lines += ["### HTTP (8 concurrent clients on 127.0.0.1, `/api/search` over the same 200 queries)", "",
                  "| server | ready s | requests | req/s | p50 ms | p95 ms | p99 ms | p95 vs dev server | largest worker RSS MB | master RSS MB | PSS total MB | statuses |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        dev = next((v for v in http["variants"] if v["variant"].startswith("dev")), {})
        for v in http["variants"]:
            if "error" in v:
                lines.append(f"| {v['variant']} | failed: {v['error']} | | | | | | | | | | |")
                continue
            lines.append(f"| {v['variant']} | {fmt(v.get('ready_s'), 2)} | {v.get('n', 0)} | {fmt(v.get('rps'))} | {fmt(v.get('p50'))} | "
                         f"{fmt(v.get('p95'))} | {fmt(v.get('p99'))} | {ratio(v.get('p95'), dev.get('p95'))} | {fmt(v.get('rss_max_mb'), 0)} | "
                         f"{fmt(v.get('rss_master_mb'), 0)} | {fmt(v.get('pss_total_mb'), 0)} | {v.get('statuses')} |")
        lines += ["", f"Cold starts of the first server to its first answered query: {', '.join(f'{s:.2f}' for s in http.get('ready_runs', []))} s "
                  f"(median {fmt(http.get('ready_median_s'), 2)} s). `+ conf` is `-c bench/gunicorn_conf.py`, which loads jieba, the fast "
                  "segmenter and the index's dictionary in the master before the fork; without it each worker loads them on its "
                  "first request. `jieba only` sets KB_SEGMENTER=jieba.", ""]
    inc = res.get("incremental")
    if inc and "error" not in inc:
        full = res["builds"].get("ours", {}).get("seconds")
        # Results saved before the watcher path was measured hold one path, the cold one, at the top level.
        paths = {name: inc[name] for name in ("watcher", "cold") if name in inc} or {"cold": inc}
        lines += ["### Incremental update (edit one statute file, `build_index` incremental, poll a live SearchIndex)", "",
                  "Two paths: **watcher**, one `LoadCache` passed to every build, as `kb serve --watch` keeps it (a first build "
                  "warms it, not timed); **cold**, no cache passed, as a new `kb index` run, which reads the files' cache the "
                  "previous build saved beside its manifest (`entries.pickle`). A drop in segments shows a merge of the small "
                  "segments incremental updates leave (Whoosh's MERGE_SMALL, in a commit after the update's).", "",
                  "| path | run | build s | searchable after s | mode | updated files | documents written | segments after |",
                  "|---|---:|---:|---:|---|---:|---:|---:|"]
        for name, figures in paths.items():
            for i, r in enumerate(figures["runs"], 1):
                lines.append(f"| {name} | {i} | {r['build_s']:.2f} | {r['searchable_s']:.2f} | {r['mode']} | {r['updated']} | "
                             f"{r['documents']} | {r.get('segments', '–')} |")
        medians = "; ".join(f"{name} {figures['searchable_s']:.2f} s" + (f" ({figures['searchable_s'] / full:.2%} of a full build)" if full else "")
                            for name, figures in paths.items())
        lines += ["", f"Median searchable after: {medians}. Without any cache, loading and hashing all {inc['entries']:,} entries "
                  f"(`load_all`) takes {inc['load_all_s']:.2f} s and building the StatuteResolver (which splits every statute "
                  f"into articles) {inc['resolver_s']:.2f} s.", ""]
        for name, figures in paths.items():
            lines += [f"<details><summary>profile of one incremental build ({name} path)</summary>", "",
                      "```", figures.get("profile", "").strip()[:6000], "```", "</details>", ""]
    elif inc:
        lines += ["### Incremental update", "", f"failed: {inc['error']}", ""]
    return lines


def draw_chart(all_results: dict[str, dict[str, Any]]) -> None:
    """Draw bench/scale.png: build time, memory, latency, size against documents, per engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in ("a", "b", "c") if n in all_results]
    if not names:
        return
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    panels = [("full build (s)", lambda r, e: r["builds"].get(e, {}).get("seconds")),
              ("peak build RSS (MB)", lambda r, e: r["builds"].get(e, {}).get("peak_rss_mb")),
              ("query latency (ms): p50 solid, p95 dashed", None),
              ("index size on disk (MB)", lambda r, e: r["builds"].get(e, {}).get("size_mb"))]
    colours = {"ours": "tab:blue", "naive": "tab:red", "fts5": "tab:green", "tantivy": "tab:purple", "proposed": "tab:cyan"}
    for ax, (title, get) in zip(axes.flat, panels):
        for engine in ENGINES:
            xs, ys, ys95 = [], [], []
            for n in names:
                r = all_results[n]
                docs = r["builds"].get("ours", {}).get("documents") or r["builds"].get(engine, {}).get("documents")
                if get is None:
                    q = r["queries"].get(engine, {})
                    value, value95 = q.get("p50"), q.get("p95")
                else:
                    value, value95 = get(r, engine), None
                if docs and value:
                    xs.append(docs)
                    ys.append(value)
                    ys95.append(value95)
            if xs:
                ax.plot(xs, ys, "o-", color=colours[engine], label=engine)
                if get is None and all(ys95):
                    ax.plot(xs, ys95, "o--", color=colours[engine], alpha=0.6)
                for x, y, n in zip(xs, ys, names):
                    ax.annotate(f"({n})", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents in the index (log)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("NetCourt KB at scale: (a) content/, (b) + statute corpus, (c) + 9,088 LeCaRD judgments")
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named on the command line and write RESULTS.md and scale.png."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="a,b,c", help="comma-separated subset of a,b,c (default: all)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of ours,naive,fts5,tantivy")
    parser.add_argument("--rebuild", action="store_true", help="rebuild and re-time every index, even if cached")
    parser.add_argument("--reuse", action="store_true",
                        help="use cached indexes even if the analyzer, schema or build code changed since (for changes that cannot alter what an index holds)")
    parser.add_argument("--regenerate", action="store_true", help="import the statute corpus and the LeCaRD judgments again")
    parser.add_argument("--skip", default="", help="comma-separated: http, incremental, segment")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the 200 queries (after 20 warm-up queries)")
    parser.add_argument("--query-seconds", type=float, default=420, help="stop timing queries after this long, per engine")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers (default: one per core; at (b) on 2 cores, -w 2 gave HTTP p95 131 ms "
                             "and 98 req/s, -w 4 246 ms and 67 req/s: searches are CPU-bound)")
    parser.add_argument("--http-requests", type=int, default=1600, help="requests per HTTP load test, at most")
    parser.add_argument("--http-seconds", type=float, default=40, help="seconds per HTTP load test, at most")
    parser.add_argument("--build-timeout", type=float, default=3600, help="seconds before a build is killed")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md and scale.png from the cached figures")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(json.loads(args.child))
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    args.skip = {s for s in args.skip.split(",") if s}
    from bench.engines import tantivy_available

    engines = [e for e in args.engines.split(",") if e]
    if "tantivy" in engines and not tantivy_available():
        log("tantivy is not installed (pip install tantivy): skipped")
        engines.remove("tantivy")
    wanted = [s for s in args.scales.split(",") if s]
    all_scales = corpus.scales()
    command = "make bench" if argv is None and os.environ.get("MAKELEVEL") else " ".join([".venv/bin/python -m bench.perf", *sys.argv[1:]])
    args.command = f"{command}  # {dt.datetime.now():%Y-%m-%d %H:%M}"
    loads = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    if args.report_only:
        wanted, args.skip = [], args.skip | {"segment"}
    corpus.prepare(wanted, force=args.regenerate, log=log)
    segment = None
    if "segment" not in args.skip:
        log("segmentation speed ...")
        source = corpus.STATUTES if corpus.STATUTES.is_dir() else corpus.CONTENT
        segment = run_child({"task": "segment", "source": str(source), "chars": 1_000_000}, timeout=900)
        (OUT / "results-segment.json").write_text(json.dumps(segment, indent=1, ensure_ascii=False), encoding="utf-8")
    elif (OUT / "results-segment.json").is_file():
        segment = json.loads((OUT / "results-segment.json").read_text(encoding="utf-8"))
    took = {}
    for name in wanted:
        res = bench_scale(all_scales[name], engines, args)
        took[name] = res["seconds"]
    all_results = {}
    for name in ("a", "b", "c"):
        path = OUT / f"results-{name}.json"
        if path.is_file():
            all_results[name] = json.loads(path.read_text(encoding="utf-8"))
    loads.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    write_report(all_results, segment, command, machine(), loads, took)
    draw_chart(all_results)
    log(f"wrote {RESULTS_MD.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    print(RESULTS_MD.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
