"""Watch content folders and call back after changes settle (watchdog, debounced)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

DEBOUNCE_SECONDS = 0.1


class ContentWatcher(FileSystemEventHandler):
    """Call ``on_change`` once after a burst of file events below ``roots`` (editors save in bursts)."""

    def __init__(self, roots: list[Path], on_change: Callable[[], None], debounce: float = DEBOUNCE_SECONDS) -> None:
        self.roots = roots
        self.on_change = on_change
        self.debounce = debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._observer = Observer()

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Schedule a rebuild for changes to Markdown and data files."""
        path = str(event.src_path) + " " + str(getattr(event, "dest_path", "") or "")
        if event.is_directory and event.event_type == "modified":
            return
        if not any(part in path for part in (".md", ".yaml", ".txt")):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._running:  # one rebuild at a time; a change during it schedules another
            self.on_change()

    def start(self) -> None:
        """Start watching."""
        for root in self.roots:
            self._observer.schedule(self, str(root), recursive=True)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        """Stop watching."""
        self._observer.stop()
        self._observer.join(timeout=5)
