"""Progress of long runs (`kb index` over a statute corpus takes minutes): a bar on a terminal, else nothing.

Code that does the work takes a ``Progress`` callback and calls it with what it counts, how many
are done and how many there are; only the command line decides how to show it. When stderr is
not a terminal (CI logs, pipes) there are no bars, only the command's one summary line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TextIO

Progress = Callable[[str, int, int], None]  # (what is counted, e.g. "files read"; done; total)


class TerminalProgress:
    """Show one tqdm bar per thing counted, on a terminal: count, rate and time left."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: Any = None
        self.what = ""

    def __call__(self, what: str, done: int, total: int) -> None:
        """Move the bar of ``what`` to ``done`` of ``total``; a new ``what`` closes the previous bar."""
        if self.bar is None or what != self.what:
            from tqdm import tqdm

            self.close()
            unit = what.split()[0].rstrip("s") if what else "it"  # "files read" counts files
            self.bar = tqdm(total=total, desc=what, unit=f" {unit}", file=self.stream, leave=True, ncols=self._width(),
                            nrows=20)
            self.what = what
        if self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)
        if done >= total:  # closed now, so that the rate shown is that of this work, not of what follows
            self.close()

    def _width(self) -> int:
        # A terminal that reports no size (a fresh pty is 0x0) gets no bar from tqdm: hence the
        # fallback width, and nrows (tqdm hides a bar whose row is past the screen's height).
        try:
            return min(os.get_terminal_size(self.stream.fileno()).columns, 120) or 80
        except (OSError, AttributeError, ValueError):
            return 80

    def close(self) -> None:
        """Finish the current bar, if any."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def terminal_progress(stream: TextIO) -> TerminalProgress | None:
    """Return a progress display on ``stream`` if it is a terminal, else None (no progress output)."""
    try:
        return TerminalProgress(stream) if stream.isatty() else None
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return None
