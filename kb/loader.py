"""Read and validate entry files: every problem is reported, no file stops the others."""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import pickle
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import frontmatter
import yaml

from kb.entry import Entry
from kb.fields import ENTRY_TYPES, FIELDS_BY_NAME, FieldError
from kb.frontmatter import FrontMatterError, parse_front_matter
from kb.problems import Problem, display_path
from kb.progress import Progress
from kb.vocabulary import check_vocabulary

MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class LoadReport:
    """What loading a content tree gave: the good entries, and every problem found.

    A file with any problem of its own is either its last good version or absent, never half
    (a date dropped, an unknown 案由 become a facet value): ``entries`` holds only files without
    problems, the ones to index; ``parsed`` also holds those that parsed despite a problem, so
    that links to them still resolve in ``kb check``.
    """

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    parsed: list[Entry] = field(default_factory=list)

    @property
    def bad_paths(self) -> set[str]:
        """Return the paths of files with a problem: none of them is indexed as it is now."""
        return {p.path for p in self.problems}


def read_text(path: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """Read ``path`` as UTF-8 (a BOM is dropped); return a problem instead of raising."""
    try:
        info = path.stat()
    except OSError as exc:
        return None, [Problem(shown, 1, "file", f"cannot be read: {exc.strerror}.", "Check the file exists and is readable.")]
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block read_bytes() forever
        return None, [Problem(shown, 1, "file", "is not a regular file.", "Remove it from the content folder.")]
    size = info.st_size
    if size > MAX_FILE_BYTES:
        return None, [Problem(shown, 1, "file", f"is too large ({size // (1024 * 1024)} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                              "Split it into several entries.")]
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(shown, 1, "file", "is UTF-16, not UTF-8.", "Save it as UTF-8.")]
    if b"\x00" in raw:
        return None, [Problem(shown, 1, "file", "is binary, not text.", "Remove it from the content folder, or save it as UTF-8 Markdown.")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(shown, line, "file", f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}).",
                              "Save it as UTF-8.")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def load_entry(path: Path, *, strict: bool = False, shown: str | None = None) -> tuple[Entry | None, list[Problem]]:
    """Load one file; return the entry (None if it cannot be indexed) and its problems."""
    shown = shown or display_path(path)
    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    return parse_entry(text, shown, default_id=path.stem, strict=strict)


def parse_entry(text: str, shown: str, *, default_id: str, strict: bool = False) -> tuple[Entry | None, list[Problem]]:
    """Validate the text of one entry file; return the entry (or None) and its problems."""
    try:
        fm = parse_front_matter(text, shown)
    except FrontMatterError as exc:
        return None, exc.problems
    problems: list[Problem] = []
    values: dict[str, object] = {}
    entry_type = fm.values.get("type")
    for name, raw in fm.values.items():
        line = fm.lines.get(name, 1)
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(FIELDS_BY_NAME), n=1)
            hint = f"Did you mean '{close[0]}'?" if close else "Remove it, or see the field table in README.md."
            problems.append(Problem(shown, line, name, "unknown field.", hint))
            continue
        if isinstance(entry_type, str) and entry_type in ENTRY_TYPES and entry_type not in spec.types:
            kinds = ", ".join(sorted(spec.types))
            problems.append(Problem(shown, line, name, f"is not a field of a {entry_type}.", f"It belongs to: {kinds}. Remove it."))
            continue
        try:
            values[name] = spec.convert(raw)
        except FieldError as exc:
            problems.append(Problem(shown, line, name, str(exc), exc.hint))
            continue
        if strict and spec.strict and values[name] == ():  # `sources: []`, as `kb new` writes it, is not a source
            problems.append(Problem(shown, line, name, "is an empty list.", f"List at least one below it, as '- ...' ({spec.help})."))
    for spec in FIELDS_BY_NAME.values():
        if spec.name in fm.values:
            continue
        if spec.required or (strict and spec.strict):
            hint = f"Add '{spec.name}: ...' ({spec.help})."
            problems.append(Problem(shown, 1, spec.name, "missing required field.", hint))
    if "id" not in fm.values:
        try:
            values["id"] = FIELDS_BY_NAME["id"].convert(id_from_file_name(default_id))
        except FieldError as exc:
            problems.append(Problem(shown, 1, "id", f"the file name gives no valid id: {exc}", "Rename the file, or set 'id:' in the front matter."))
    if not all(name in values for name in ("id", "type", "title")):
        return None, problems
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    entry = Entry(path=shown, body=fm.body, body_line=fm.body_line, content_hash=digest, lines=fm.lines, **values)  # type: ignore[arg-type]
    return entry, problems


def id_from_file_name(stem: str) -> str:
    """Return the default id for a file name: characters an id cannot hold become '-'."""
    return re.sub(r"[^\w\-.（）]+", "-", stem).strip("-.") or stem


def iter_content_files(root: Path) -> list[Path]:
    """Return the Markdown files below ``root`` in a stable order, skipping ``_`` folders and READMEs."""
    if root.is_file():
        return [root]
    return [Path(folder) / name for folder, name in _walk_content(root)]


def _walk_content(root: Path) -> Iterator[tuple[str, str]]:
    """Yield (folder, file name) of each Markdown file below ``root``, in iter_content_files's order."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        for name in sorted(filenames):
            if name.endswith(".md") and name.lower() != "readme.md" and not name.startswith("."):
                yield dirpath, name


def _content_files_shown(root: Path) -> Iterator[tuple[str, str]]:
    """Yield (absolute path, display path) of each content file below ``root``, in iter_content_files's order.

    Absolute, so that a cache serves a folder named either way; display_path() once per folder, not per file.
    """
    cwd = os.getcwd()
    if root.is_file():
        yield os.path.join(cwd, root), display_path(root)
        return
    folder, absolute, prefix = None, "", ""
    for dirpath, name in _walk_content(root):
        if dirpath != folder:
            folder, absolute, prefix = dirpath, os.path.join(cwd, dirpath), display_path(dirpath)
            prefix = "" if prefix == "." else prefix if prefix.endswith("/") else prefix + "/"
        yield os.path.join(absolute, name), prefix + name


class CachedFile(NamedTuple):
    """What loading one file gave, and the file's state when it was read."""

    stamp: tuple[int, int, int, int]  # modification time (ns), size, inode, status-change time (ns)
    shown: str  # the path in messages: relative to the working directory, which may change
    strict: bool
    entry: Entry | None
    problems: list[Problem]


LoadCache = dict[str, CachedFile]


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    # Size and both times: an editor that rewrites a file in place keeps its inode, one that saves
    # by renaming changes it; the status-change time cannot be set back by touch or rsync.
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def load_all(roots: list[Path] | Path, *, strict: bool = False, include_drafts: bool = True,
             cache: LoadCache | None = None, progress: Progress | None = None) -> LoadReport:
    """Load every entry below ``roots``; duplicate ids and links leaving a root are problems.

    ``progress`` is called after each file is counted, with ("files read", done, total).
    With ``cache`` (kept by a long-running process such as ``kb serve --watch``, or read by
    ``read_load_cache``), a file whose modification time, size, inode and status-change time are
    unchanged is not read again; the cache then holds the files found, and no others.
    """
    if isinstance(roots, Path):
        roots = [roots]
    report = LoadReport()
    seen: dict[str, Entry] = {}
    found: set[str] = set()
    listed = [(root, list(_content_files_shown(root))) for root in roots]  # listed first: progress needs the total
    total = sum(len(files) for _root, files in listed)
    for root, files in listed:
        root_resolved = root.resolve()
        for key, shown in files:
            report.checked += 1
            if progress is not None:
                progress("files read", report.checked, total)
            try:
                shown.encode("utf-8")
            except UnicodeEncodeError:  # os.fsdecode() kept undecodable bytes as surrogates
                shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                report.problems.append(Problem(shown, 1, "file", "name is not valid UTF-8.", "Rename the file in UTF-8."))
                continue
            try:
                info: os.stat_result | None = os.lstat(key)
            except OSError:
                info = None
            if info is not None and stat.S_ISLNK(info.st_mode):
                try:
                    target = Path(key).resolve(strict=True)
                except (OSError, RuntimeError):  # dangling, or a loop (RuntimeError on Python 3.11)
                    report.problems.append(Problem(shown, 1, "file", "is a broken link or a link loop.",
                                                   "Remove the link, or copy the file into the content folder."))
                    continue
                if not target.is_relative_to(root_resolved):
                    report.problems.append(Problem(shown, 1, "file", f"is a link to '{target}', outside the content folder.",
                                                   "Copy the file into the content folder instead of linking to it."))
                    continue
                try:
                    info = os.stat(key)
                except OSError:
                    info = None
            cached = cache.get(key) if cache is not None and info is not None else None
            if cached is not None and cached.stamp == _stamp(info) and cached.shown == shown and cached.strict == strict:  # type: ignore[arg-type]
                entry, problems = cached.entry, cached.problems
            else:
                # The state is taken before the file is read: a change while it is read shows next time.
                entry, problems = load_entry(Path(key), strict=strict, shown=shown)
                if cache is not None:
                    if info is None:
                        cache.pop(key, None)
                    else:
                        cache[key] = CachedFile(_stamp(info), shown, strict, entry, problems)
            found.add(key)
            report.problems.extend(problems)
            if entry is None:
                continue
            first = seen.get(entry.id)
            if first is not None:
                report.problems.append(Problem(shown, entry.line_of("id"), "id", f"'{entry.id}' is already used by {first.path}.",
                                               "Give this entry another id (or rename the file)."))
                continue
            seen[entry.id] = entry
            if include_drafts or not entry.is_draft:
                report.parsed.append(entry)
    if cache is not None:
        for key in cache.keys() - found:  # deleted files, or files outside these roots
            del cache[key]
    # The vocabularies are checked here, with the other values of each file, so that a file
    # with an unknown 案由 or court is kept out of the index like one with a bad date.
    report.problems.extend(check_vocabulary(report.parsed, [root for root in roots if root.is_dir()]))
    bad = report.bad_paths
    report.entries = [entry for entry in report.parsed if entry.path not in bad]
    report.problems.sort()
    return report


CACHE_FORMAT = 1


@functools.cache
def _code_fingerprint() -> str:
    """Return a hash of what parsing depends on: this package's code, Python and the YAML library."""
    digest = hashlib.sha256(f"{CACHE_FORMAT} {sys.version} {yaml.__version__}".encode())
    package = Path(__file__).parent
    for path in [*sorted(package.rglob("*.py")), Path(frontmatter.__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_load_cache(path: Path) -> LoadCache:
    """Return the load cache saved at ``path``; an empty one if it is missing, damaged or saved by other code.

    The file is a pickle: keep it where only ``kb index`` writes, as the index itself.
    """
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
        if not isinstance(data, dict) or data.get("fingerprint") != _code_fingerprint() or not isinstance(data.get("files"), dict):
            return {}
    except Exception:  # noqa: BLE001 - a damaged cache is no cache: every file is read again
        return {}
    files = data["files"]
    if not all(isinstance(key, str) and isinstance(value, CachedFile) for key, value in files.items()):
        return {}
    return files


def save_load_cache(cache: LoadCache, path: Path, *, settled_before_ns: int) -> None:
    """Save ``cache`` to ``path`` atomically, leaving out files changed at or after ``settled_before_ns``.

    A file changed just before it was read may change again within the same timestamp tick and
    keep its size, so a later run could not tell; such files are read again next time. A failure
    to save is ignored: the cache only saves time, and the build it follows has succeeded.
    """
    files = {key: value for key, value in cache.items() if max(value.stamp[0], value.stamp[3]) < settled_before_ns}
    for stale in path.parent.glob(path.name + ".*.tmp"):  # left by a killed run
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            pickle.dump({"fingerprint": _code_fingerprint(), "files": files}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - disk full, or a value pickle cannot take: no cache, next run reads every file
        tmp.unlink(missing_ok=True)
