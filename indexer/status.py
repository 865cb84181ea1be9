"""What the last build reported, kept beside the index so the web app can show it."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from kb.problems import Problem

PROBLEMS_FILE = "problems.json"


def write_problems(index_root: Path | str, problems: list[Problem], checked: int) -> None:
    """Record the problems of the latest build or check (atomically)."""
    index_root = Path(index_root)
    index_root.mkdir(parents=True, exist_ok=True)
    data = {
        "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "checked": checked,
        "problems": [dict(path=p.path, line=p.line, field=p.field, message=p.message, hint=p.hint, text=str(p))
                     for p in sorted(problems)],
    }
    tmp = index_root / f"{PROBLEMS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, index_root / PROBLEMS_FILE)


def read_problems(index_root: Path | str) -> dict[str, Any]:
    """Return the recorded problems ({"updated", "checked", "problems"}); none if nothing was recorded."""
    try:
        return json.loads((Path(index_root) / PROBLEMS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"updated": None, "checked": 0, "problems": []}
