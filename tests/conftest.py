"""Shared fixtures, flaskr style: write a content tree, build a real index, make an app, client and runner.

The helpers they are made of, and that tests import, are in tests/support.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import (
    CHROMIUM_ARGS,
    CONTENT,
    JUDGE_CHARGES,
    LECARD,
    Figures,
    chromium_path,
    new_page,
    run_kb,
    serving,
    write_tree,
)


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
def judgments_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Import the real judgments of JUDGE_CHARGES with `kb import lecard`, once per session (skip without the corpus)."""
    if not (LECARD / "judgments.tar.xz").is_file():
        pytest.skip(f"lecard-judgments corpus not found at {LECARD} (set KB_LECARD)")
    from kb.importers.lecard import import_judgments

    dest = tmp_path_factory.mktemp("judgments")
    report = import_judgments(LECARD, dest, charges=set(JUDGE_CHARGES))
    assert report.problems == [], report.problems
    return dest


@pytest.fixture(scope="session")
def judgment_entries(judgments_dir: Path) -> dict:  # type: ignore[type-arg]
    """Return the imported judgments as entries, by id: what judgments_index holds besides content/."""
    from kb.loader import load_all

    return {e.id: e for e in load_all([judgments_dir]).entries}


@pytest.fixture(scope="session")
def judgments_index(tmp_path_factory: pytest.TempPathFactory, judgments_dir: Path) -> Path:
    """Build a real index of content/ plus the imported judgments, once per session."""
    from indexer import build_index

    index_dir = tmp_path_factory.mktemp("judgments-index")
    report = build_index([CONTENT, judgments_dir], index_dir, clean=True)
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
    return run_kb


@pytest.fixture
def live_server(content_index: Path) -> Iterator[str]:
    """Start `kb serve` on a free port over the content index; yield its base URL."""
    with serving(content_index) as base:
        yield base


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Return the session's figures, printed in the terminal summary."""
    plugin = request.config.pluginmanager.get_plugin("kb-reliability-figures")
    if plugin is None:
        plugin = Figures()
        request.config.pluginmanager.register(plugin, "kb-reliability-figures")
    yield plugin


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


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Return a page of a fresh Chinese-locale context that accepts downloads; page.errors lists its script errors."""
    context, page = new_page(browser, timeout=20_000, accept_downloads=True)
    yield page
    context.close()
