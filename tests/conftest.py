"""Shared fixtures, flaskr style: write a content tree, build a real index, make an app and client."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
CORPUS = Path(os.environ.get("KB_CORPUS", ROOT.parent / "shared" / "corpus" / "lawrefbook-laws"))
TESTS = ROOT / "tests"
KB = [sys.executable, "-m", "kb.cli"]


@pytest.fixture(scope="session", autouse=True)
def jieba_loaded() -> None:
    """Load jieba's dictionary once per test session."""
    from indexer.analyzer import initialize

    initialize()


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) below ``root``."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def entry_text(type_: str = "ruling", title: str = "标题", body: str = "正文。", **fields: str | list[str]) -> str:
    """Return the text of an entry file with the given front-matter fields."""
    lines = ["---", f"type: {type_}", f"title: {title}"]
    for key, value in fields.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {item}" for item in value)
        else:
            lines.append(f"{key}: {value}")
    lines += ["---", body, ""]
    return "\n".join(lines)


@pytest.fixture
def content_dir(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Return a function that writes a content tree into tmp_path/content."""

    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "content", files)

    return make


@pytest.fixture(scope="session")
def content_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a real index of the bundled content/ once per session."""
    from indexer import build_index

    index_dir = tmp_path_factory.mktemp("content-index")
    report = build_index([CONTENT], index_dir, clean=True)
    assert report.problems == [], "\n".join(map(str, report.problems))
    return index_dir


@pytest.fixture(scope="session")
def content_search(content_index: Path):  # type: ignore[no-untyped-def]
    """Return a SearchIndex over the bundled content."""
    from indexer import SearchIndex

    return SearchIndex(content_index)


@pytest.fixture
def app(content_index: Path):  # type: ignore[no-untyped-def]
    """Return the Flask app over the bundled content's index."""
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(content_index)})


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """Return a test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner():  # type: ignore[no-untyped-def]
    """Return a function that runs ``kb ARGS`` in-process (flaskr's runner) and returns click's Result."""
    from click.testing import CliRunner

    from kb.cli import main

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers 200, or fail with the server's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}: {out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def serving(index_dir: Path) -> Iterator[str]:
    """Run `kb serve` on a free port over ``index_dir`` while the block runs; yield its base URL."""
    port = free_port()
    proc = subprocess.Popen([*KB, "serve", "--port", str(port), "--index", str(index_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/-/health", proc=proc)
        yield base
    finally:
        stop(proc)


@pytest.fixture
def live_server(content_index: Path) -> Iterator[str]:
    """Start `kb serve` on a free port over the content index; yield its base URL."""
    with serving(content_index) as base:
        yield base


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by a test and close its pipe."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


def chromium_path() -> str | None:
    """Return Debian's chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Debian's chromium as root on this machine: no sandbox, and no background networking (its
# connections would be refused by the closed network).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch headless Chromium through Playwright, once per test module."""
    path = chromium_path()
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `make deps` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
