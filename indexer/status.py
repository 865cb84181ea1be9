"""What the last build reported, kept beside the index so the web app can show it.

The file is read for the problems banner of every page, so it is kept small and read once per
change: at most ``PER_FILE`` problems of one file (then one "… and N more" line) and ``MAX_KEPT``
in all (one file with 100,000 front-matter keys once made it 32 MB and every page 10 times
slower), and the parsed file is cached by its mtime, size and inode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from itertools import groupby
from pathlib import Path
from typing import Any

from kb.problems import Problem

PROBLEMS_FILE = "problems.json"
PER_FILE = 50
MAX_KEPT = 1000

_cache: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def cap_problems(problems: list[Problem]) -> list[Problem]:
    """Return the problems to record: the first PER_FILE of each file, then one line for the rest; MAX_KEPT in all."""
    kept: list[Problem] = []
    for path, group in groupby(sorted(problems), key=lambda p: p.path):
        items = list(group)
        kept += items[:PER_FILE]
        if len(items) > PER_FILE:
            rest = len(items) - PER_FILE
            kept.append(Problem(path, items[PER_FILE].line, "problems", f"… and {rest} more in this file.",
                                f"Run kb check {path} to see them all."))
    if len(kept) > MAX_KEPT:
        rest = len(kept) - MAX_KEPT + 1
        last = kept[MAX_KEPT - 1]
        kept = kept[:MAX_KEPT - 1] + [Problem(last.path, last.line, "problems", f"… and {rest} more lines.",
                                              "Run kb check to see them all.")]
    return kept


def write_problems(index_root: Path | str, problems: list[Problem], checked: int) -> None:
    """Record the problems of the latest build or check (atomically), capped as ``cap_problems`` says."""
    index_root = Path(index_root)
    index_root.mkdir(parents=True, exist_ok=True)
    data = {
        "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "checked": checked,
        "total": len(problems),
        "problems": [dict(path=p.path, line=p.line, field=p.field, message=p.message, hint=p.hint, text=str(p))
                     for p in cap_problems(problems)],
    }
    tmp = index_root / f"{PROBLEMS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, index_root / PROBLEMS_FILE)


def read_problems(index_root: Path | str) -> dict[str, Any]:
    """Return the recorded problems ({"updated", "checked", "total", "problems"}); none if nothing was recorded.

    The parsed file is cached until its mtime, size or inode changes: treat the result as read-only.
    """
    path = Path(index_root) / PROBLEMS_FILE
    try:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"updated": None, "checked": 0, "total": 0, "problems": []}
    data.setdefault("total", len(data.get("problems", [])))
    with _cache_lock:
        _cache[path] = (key, data)
    return data
