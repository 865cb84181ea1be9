"""Build the index: full builds beside the live one and swapped in, or incremental updates.

Layout of an index folder::

    index/
      CURRENT          name of the live build (replaced atomically with os.replace)
      build.lock       held with flock while a build runs; the kernel drops it if the build dies
      builds/<name>/   Whoosh files, manifest.json, userdict.txt

Readers open ``builds/$(cat CURRENT)``. A full build writes a new ``builds/<name>`` and only
then replaces CURRENT, so a reader never sees a half-built index, and a build killed at any
point leaves the previous one serving. Incremental updates commit into the live build: Whoosh
commits are atomic (a new generation appears at once), so readers see the old or the new
state, never a mix.

A full build of 20,000 documents or more is written by two processes: a forked worker writes the
second half of the entries as a segment of its own, and the build commits both segments, in
order, unmerged (see ``_write_documents``). The worker dies with the build (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import pickle
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.util import fib
from whoosh.writing import MERGE_SMALL, SegmentWriter

import indexer.whoosh_fixes  # noqa: F401  (applies the Whoosh workaround)
from indexer.analyzer import DEFAULT_DICTIONARY, load_dictionary
from indexer.docsets import ARRAYS_FOLDER, remove_other_arrays, save_arrays
from indexer.factsim import save_matrix
from indexer.schema import FACET_FIELDS, RANK_FIELDS, SCHEMA_VERSION, SCORED_FIELDS, Sources, make_documents, make_schema
from indexer.suggest import write_vocabulary
from kb.entry import Entry
from kb.history import last_updated
from kb.links import StatuteResolver, load_repealed, wiki_links
from kb.loader import LoadCache, LoadReport, load_all, read_load_cache, save_load_cache
from kb.problems import Problem
from kb.progress import Progress

MANIFEST = "manifest.json"
USER_DICTIONARY = "userdict.txt"
KEEP_OLD_BUILDS = 2
LOAD_CACHE = "entries.pickle"  # what the build read, so that the next `kb index` reads only changed files
SETTLE_NS = 2 * 10**9  # files changed this shortly before a build are not saved in that cache (see save_load_cache)
# An incremental update that would rewrite more than this share of the index's documents (and at
# least FULL_BUILD_MIN_DOCUMENTS) is done as a full build instead, and the report says why.
FULL_BUILD_SHARE = 0.5
FULL_BUILD_MIN_DOCUMENTS = 5_000
# A full build of this many documents or more is written by 2 processes (one per core, at most 2),
# each its own Whoosh segment; KB_BUILD_PROCS=N sets the number for every full build (1: one process).
PARALLEL_MIN_DOCUMENTS = 20_000
WRITER_MB = 768  # the posting pool per writing process before it writes a run to disk (256 -> 768: -12% CPU, +116 MB peak, 40k documents)


class BuildLockedError(RuntimeError):
    """Another build holds the index lock."""


@dataclass
class BuildReport:
    """What a build did."""

    mode: str = "full"  # "full" or "incremental"
    entries: int = 0
    documents: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    seconds: float = 0.0
    build_dir: str = ""

    rewritten: int = 0  # unchanged entries rewritten because what they take from others changed
    reason: str = ""  # why a build that could have been incremental was a full one
    skipped: list[str] = field(default_factory=list)
    loaded: list[Entry] = field(default_factory=list, repr=False)  # the entries read, for checks after the build

    def summary(self) -> str:
        """Return a one-line summary of the build."""
        if self.mode == "incremental":
            what = f"{self.added} added, {self.updated} updated, {self.removed} removed"
            if self.rewritten:
                what += f", {self.rewritten} rewritten as they depend on those"
        else:
            what = f"{self.entries} entries"
        return f"Indexed ({self.mode}) {what}: {self.documents} documents in {self.seconds:.2f} s." + (f" ({self.reason})" if self.reason else "")


def dictionary_files(content_dirs: list[Path]) -> list[Path]:
    """Return the user dictionaries for a content tree: the default one and each _data/legal_terms.txt."""
    files = [DEFAULT_DICTIONARY]
    for root in content_dirs:
        candidate = root / "_data" / "legal_terms.txt"
        if candidate.is_file():
            files.append(candidate)
    return files


def copy_query_data(content_dirs: list[Path], build: Path) -> None:
    """Copy the editors' synonyms, glossary and vocabularies into the build, so search uses what it was built with.

    repealed.yaml too: entry pages mark citations of repealed laws (已废止).
    """
    from indexer.query import GLOSSARY_FILE, SYNONYMS_FILE

    for name in (SYNONYMS_FILE, GLOSSARY_FILE, "causes.yaml", "courts.yaml", "repealed.yaml"):
        for root in content_dirs:
            source = root / "_data" / name
            if source.is_file():
                tmp = build / (name + ".tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, build / name)
                break


def _dictionary_text(content_dirs: list[Path]) -> str:
    return "\n".join(p.read_text(encoding="utf-8-sig") for p in dictionary_files(content_dirs))


def current_build(index_root: Path) -> Path | None:
    """Return the live build folder, or None if there is none yet."""
    try:
        name = (index_root / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):  # no CURRENT yet, or a damaged one: no live build
        return None
    if "/" in name or name.startswith("."):
        return None
    path = index_root / "builds" / name
    return path if name and (path / MANIFEST).is_file() else None


class IndexMissingError(FileNotFoundError):
    """The index folder holds no build yet."""


class IndexUnusableError(RuntimeError):
    """The index has builds, but none of them can be read (truncated or missing files)."""


def check_build(build: Path) -> str | None:
    """Return why ``build`` cannot be served (a missing manifest, an unreadable TOC or segment), or None if it can.

    Run when a server opens a build (at start and when CURRENT changes), not per request: it
    opens every segment and reads its first stored document.
    """
    try:
        json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{MANIFEST} is missing"
    except (OSError, ValueError):
        return f"{MANIFEST} cannot be read"
    try:
        ix = whoosh_index.open_dir(str(build))
        with ix.reader() as reader:
            for segment_reader, _offset in reader.leaf_readers():
                if segment_reader.doc_count_all():
                    segment_reader.stored_fields(0)
    except Exception as exc:  # noqa: BLE001 - any failure to read means this build cannot serve
        return f"its index files cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def usable_build(index_root: Path) -> Path:
    """Return the build to serve: the live one if it can be read, else the newest other build that can.

    Raise FileNotFoundError if there is no build at all, IndexUnusableError (one line, saying how
    to fix it) if none can be read.
    """
    live = current_build(index_root)
    builds = index_root / "builds"
    others = [p for p in builds.iterdir() if p.is_dir() and p != live] if builds.is_dir() else []
    others.sort(key=_finished_ns, reverse=True)  # the newest finished build first
    candidates = ([live] if live else []) + others
    if not candidates:
        raise IndexMissingError(f"no index in '{index_root}'. Build one with: kb index --index {index_root}")
    reasons = []
    for build in candidates:
        reason = check_build(build)
        if reason is None:
            if build != live:
                logging.getLogger("indexer").warning(
                    "index %s: CURRENT names no readable build (%s); serving the last good build, %s.",
                    index_root, "; ".join(reasons) or "CURRENT is missing or damaged", build.name)
            return build
        reasons.append(f"{build.name}: {reason}")
    raise IndexUnusableError(f"no readable build in '{index_root}' ({'; '.join(reasons)}). "
                             f"Rebuild it with: kb index --clean --index {index_root}")


def _finished_ns(build: Path) -> int:
    try:
        return (build / MANIFEST).stat().st_mtime_ns
    except OSError:
        return 0


def open_index(index_root: Path | str, build: Path | None = None) -> Index:
    """Open ``build`` (default: the one usable_build picks) read-only, loading the user dictionary it was built with."""
    index_root = Path(index_root)
    build = build or usable_build(index_root)
    load_dictionary(build / USER_DICTIONARY)
    return whoosh_index.open_dir(str(build))


@contextmanager
def build_lock(index_root: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's build lock; raise BuildLockedError if another build holds it past ``wait`` s.

    flock locks die with their process, so a build killed with SIGKILL leaves no stale lock.
    """
    index_root.mkdir(parents=True, exist_ok=True)
    with open(index_root / "build.lock", "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise BuildLockedError(
                        f"another build is running on '{index_root}'. Wait for it to finish, or pass --wait SECONDS."
                    ) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def superseded_versions(entries: list[Entry]) -> set[str]:
    """Return the ids of statute versions that a newer version of the same statute replaces."""
    latest: dict[str, Entry] = {}
    for entry in entries:
        if entry.type == "statute" and entry.version_on:
            key = entry.short_title or entry.title
            if key not in latest or (entry.version_on or "") > (latest[key].version_on or ""):
                latest[key] = entry
    return {e.id for e in entries if e.type == "statute" and e.version_on
            and latest.get(e.short_title or e.title) is not e}


def entry_documents(entry: Entry, resolver: StatuteResolver, titles: Mapping[str, str] | None = None,
                    superseded: set[str] | frozenset[str] = frozenset(), updated: str | None = None) -> list[dict]:
    """Return the index documents of one entry: the entry itself and, for statutes, each article (indexer/schema.py)."""
    return make_documents(entry, Sources(resolver, titles, superseded, updated))


def dependency_key(entry: Entry, resolver: StatuteResolver, titles: Mapping[str, str], superseded: set[str] | frozenset[str]) -> str:
    """Return a hash of everything ``entry_documents`` takes from entries other than ``entry``.

    That is: whether a newer version supersedes it, where its citations resolve (which statute
    versions and articles exist), and the titles of the entries its ``[[links]]`` name. The
    manifest keeps it per file; an incremental build rewrites every entry whose key changed, so
    it equals a clean build (tests/test_index.py). Change it with ``Sources`` in indexer/schema.py.
    """
    targets = sorted({link.target for link in wiki_links(entry)}) if "[[" in entry.body else []
    state = [entry.id in superseded, resolver.links(entry), [[t, titles.get(t)] for t in targets]]
    return hashlib.sha1(json.dumps(state, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def _add(writer: object, doc: dict) -> None:
    # One document: the kill tests (tests/test_reliability.py) stop builds in the middle of writing here.
    writer.add_document(**doc)  # type: ignore[attr-defined]


def _manifest_entry(entry: Entry, dependencies: Mapping[str, str]) -> dict:
    return {"id": entry.id, "hash": entry.content_hash, "deps": dependencies[entry.path]}


def build_index(content_dirs: list[Path] | Path, index_root: Path | str, *, clean: bool = False,
                strict: bool = False, include_drafts: bool = False, wait: float = 0.0,
                cache: LoadCache | None = None, progress: Progress | None = None) -> BuildReport:
    """Index every good entry below ``content_dirs``; incremental unless ``clean`` or nothing to update.

    ``progress`` is told of files read, then of documents written (kb.progress).
    """
    started = time.perf_counter()
    if isinstance(content_dirs, Path):
        content_dirs = [content_dirs]
    index_root = Path(index_root)
    with build_lock(index_root, wait=wait):
        _remove_debris(index_root)
        # What the last build in a new process read is saved beside its manifest: a new process
        # starts from it, and so does a watcher's first build. Only a new process saves it again.
        saved_cache: LoadCache | None = None
        settled_before_ns = time.time_ns() - SETTLE_NS
        if cache is None:
            cache = {} if clean else _read_saved_cache(index_root)
            saved_cache = dict(cache)
        elif not cache and not clean:
            cache.update(_read_saved_cache(index_root))
        loaded = load_all(content_dirs, strict=strict, include_drafts=include_drafts, cache=cache, progress=progress)
        dictionary = _dictionary_text(content_dirs)
        dictionary_hash = hashlib.sha256(dictionary.encode()).hexdigest()
        for path in dictionary_files(content_dirs):
            load_dictionary(path)
        resolver = StatuteResolver(loaded.entries, load_repealed(content_dirs))
        titles = {e.id: e.title for e in loaded.entries}
        superseded = superseded_versions(loaded.entries)
        dependencies = {e.path: dependency_key(e, resolver, titles, superseded) for e in loaded.entries}
        live = current_build(index_root)
        manifest = json.loads((live / MANIFEST).read_text()) if live else None
        plan = None
        if not (clean or manifest is None or manifest.get("schema") != SCHEMA_VERSION
                or manifest.get("dictionary") != dictionary_hash or manifest.get("drafts", False) != include_drafts):
            plan = _plan_update(loaded, manifest["files"], dependencies)  # type: ignore[index]
        if plan is None or plan.too_large():
            report = _full_build(loaded, resolver, titles, superseded, dependencies, index_root, dictionary, dictionary_hash,
                                 content_dirs, include_drafts, progress)
            if plan is not None:
                report.reason = plan.reason()
        else:
            report = _incremental_build(plan, loaded, resolver, titles, superseded, dependencies, live, manifest,  # type: ignore[arg-type]
                                        content_dirs, progress)
            copy_query_data(content_dirs, live)  # type: ignore[arg-type]
            write_vocabulary(live, loaded.entries)  # type: ignore[arg-type]
        if saved_cache is not None and (report.mode == "full" or _cache_changed(saved_cache, cache)):
            save_load_cache(cache, Path(report.build_dir) / LOAD_CACHE, settled_before_ns=settled_before_ns)
        report.problems = loaded.problems
        report.skipped = sorted(loaded.bad_paths)
        report.loaded = loaded.parsed  # links to a file with a problem still resolve
        report.checked = loaded.checked
        report.seconds = time.perf_counter() - started
        return report


def _read_saved_cache(index_root: Path) -> LoadCache:
    live = current_build(index_root)
    return read_load_cache(live / LOAD_CACHE) if live else {}


def _cache_changed(before: LoadCache, after: LoadCache) -> bool:
    return before.keys() != after.keys() or any(after[key] is not value for key, value in before.items())


def _full_build(loaded: LoadReport, resolver: StatuteResolver, titles: Mapping[str, str], superseded: set[str], dependencies: Mapping[str, str],
                index_root: Path, dictionary: str, dictionary_hash: str, content_dirs: list[Path], include_drafts: bool,
                progress: Progress | None = None) -> BuildReport:
    builds = index_root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    build = builds / name
    build.mkdir()
    try:
        return _write_full_build(loaded, resolver, titles, superseded, dependencies, index_root, dictionary,
                                 dictionary_hash, content_dirs, include_drafts, build, progress)
    except BaseException:
        # A full disk (or any failure) must not leave the half-written build taking the space
        # the next build needs: the live build was never touched, so removing this one is all.
        if current_build(index_root) != build:
            shutil.rmtree(build, ignore_errors=True)
        raise


def _write_full_build(loaded: LoadReport, resolver: StatuteResolver, titles: Mapping[str, str], superseded: set[str],
                      dependencies: Mapping[str, str], index_root: Path, dictionary: str, dictionary_hash: str, content_dirs: list[Path],
                      include_drafts: bool, build: Path, progress: Progress | None = None) -> BuildReport:
    builds, name = build.parent, build.name
    (build / USER_DICTIONARY).write_text(dictionary, encoding="utf-8")
    copy_query_data(content_dirs, build)
    ix = whoosh_index.create_in(str(build), make_schema())
    updated = last_updated([Path(e.path) for e in loaded.entries], content_dirs)

    def documents_of(entry: Entry) -> list[dict]:
        return entry_documents(entry, resolver, titles, superseded, updated.get(entry.path))

    documents = _write_documents(ix, loaded.entries, documents_of, progress)
    _save_arrays(build)
    write_vocabulary(build, loaded.entries)
    manifest = {
        "schema": SCHEMA_VERSION,
        "dictionary": dictionary_hash,
        "drafts": include_drafts,
        "files": {e.path: _manifest_entry(e, dependencies) for e in loaded.entries},
    }
    _write_json(build / MANIFEST, manifest)
    previous = current_build(index_root)
    _switch(index_root, name)
    _remove_old_builds(builds, keep=name, previous=previous.name if previous else None)
    return BuildReport(mode="full", entries=len(loaded.entries), documents=documents,
                       added=len(loaded.entries), build_dir=str(build))


def build_processes(documents: int) -> int:
    """Return how many processes write a full build of ``documents`` documents.

    Workers are forked, so they start with the entries and the dictionary already loaded; a
    process with other threads running (``kb serve --watch``) never forks, as a lock held by
    another thread at that moment would stay held in the child.
    """
    wanted = os.environ.get("KB_BUILD_PROCS", "").strip()
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            raise ValueError(f"KB_BUILD_PROCS={wanted!r} is not a number of processes. Use 1, 2, ...")
        procs = int(wanted)
    else:
        procs = min(2, os.cpu_count() or 1) if documents >= PARALLEL_MIN_DOCUMENTS else 1
    if procs > 1 and (not hasattr(os, "fork") or threading.active_count() > 1):
        return 1
    return procs


def _write_documents(ix: Index, entries: list[Entry], documents_of, progress: Progress | None) -> int:  # type: ignore[no-untyped-def]
    """Write the documents of ``entries`` into the new index ``ix`` and commit; return how many.

    With several processes, the entries are cut into consecutive shares of about equal text;
    each forked worker writes its share as a segment of its own, this process writes the first
    share, then commits every segment in order (not merged), so documents keep the numbers a
    single writer would give them, and scores, ties and facets are the same. A worker dies with
    this process (PR_SET_PDEATHSIG), so a killed build leaves no worker behind.
    """
    total = _document_count(entries)
    procs = build_processes(total)
    shares = _shares(entries, procs)
    workers = []
    try:
        for share in shares[1:]:
            workers.append(_fork_worker(ix, share, documents_of))
        writer = ix.writer(limitmb=WRITER_MB)
        documents = 0
        own_total = _document_count(shares[0])
        for entry in shares[0]:
            for doc in documents_of(entry):
                _add(writer, doc)
                documents += 1
            if progress is not None:  # the workers' shares are about as far along as this one
                progress("documents written", round(documents * total / max(own_total, 1)), total)
        if not workers:
            writer.commit(optimize=False)
            return documents
        try:
            writer._check_state()  # noqa: SLF001 - the rest is SegmentWriter.commit, with the workers' segments
            own = writer._finalize_segment() if writer._added else None  # noqa: SLF001
            segments = [own] if own is not None else []
            while workers:
                count, segment = _collect_worker(*workers.pop(0))
                documents += count
                segments.append(segment)
            writer._commit_toc(segments)  # noqa: SLF001
            writer._finish()  # noqa: SLF001
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        return documents
    finally:
        for pid, fd in workers:  # a failure here: stop the workers still running
            _stop_worker(pid, fd)


def _shares(entries: list[Entry], procs: int) -> list[list[Entry]]:
    """Cut ``entries`` into ``procs`` consecutive shares of about the same amount of text to index."""
    if procs <= 1 or len(entries) < procs:
        return [entries]
    weights = [len(e.body) + len(e.title) + 200 * (1 + len(e.articles)) for e in entries]
    goal = sum(weights) / procs
    shares: list[list[Entry]] = [[]]
    done = 0.0
    for entry, weight in zip(entries, weights, strict=True):
        if done >= goal * len(shares) and len(shares) < procs:
            shares.append([])
        shares[-1].append(entry)
        done += weight
    return [share for share in shares if share]


def _fork_worker(ix: Index, entries: list[Entry], documents_of) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Fork a process that writes ``entries`` as a new segment of ``ix``; return its pid and the pipe it answers on."""
    parent = os.getpid()
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return pid, read_fd
    code = 1
    try:
        os.close(read_fd)
        _die_with_parent(parent)
        writer = SegmentWriter(ix, _lk=False, limitmb=WRITER_MB)  # the parent holds Whoosh's lock and commits
        count = 0
        for entry in entries:
            for doc in documents_of(entry):
                _add(writer, doc)
                count += 1
        segment = writer._finalize_segment()  # noqa: SLF001 - what MpWriter's workers do with multisegment=True
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(pickle.dumps((count, segment)))
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the pipe's EOF is all there is
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _collect_worker(pid: int, fd: int) -> tuple[int, object]:
    """Return (documents, segment) from a worker, once it has finished; raise if it failed."""
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _pid, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise RuntimeError(f"a build worker failed (wait status {status}); see its traceback above. Run the build again.")
    return pickle.loads(data)


def _stop_worker(pid: int, fd: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


def _document_count(entries: list[Entry]) -> int:
    """Return how many documents ``entries`` make: one each, and one per statute article."""
    return sum(1 + len(entry.articles) for entry in entries)


@dataclass
class _UpdatePlan:
    """What an incremental update would do: files removed, changed and added, and unchanged entries to rewrite."""

    kept: dict[str, dict]
    removed: list[str]
    changed: list[Entry]
    added: list[Entry]
    dependents: list[Entry]  # unchanged files whose documents take something from a changed one
    total_documents: int

    def rewrite(self) -> list[Entry]:
        return self.changed + self.added + self.dependents

    def too_large(self) -> bool:
        count = _document_count(self.rewrite())
        return count > max(FULL_BUILD_MIN_DOCUMENTS, FULL_BUILD_SHARE * self.total_documents)

    def reason(self) -> str:
        count, entries = _document_count(self.rewrite()), len(self.rewrite())
        return (f"full build: the update would rewrite {count} of {self.total_documents} documents "
                f"({entries} entries, {len(self.dependents)} of them because they depend on changed ones)")


def _plan_update(loaded: LoadReport, old_files: dict[str, dict], dependencies: Mapping[str, str]) -> _UpdatePlan:
    new_entries = {e.path: e for e in loaded.entries}
    # A file that exists but has a problem now keeps its last good version in the index
    # (as MkDocs keeps serving the last good build); only files that are gone are removed.
    kept = {p: old_files[p] for p in old_files if p not in new_entries and p in loaded.bad_paths}
    removed = [p for p in old_files if p not in new_entries and p not in kept]
    changed = [e for p, e in new_entries.items() if p in old_files and old_files[p]["hash"] != e.content_hash]
    added = [e for p, e in new_entries.items() if p not in old_files]
    # A manifest written before dependency keys existed has none: every entry counts as changed.
    dependents = [e for p, e in new_entries.items() if p in old_files and old_files[p]["hash"] == e.content_hash
                  and old_files[p].get("deps") != dependencies[p]]
    return _UpdatePlan(kept, removed, changed, added, dependents, _document_count(loaded.entries))


def _incremental_build(plan: _UpdatePlan, loaded: LoadReport, resolver: StatuteResolver, titles: Mapping[str, str], superseded: set[str],
                       dependencies: Mapping[str, str], live: Path, manifest: dict, content_dirs: list[Path],
                       progress: Progress | None = None) -> BuildReport:
    new_entries = {e.path: e for e in loaded.entries}
    rewrite = plan.rewrite()
    documents = 0
    if plan.removed or rewrite:
        ix = whoosh_index.open_dir(str(live))  # memory-mapped, not copied (indexer/whoosh_fixes.py)
        writer = ix.writer(timeout=30.0)
        try:
            # Added entries too: a build killed after its commit but before its manifest was
            # written has them in the index already, and a second copy must not appear.
            for path in plan.removed + [e.path for e in rewrite]:
                writer.delete_by_term("path", path)
            updated = last_updated([Path(e.path) for e in rewrite], content_dirs)
            total = _document_count(rewrite)
            for entry in rewrite:
                for doc in entry_documents(entry, resolver, titles, superseded, updated.get(entry.path)):
                    _add(writer, doc)
                    documents += 1
                if progress is not None:
                    progress("documents written", documents, total)
            writer.commit(merge=False)  # searchable now; small segments are merged after, in a commit of their own
        except BaseException:
            _abandon(writer)
            _remove_stray_files(live)
            raise
        manifest["files"] = {**plan.kept, **{p: _manifest_entry(e, dependencies) for p, e in new_entries.items()}}
        try:
            _write_json(live / MANIFEST, manifest)
            _merge_small_segments(live)
            _save_arrays(live)
        except BaseException:
            _remove_stray_files(live)
            raise
    return BuildReport(mode="incremental", entries=len(new_entries), documents=documents, added=len(plan.added),
                       updated=len(plan.changed), removed=len(plan.removed), rewritten=len(plan.dependents), build_dir=str(live))


def _save_arrays(build: Path) -> None:
    """Save the per-segment arrays search reads (facet and ranking columns, field lengths), so that
    a server's first query does not compute them (about 3 s at scale b); drop those of merged segments."""
    from indexer.whoosh_engine import WhooshEngine  # it opens builds with this module's functions

    ix = whoosh_index.open_dir(str(build))
    with ix.searcher() as searcher:
        save_arrays(build, searcher, dict.fromkeys(FACET_FIELDS + RANK_FIELDS), SCORED_FIELDS)
        # The facts matrix of similar's facts mode (indexer/factsim.py): built here, not by the first query.
        save_matrix(build, WhooshEngine.over(searcher, ix))


def _merge_small_segments(build: Path) -> None:
    """Merge the small segments incremental updates leave, when Whoosh's default policy (MERGE_SMALL) would.

    In a commit of its own, after the update's: an edit is searchable without waiting for a
    merge (1-2 s at scale (b), every eighth update or so). Nothing is committed when there is
    nothing to merge, so readers are not made to reopen the index for nothing.
    """
    ix = whoosh_index.open_dir(str(build))  # with mmap: only the small segments are read, and faster so
    counts = sorted(segment.doc_count_all() for segment in ix._segments())
    total = 0
    for i, count in enumerate(counts):  # MERGE_SMALL's test, in whoosh/writing.py
        total += max(count, 0)
        if i > 3 and total < fib(i + 5):
            break
    else:
        return
    writer = ix.writer(timeout=30.0)
    try:
        writer.commit(mergetype=MERGE_SMALL)
    except BaseException:
        _abandon(writer)
        raise


def _abandon(writer: object) -> None:
    """Cancel a writer whose commit failed, and release its lock even if Whoosh cannot cancel it.

    A commit that failed part-way (a full disk) leaves the writer closed: cancel() raises and
    the index's write lock stays held, so every later build of a long-running `kb serve --watch`
    would fail with LockError.
    """
    try:
        writer.cancel()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the failure being handled is the one to report
        lock = getattr(writer, "writelock", None)
        try:
            if lock is not None:
                lock.release()
        except Exception:  # noqa: BLE001
            pass


def _remove_stray_files(build: Path) -> None:
    """Delete what a failed update wrote into the live build: segment files no commit refers to (and
    their posting arrays), temp files.

    Whoosh deletes unreferenced segment files only at its next successful commit; after a full
    disk that commit would itself fail for want of the space they take.
    """
    try:
        ix = whoosh_index.open_dir(str(build))
        toc = ix._read_toc()
        whoosh_index.clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
        remove_other_arrays(build / ARRAYS_FOLDER, {segment.segment_id() for segment in toc.segments})
    except Exception:  # noqa: BLE001 - cleaning up after a failure must not hide that failure
        pass
    for tmp in [*build.glob("*.tmp"), *build.glob("*/*.tmp")]:  # ours, and Whoosh's MAIN.tmp folder
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _switch(index_root: Path, name: str) -> None:
    tmp = index_root / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_root / "CURRENT")


def _remove_old_builds(builds: Path, keep: str, previous: str | None = None) -> None:
    """Delete every build but the new one and the one it replaced, which requests in flight may still read.

    The previous build is named, not found by age: a build killed part-way leaves a folder
    newer than the previous build, and must not be what is kept instead of it.
    """
    kept = {keep, previous} if KEEP_OLD_BUILDS > 1 else {keep}
    for old in builds.iterdir():
        if old.is_dir() and old.name not in kept:
            shutil.rmtree(old, ignore_errors=True)


def _remove_debris(index_root: Path) -> None:
    """Delete what killed builds left behind: half-written builds and CURRENT temp files (run under the lock)."""
    live = current_build(index_root)
    for tmp in index_root.glob("CURRENT.*.tmp"):
        tmp.unlink(missing_ok=True)
    builds = index_root / "builds"
    if builds.is_dir():
        for build in builds.iterdir():
            # A build without a manifest never finished; one with a manifest is kept for
            # _remove_old_builds, which knows which one the live build replaced.
            if build.is_dir() and build != live and not (build / MANIFEST).is_file():
                shutil.rmtree(build, ignore_errors=True)
