"""Reliability: bad files, crashes mid-build, concurrent builds, and rebuilding under load lose nothing."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from indexer import BuildLockedError, SearchIndex, build_index, open_index
from indexer.build import build_lock, current_build
from kb.loader import load_all
from tests.support import (
    BAD,
    CHILD_ENV,
    EXPECTED,
    KB,
    ROOT,
    Figures,
    entry_text,
    every_bad_file_tree,
    free_port,
    get_json,
    good_entries,
    running,
    write_tree,
)

# --------------------------------------------------------------------------------------------
# Bad content never loses good content: the real `kb index` over a tree of every bad file
# --------------------------------------------------------------------------------------------

PROBLEM_LINE = re.compile(r"^(?P<path>.*?):(?P<line>\d+): (?P<field>.*?): (?P<rest>.*)$")


def sort_key(line: str) -> tuple[str, int, str, str]:
    match = PROBLEM_LINE.match(line)
    assert match, line
    return match["path"], int(match["line"]), match["field"], match["rest"]


def test_kb_index_over_a_tree_of_every_bad_file(tmp_path: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                runner) -> None:
    """Every bad file of tests/corpus/bad/, a 50 MB file and a link out of content/, among good entries."""
    root = every_bad_file_tree(tmp_path, good_entries())
    bad_names = sorted(p.name for p in BAD.iterdir())
    outside = tmp_path / "outside.md"

    monkeypatch.chdir(tmp_path)
    result = runner("index", "--content", "content", "--index", "ix")

    expected_problems = [f"content/{message}" for name in bad_names for message in EXPECTED[name][1]]
    expected_problems += [
        "content/duplicate_id_b.md:4: id: 'same-id' is already used by content/duplicate_id_a.md. Give this entry another id (or rename the file).",
        "content/huge.md:1: file: is too large (50 MB; the limit is 5 MB). Split it into several entries.",
        f"content/link_outside.md:1: file: is a link to '{outside.resolve()}', outside the content folder. "
        "Copy the file into the content folder instead of linking to it.",
    ]
    expected_problems.sort(key=sort_key)
    # A file with any problem is kept out of the index, never indexed with the bad value dropped.
    indexed_bad = [name for name in bad_names if not EXPECTED[name][1] and name != "duplicate_id_b.md"]
    skipped = len(bad_names) - len(indexed_bad) + 2
    checked = 12 + len(bad_names) + 2
    entries = 12 + len(indexed_bad)
    lines = result.stdout.splitlines()
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    assert lines[:-1] == expected_problems + [f"Skipped {skipped} of {checked} files."]
    assert re.fullmatch(rf"Indexed \(full\) {entries} entries: \d+ documents in \d+\.\d\d s\.", lines[-1]), lines[-1]

    index = SearchIndex(tmp_path / "ix")
    for i in range(12):
        assert {hit.parent_id or hit.id for hit in index.search(f"好词{i}").results} == {f"good-{i}"}
    loadable = {e.id for e in load_all(root, include_drafts=False).entries}
    assert len(loadable) == entries
    kept = {entry_id for entry_id in loadable if index.get_entry(entry_id) is not None}
    assert kept == loadable
    figures.add("bad files tried (kb index over a mixed tree)", len(bad_names) + 2)
    figures.add("good entries kept (kb index over a mixed tree)", len(kept))
    figures.add("good entries lost (kb index over a mixed tree)", len(loadable - kept))


def run_kb_index(root: Path, tmp_path: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real `kb index` over ``root`` into tmp_path/ix."""
    return subprocess.run([*KB, "index", "--content", str(root), "--index", str(tmp_path / "ix"), *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout, env=CHILD_ENV)


# Files the loader cannot survive yet: each test shows the crash; the fix is in the report of
# issue #6 (kb/loader.py, kb/frontmatter.py). Once fixed, move each file into tests/corpus/bad/.
BILLION_LAUGHS = "---\ntype: ruling\ntitle: 笑\n" + "".join(
    f"{a}: &{a} [{', '.join([('*' + p) if p else 'x'] * 9)}]\n"
    for p, a in zip(["", *"abcdefgh"], "abcdefghi")) + "---\n正文\n"
HOSTILE_YAML = {
    "yaml_alias_bomb.md": (BILLION_LAUGHS, "yaml_alias_bomb.md:5: b: YAML anchors and aliases (&, *) are not allowed. Write the value out."),
    "yaml_recursive_alias.md": ("---\ntype: ruling\ntitle: 递归\ntags: &a [*a]\n---\n正文\n",
                                "yaml_recursive_alias.md:4: tags: YAML anchors and aliases (&, *) are not allowed. Write the value out."),
    "yaml_deep_nesting.md": ("---\ntype: ruling\ntitle: 深\ntags: " + "[" * 5000 + "]" * 5000 + "\n---\n正文\n",
                             "yaml_deep_nesting.md:1: front matter: YAML is nested too deeply. Write one 'field: value' per line, with lists at most a few levels deep."),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_a_problem_not_a_crash(tmp_path: Path, name: str) -> None:
    text, message = HOSTILE_YAML[name]
    write_tree(tmp_path / "content", {**good_entries(3), name: text})
    # A memory bomb must fail fast, not take the machine with it.
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    try:
        result = subprocess.run([sys.executable, "-c", limit + "from kb.cli import main; main()", "index", "--content", "content",
                                 "--index", "ix"], cwd=tmp_path, capture_output=True, text=True, timeout=20, env=CHILD_ENV)
    except subprocess.TimeoutExpired:
        pytest.fail("kb index did not finish in 20 s")
    assert result.returncode == 1 and result.stderr == "", result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == "content/" + message
    assert len(index_state(tmp_path / "ix")) == 3


def make_fifo(root: Path) -> tuple[str, str]:
    os.mkfifo(root / "pipe.md")
    return "pipe.md", "content/pipe.md:1: file: is not a regular file. Remove it from the content folder."


def make_loop(root: Path) -> tuple[str, str]:
    os.symlink("loop.md", root / "loop.md")
    return "loop.md", "content/loop.md:1: file: is a broken link or a link loop. Remove the link, or copy the file into the content folder."


def make_bad_name(root: Path) -> tuple[str, str]:
    name = os.fsdecode(b"bad-\xff-name.md")
    (root / name).write_text(entry_text(title="坏名字"), encoding="utf-8")
    return name, "content/bad-\ufffd-name.md:1: file: name is not valid UTF-8. Rename the file in UTF-8."


@pytest.mark.parametrize("make", [make_fifo, make_loop, make_bad_name], ids=["fifo", "symlink_loop", "non_utf8_name"])
def test_odd_files_are_problems_not_crashes(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    root = write_tree(tmp_path / "content", good_entries(3))
    _name, message = make(root)
    try:
        result = run_kb_index(Path("content"), tmp_path, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("kb index hung")
    assert result.returncode == 1 and result.stderr == "", result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == message
    assert len(index_state(tmp_path / "ix")) == 3


# --------------------------------------------------------------------------------------------
# Crashes mid-build: SIGKILL at chosen and at random points leaves the previous index serving
# --------------------------------------------------------------------------------------------

def synthetic_tree(n: int, version: int) -> dict[str, str]:
    """Return a content tree of ``n`` rulings; version 2 adds, changes and removes entries."""
    files = {}
    for i in range(n):
        if version == 2 and i == 0:
            continue  # removed
        body = f"第{i}号条目。" + "网络服务合同纠纷中，当事人对证据的真实性提出异议。" * 20
        if version == 2 and i == 1:
            body += "改写后的正文：估算价格。"
        files[f"rulings/r{i}.md"] = entry_text(title=f"合成条目{i}", decided_on=f"{2015 + i % 8}-01-01", body=body)
    if version == 2:
        files["rulings/new.md"] = entry_text(title="新增条目", body="天平链上的区块链存证。")
    return files


def write_version(root: Path, n: int, version: int) -> dict[str, str]:
    """Make ``root`` hold exactly version ``version`` of the synthetic tree; return {id: content hash}."""
    shutil.rmtree(root, ignore_errors=True)
    write_tree(root, synthetic_tree(n, version))
    return {e.id: e.content_hash for e in load_all(root).entries}


def index_state(index_dir: Path) -> dict[str, str]:
    """Return {id: content hash} of the live index's entries; fail on a duplicate."""
    ix = open_index(index_dir)
    state: dict[str, str] = {}
    with ix.searcher() as searcher:
        for fields in searcher.documents(kind="entry"):
            assert fields["id"] not in state, f"duplicate entry {fields['id']} in the index"
            state[fields["id"]] = fields["content_hash"]
    return state


def assert_no_debris(index_dir: Path) -> None:
    builds = [p for p in (index_dir / "builds").iterdir() if p.is_dir()]
    assert all((p / "manifest.json").is_file() for p in builds), builds
    assert len(builds) <= 2
    assert list(index_dir.glob("CURRENT.*.tmp")) == []


KILLER = r"""
import os, signal, sys
import indexer.build as build
import whoosh.index, whoosh.filedb.filestore as filestore
root, index, mode, point, nth = sys.argv[1:6]
nth = int(nth)
calls = [0]

def kill_at(owner, name, after=False):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if not after and calls[0] >= nth:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if after and calls[0] >= nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, wrapper)

owner, name, after = {
    "after-load": (build, "load_all", True),
    "new-build-folder": (whoosh.index, "create_in", True),
    "mid-write": (build, "_add", False),
    "in-commit": (filestore.FileStorage, "rename_file", False),
    "before-manifest": (build, "_write_json", False),
    "mid-switch": (os, "fsync", True),
    "before-cleanup": (build, "_remove_old_builds", False),
    "after-commit": (build, "copy_query_data", False),
}[point]
kill_at(owner, name, after)
from pathlib import Path
build.build_index([Path(root)], Path(index), clean=(mode == "full"))
print("not killed")
"""
# (mode, point, nth call, which version the index must serve right after the kill)
KILL_POINTS = [
    ("full", "after-load", 1, 1),
    ("full", "new-build-folder", 1, 1),
    ("full", "mid-write", 20, 1),
    ("full", "in-commit", 1, 1),
    ("full", "before-manifest", 1, 1),
    ("full", "mid-switch", 1, 1),
    ("full", "before-cleanup", 1, 2),
    ("incremental", "mid-write", 1, 1),
    ("incremental", "in-commit", 1, 1),
    ("incremental", "before-manifest", 1, 2),
    ("incremental", "after-commit", 1, 2),
]
N_SYNTHETIC = 60


@pytest.fixture(scope="module")
def v1_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A built index of version 1 of the synthetic tree, to copy for each kill."""
    base = tmp_path_factory.mktemp("v1")
    state = write_version(base / "content", N_SYNTHETIC, 1)
    build_index([base / "content"], base / "ix", clean=True)
    return base / "ix", state


@pytest.mark.slow
@pytest.mark.parametrize("mode, point, nth, serving", KILL_POINTS, ids=[f"{m}-{p}" for m, p, _, _ in KILL_POINTS])
def test_build_killed_at_each_step_loses_nothing(tmp_path: Path, v1_index, figures: Figures,  # type: ignore[no-untyped-def]
                                                 mode: str, point: str, nth: int, serving: int) -> None:
    source, v1 = v1_index
    index_dir = tmp_path / "ix"
    shutil.copytree(source, index_dir)
    v2 = write_version(tmp_path / "content", N_SYNTHETIC, 2)
    result = subprocess.run([sys.executable, "-c", KILLER, str(tmp_path / "content"), str(index_dir), mode, point, str(nth)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, (result.stdout, result.stderr[-2000:])
    figures.add("builds killed with SIGKILL", 1)
    assert index_state(index_dir) == (v1 if serving == 1 else v2)
    served = SearchIndex(index_dir).search("合成条目")
    assert served.total == len(v1 if serving == 1 else v2) - (0 if serving == 1 else 1)
    report = build_index([tmp_path / "content"], index_dir)  # the next build: incremental, no --clean
    assert report.problems == []
    assert index_state(index_dir) == v2
    assert_no_debris(index_dir)
    assert [h.id for h in SearchIndex(index_dir).search("区块链存证").results] == ["new"]
    figures.add("indexes lost after a killed build", 0)


@pytest.mark.slow
def test_builds_killed_at_random_times(tmp_path: Path, figures: Figures) -> None:
    """Real `kb index` runs, full and incremental, killed after a random delay, several times."""
    rng = random.Random(6)
    root = tmp_path / "content"
    states = {1: write_version(root, N_SYNTHETIC, 1)}
    assert run_kb_index(root, tmp_path, "--clean").returncode == 0
    started = time.monotonic()
    states[2] = write_version(root, N_SYNTHETIC, 2)
    assert run_kb_index(root, tmp_path).returncode == 0
    duration = time.monotonic() - started
    live = 2
    kills = 0
    for round_ in range(6):
        target = 1 if live == 2 else 2
        write_version(root, N_SYNTHETIC, target)
        args = ["--clean"] if round_ % 2 == 0 else []
        proc = subprocess.Popen([*KB, "index", "--content", str(root), "--index", str(tmp_path / "ix"), *args],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, duration))
        proc.send_signal(signal.SIGKILL)
        killed = proc.wait() == -signal.SIGKILL
        kills += killed
        state = index_state(tmp_path / "ix")
        assert state in (states[live], states[target])
        if killed and args:
            # A killed full build never switches half-way: the old or the new index, whole.
            assert state == states[live] or current_build(tmp_path / "ix") is not None
        assert build_index([root], tmp_path / "ix").problems == []  # the next build, in-process to save start-up time
        assert index_state(tmp_path / "ix") == states[target]
        assert_no_debris(tmp_path / "ix")
        live = target
    assert kills >= 3
    figures.add("builds killed with SIGKILL", kills)
    figures.add("indexes lost after a killed build", 0)


def session_processes(session: int) -> list[int]:
    """Return the live (not zombie) processes of a session."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:  # state, ppid, pgrp, session
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_parallel_build_killed_leaves_no_worker_and_the_next_build_succeeds(tmp_path: Path, figures: Figures,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL a `kb index --clean` while its forked worker writes: the worker dies with it (issue #16)."""
    root = tmp_path / "content"
    v1 = write_version(root, 60, 1)
    assert run_kb_index(root, tmp_path, "--clean").returncode == 0
    shutil.rmtree(root)
    write_tree(root, {f"rulings/r{i}.md": entry_text(title=f"长条目{i}", body=f"第{i}号。" + "当事人对证据的真实性提出异议，法院依法审查。" * 1500)
                      for i in range(400)})  # the worker's share takes several seconds to write
    v2 = {e.id: e.content_hash for e in load_all(root).entries}
    proc = subprocess.Popen([*KB, "index", "--clean", "--content", str(root), "--index", str(tmp_path / "ix")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env={**CHILD_ENV, "KB_BUILD_PROCS": "2"})
    command = Path(f"/proc/{proc.pid}/cmdline").read_bytes()

    def workers() -> list[int]:  # forks of `kb index` (not the git it runs for file dates)
        found = []
        for pid in session_processes(proc.pid):
            try:
                if pid != proc.pid and Path(f"/proc/{pid}/cmdline").read_bytes() == command:
                    found.append(pid)
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 180  # loading 400 long entries takes ~30 s on a quiet machine, minutes under load
    while not workers() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert workers(), "the build never forked a worker: " + (proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    proc.stderr.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + 2  # without PR_SET_PDEATHSIG the worker wrote on for 5 s here
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(proc.pid) == [], "a build worker outlived its killed parent"
    figures.add("builds killed with SIGKILL", 1)
    assert index_state(tmp_path / "ix") == v1  # the previous build still serves
    monkeypatch.setenv("KB_BUILD_PROCS", "2")
    report = build_index([root], tmp_path / "ix", clean=True)
    assert report.problems == [] and index_state(tmp_path / "ix") == v2
    assert len(open_index(tmp_path / "ix")._segments()) == 2  # noqa: SLF001 - it was written by two processes
    assert_no_debris(tmp_path / "ix")
    figures.add("indexes lost after a killed build", 0)


# --------------------------------------------------------------------------------------------
# Locks: a stale lock is recovered; two builds at once, one waits or refuses, never corrupts
# --------------------------------------------------------------------------------------------

def test_stale_lock_file_is_recovered(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "content", good_entries(3))
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "build.lock").write_text("99999\n")  # left by a build that died
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; from indexer.build import build_lock\n"
                               "with build_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)",
                               str(tmp_path / "ix")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(BuildLockedError):
        build_index([root], tmp_path / "ix")
    holder.kill()  # SIGKILL: the lock file stays, the lock dies with the process
    holder.wait()
    holder.stdout.close()
    assert (tmp_path / "ix" / "build.lock").exists()
    report = build_index([root], tmp_path / "ix")
    assert report.entries == 3


def test_second_build_refuses_with_a_clear_message_or_waits(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "content", good_entries(3))
    index_dir = tmp_path / "ix"
    with build_lock(index_dir):
        refused = run_kb_index(root, tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == f"kb index: another build is running on '{index_dir}'. Wait for it to finish, or pass --wait SECONDS.\n"
    assert current_build(index_dir) is None  # the refused build wrote nothing

    lock_released = threading.Event()

    def hold() -> None:
        with build_lock(index_dir):
            lock_released.wait(1.5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    waited = run_kb_index(root, tmp_path, "--wait", "30")
    holder.join()
    assert waited.returncode == 0, waited.stderr
    assert len(index_state(index_dir)) == 3


@pytest.mark.slow
def test_two_builds_started_at_once_never_corrupt_the_index(tmp_path: Path) -> None:
    root = tmp_path / "content"
    expected = write_version(root, N_SYNTHETIC, 1)
    for wait in ([], ["--wait", "120"]):
        procs = [subprocess.Popen([*KB, "index", "--clean", "--content", str(root), "--index", str(tmp_path / "ix"), *wait],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for p in procs:
            p.stdout.close()  # type: ignore[union-attr]
            p.stderr.close()  # type: ignore[union-attr]
        assert any(code == 0 for code, _, _ in outcomes), outcomes
        for code, _out, err in outcomes:
            if code != 0:
                assert not wait, "with --wait both builds must succeed"
                assert err == f"kb index: another build is running on '{tmp_path / 'ix'}'. Wait for it to finish, or pass --wait SECONDS.\n"
        assert index_state(tmp_path / "ix") == expected
        assert_no_debris(tmp_path / "ix")


# --------------------------------------------------------------------------------------------
# Rebuilding while serving: gunicorn with several workers under load, full and incremental builds
# --------------------------------------------------------------------------------------------

def test_wsgi_app_has_debug_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from webapp import create_app
    from webapp.wsgi import app

    assert app.debug is False
    monkeypatch.setenv("KB_DEBUG", "true")
    assert create_app().debug is True


LOAD_QUERIES = ["合成条目", "网络服务合同纠纷", "区块链存证", "估算价格", "完好的条目", "证据 真实性", "好词3", "（2019）京0491民初2547号"]


def answer(status: int, body: dict) -> object:
    """Return what must not change in an answer: ids and total for a search, the entry for an entry."""
    if status != 200:
        return status
    if "results" in body:
        return body["total"], sorted(h["id"] for h in body["results"])
    if "entry" in body:
        return body["entry"]["id"], body["entry"]["title"], body["entry"]["meta"].get("summary")
    return body["ok"], body["documents"] > 0


@pytest.mark.slow
def test_rebuilding_under_load_fails_no_request(tmp_path: Path, figures: Figures) -> None:
    """gunicorn, 3 workers x 2 threads, 3 clients; two full --clean and two incremental builds meanwhile.

    Every answer must be the answer of version 1 or of version 2 of the content, computed
    beforehand from an index of each: a request that fails, or gets anything else, counts.
    """
    n = 30
    paths = [f"/api/search?q={urllib.parse.quote(q)}&per_page=100" for q in LOAD_QUERIES]
    paths += [f"/api/entries/{entry_id}" for entry_id in ("r1", "r2", "good-0", "good-1", "new")] + ["/-/health"]
    expected: dict[str, set] = {path: set() for path in paths}
    for version in (1, 2):
        content = tmp_path / f"v{version}"
        write_version(content, n, version)
        write_tree(content, good_entries(6))
        build_index([content], tmp_path / f"ix-v{version}", clean=True)
        from webapp import create_app

        baseline = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / f"ix-v{version}")}).test_client()
        for path in paths:
            response = baseline.get(path)
            expected[path].add(repr(answer(response.status_code, response.get_json())))
    root = tmp_path / "content"
    shutil.copytree(tmp_path / "v1", root)
    assert run_kb_index(root, tmp_path, "--clean").returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = running([sys.executable, "-m", "gunicorn", "--workers", "3", "--threads", "2", "--preload",
                      "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "webapp.wsgi:app"],
                     base + "/-/health", env={"KB_INDEX_DIR": str(tmp_path / "ix")})
    stats = {"requests": 0, "failures": 0, "wrong": 0}
    problems: list[str] = []
    lock = threading.Lock()
    stop_load = threading.Event()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        deadline = time.monotonic() + 240  # bounded even if a build hangs
        while not stop_load.is_set() and time.monotonic() < deadline:
            path = rng.choice(paths)
            failed = False
            try:
                status, body, headers = get_json(base + path)
                got = repr(answer(status, body))
                problem = None if got in expected[path] else f"{path}: {got[:300]}"
                if "script-src 'self'" not in headers.get("Content-Security-Policy", ""):
                    problem = f"{path}: no Content-Security-Policy"
                failed = status >= 500
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none may happen
                problem, failed = f"{path}: {exc!r}", True
            with lock:
                stats["requests"] += 1
                if problem:
                    stats["failures" if failed else "wrong"] += 1
                    problems.append(problem)
            time.sleep(0.02)  # bounded load: at most ~50 requests/s per client

    with server:  # started here, once /-/health answers
        clients = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        for thread in clients:
            thread.start()
        builds = []
        try:
            time.sleep(1.0)
            for step, version in (("full", 1), ("incremental", 2), ("full", 2), ("incremental", 1)):
                if step == "incremental":
                    shutil.rmtree(root)
                    shutil.copytree(tmp_path / f"v{version}", root)
                result = run_kb_index(root, tmp_path, *(["--clean"] if step == "full" else []), timeout=300)
                builds.append((step, result.returncode, result.stdout.splitlines()[-1:]))
                time.sleep(0.5)
        finally:
            stop_load.set()
            for thread in clients:
                thread.join(timeout=60)
        assert [code for _, code, _ in builds] == [0, 0, 0, 0], builds
        assert [line[0].split()[1] for _, _, line in builds] == ["(full)", "(incremental)", "(full)", "(incremental)"]
    figures.add("requests during rebuilds (gunicorn, 3 workers)", stats["requests"])
    figures.add("failed requests during rebuilds", stats["failures"])
    figures.add("wrong answers during rebuilds", stats["wrong"])
    assert stats["requests"] > 200
    assert problems == [], problems[:20]
