"""Read and validate entry files: every problem is reported, no file stops the others."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from kb.entry import Entry
from kb.fields import FIELDS_BY_NAME, FieldError
from kb.frontmatter import FrontMatterError, parse_front_matter
from kb.problems import Problem, display_path

MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class LoadReport:
    """What loading a content tree gave: the good entries, and every problem found."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    @property
    def bad_paths(self) -> set[str]:
        """Return the paths of files that could not be loaded at all."""
        loaded = {e.path for e in self.entries}
        return {p.path for p in self.problems} - loaded


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
        if isinstance(entry_type, str) and entry_type in ("ruling", "guideline", "statute") and entry_type not in spec.types:
            kinds = ", ".join(sorted(spec.types))
            problems.append(Problem(shown, line, name, f"is not a field of a {entry_type}.", f"It belongs to: {kinds}. Remove it."))
            continue
        try:
            values[name] = spec.convert(raw)
        except FieldError as exc:
            problems.append(Problem(shown, line, name, str(exc), exc.hint))
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
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        for name in sorted(filenames):
            if name.endswith(".md") and name.lower() != "readme.md" and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


LoadCache = dict[str, tuple[tuple[int, int], "Entry | None", list[Problem]]]


def load_all(roots: list[Path] | Path, *, strict: bool = False, include_drafts: bool = True,
             cache: LoadCache | None = None) -> LoadReport:
    """Load every entry below ``roots``; duplicate ids and links leaving a root are problems.

    With ``cache`` (kept by a long-running process such as ``kb serve --watch``), a file whose
    modification time and size are unchanged is not read again.
    """
    if isinstance(roots, Path):
        roots = [roots]
    report = LoadReport()
    seen: dict[str, Entry] = {}
    for root in roots:
        root_resolved = root.resolve()
        for path in iter_content_files(root):
            shown = display_path(path)
            report.checked += 1
            try:
                shown.encode("utf-8")
            except UnicodeEncodeError:  # os.fsdecode() kept undecodable bytes as surrogates
                shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                report.problems.append(Problem(shown, 1, "file", "name is not valid UTF-8.", "Rename the file in UTF-8."))
                continue
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # dangling, or a loop (RuntimeError on Python 3.11)
                    report.problems.append(Problem(shown, 1, "file", "is a broken link or a link loop.",
                                                   "Remove the link, or copy the file into the content folder."))
                    continue
                if not target.is_relative_to(root_resolved):
                    report.problems.append(Problem(shown, 1, "file", f"is a link to '{target}', outside the content folder.",
                                                   "Copy the file into the content folder instead of linking to it."))
                    continue
            if cache is not None:
                try:
                    info = path.stat()
                    stamp = (info.st_mtime_ns, info.st_size)
                except OSError:
                    stamp = (0, -1)
                cached = cache.get(str(path))
                if cached is not None and cached[0] == stamp:
                    entry, problems = cached[1], cached[2]
                else:
                    entry, problems = load_entry(path, strict=strict, shown=shown)
                    cache[str(path)] = (stamp, entry, problems)
            else:
                entry, problems = load_entry(path, strict=strict, shown=shown)
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
                report.entries.append(entry)
    report.problems.sort()
    return report
