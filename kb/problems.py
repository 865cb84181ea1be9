"""Problems found in content files, reported compiler style."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one file: ``path:line: field: message hint``."""

    path: str
    line: int
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.field}: {self.message}"
        return f"{text} {self.hint}" if self.hint else text


def display_path(path: Path | str) -> str:
    """Return ``path`` relative to the working directory when it lies below it, else as given."""
    path = Path(path)
    try:
        return path.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def summarize(problems: list[Problem], checked: int) -> str:
    """Return the closing summary line for a check or build."""
    if not problems:
        return f"Checked {checked} entries: no problems."
    files = len({p.path for p in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    fnoun = "file" if files == 1 else "files"
    return f"Checked {checked} entries: {len(problems)} {noun} in {files} {fnoun}."
