"""When each entry file last changed: from git history when the content is in a repository, else the file time."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "core.quotepath=false", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=True).stdout


def git_history(root: Path) -> tuple[dict[str, str], set[str]]:
    """Return (absolute path -> ISO time of the last commit touching it, paths changed since) below ``root``."""
    try:
        top = _git(root, "rev-parse", "--show-toplevel").strip()
        log = _git(Path(top), "log", "--format=@%cI", "--name-only", "--", str(root.resolve()))
        status = _git(Path(top), "status", "--porcelain", "--untracked-files=all", "--", str(root.resolve()))
    except (OSError, subprocess.SubprocessError):
        return {}, set()
    dates: dict[str, str] = {}
    current = ""
    for line in log.splitlines():
        if line.startswith("@"):
            current = line[1:]
        elif line.strip():
            dates.setdefault(str(Path(top, line.strip())), current)  # newest commit first: keep the first
    dirty = {str(Path(top, line[3:].strip().strip('"'))) for line in status.splitlines() if len(line) > 3}
    return dates, dirty


def last_updated(paths: Iterable[Path], roots: Iterable[Path]) -> dict[str, str]:
    """Return str(path) -> ISO time of its last change: its last commit, or the file time if it is not committed as is."""
    dates: dict[str, str] = {}
    dirty: set[str] = set()
    for root in roots:
        root_dates, root_dirty = git_history(root)
        dates.update(root_dates)
        dirty |= root_dirty
    result = {}
    for path in paths:
        absolute = str(path.resolve())
        if absolute in dates and absolute not in dirty:
            result[str(path)] = dates[absolute]
            continue
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        result[str(path)] = dt.datetime.fromtimestamp(mtime, dt.UTC).isoformat(timespec="seconds")
    return result
