"""Watch content folders and call back after changes settle (watchdog, debounced)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

DEBOUNCE_SECONDS = 0.1
# watchdog 7 also reports `opened`, `closed_no_write` and `closed` when a file is only read or
# closed: the build reads every file, so counting those as changes made each rebuild start the
# next one (about 7 a second at idle). Only these change what a build would read.
CHANGE_EVENTS = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED})


def is_change(event: FileSystemEvent) -> bool:
    """Return True if ``event`` changes a Markdown or data file (not a read, not a folder's mtime)."""
    if event.event_type not in CHANGE_EVENTS:
        return False
    if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
        return False
    path = str(event.src_path) + " " + str(getattr(event, "dest_path", "") or "")
    return any(part in path for part in (".md", ".yaml", ".txt"))


class _RootWatcher(FileSystemEventHandler):
    """Watch a content folder's parent, non-recursively, for the folder itself being removed or (re)created."""

    def __init__(self, owner: ContentWatcher, root: Path) -> None:
        self.owner = owner
        self.root = str(root.absolute())

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGE_EVENTS or event.event_type == EVENT_TYPE_MODIFIED:
            return
        dest = str(getattr(event, "dest_path", "") or "")
        if self.root in (str(event.src_path), dest):
            self.owner.root_changed(Path(self.root))


class ContentWatcher(FileSystemEventHandler):
    """Call ``on_change`` once after a burst of file events below ``roots`` (editors save in bursts).

    A content folder that is deleted and comes back (``git checkout``, a restored backup) is
    watched again when it reappears, and its return counts as a change.
    """

    def __init__(self, roots: list[Path], on_change: Callable[[], None], debounce: float = DEBOUNCE_SECONDS) -> None:
        self.roots = [Path(root).absolute() for root in roots]
        self.on_change = on_change
        self.debounce = debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._observer = Observer()
        self._watches: dict[Path, ObservedWatch | None] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Schedule a rebuild for changes to Markdown and data files."""
        if is_change(event):
            self.schedule_change()

    def schedule_change(self) -> None:
        """Call ``on_change`` after ``debounce`` seconds without another change."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def root_changed(self, root: Path) -> None:
        """Watch ``root`` again if it is back (its old watch died with it), and rebuild either way."""
        with self._lock:
            old = self._watches.get(root)
            if old is not None:
                try:
                    self._observer.unschedule(old)
                except KeyError:
                    pass
                self._watches[root] = None
            if root.is_dir():
                self._watches[root] = self._observer.schedule(self, str(root), recursive=True)
        self.schedule_change()

    def _fire(self) -> None:
        with self._running:  # one rebuild at a time; a change during it schedules another
            self.on_change()

    def start(self) -> None:
        """Start watching."""
        for root in self.roots:
            self._watches[root] = self._observer.schedule(self, str(root), recursive=True)
            if root.parent != root and root.parent.is_dir():
                self._observer.schedule(_RootWatcher(self, root), str(root.parent), recursive=False)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        """Stop watching."""
        self._observer.stop()
        self._observer.join(timeout=5)
