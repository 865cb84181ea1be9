"""`kb serve --watch` for real: a saved file is checked and searchable; a broken one never takes the site down.

Latency is measured in bench/ (no timed assertions here); these tests poll with a generous limit.
"""

from __future__ import annotations

import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import entry_text, get_json, serving

POLL_LIMIT = 15.0


def get(url: str) -> dict:
    """GET ``url``; return its JSON body, which must come with 200."""
    status, body, _headers = get_json(url)
    assert status == 200, (url, status, body)
    return body


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + POLL_LIMIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {POLL_LIMIT} s: {what}")


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    content = tmp_path / "content"
    (content / "rulings").mkdir(parents=True)
    (content / "rulings" / "first.md").write_text(entry_text(title="第一个条目", body="原来的正文。"), encoding="utf-8")
    with serving(tmp_path / "ix", "--watch", "--content", str(content)) as base:
        yield base, content


def search_ids(base: str, query: str) -> list[str]:
    body = get(base + "/api/search?q=" + urllib.parse.quote(query))
    return [hit["id"] for hit in body["results"]]


def test_new_file_broken_file_fixed_file(watched) -> None:  # type: ignore[no-untyped-def]
    base, content = watched
    new = content / "rulings" / "second.md"
    new.write_text(entry_text(title="区块链存证新条目", body="天平链上的电子数据。"), encoding="utf-8")
    eventually(lambda: search_ids(base, "区块链存证") == ["second"], "the new entry is searchable")

    new.write_text("---\ntype: ruling\ntitle: 区块链存证新条目\ndecided_on: 2021-13-01\nbody without closing\n", encoding="utf-8")

    def problem_shown() -> bool:
        problems = get(base + "/-/problems.json")["problems"]
        return any(p["path"].endswith("rulings/second.md") and p["line"] == 1 and "no closing '---'" in p["message"] for p in problems)

    eventually(problem_shown, "/-/problems shows the broken file with path and line")
    assert search_ids(base, "区块链存证") == ["second"]  # the last good version still serves
    with urllib.request.urlopen(base + "/entries/second", timeout=10) as response:
        page = response.read().decode()
    assert "区块链存证新条目" in page and 'id="problems-banner"' in page
    with urllib.request.urlopen(base + "/-/problems", timeout=10) as response:
        assert "rulings/second.md:1" in response.read().decode()

    # Broken in a field only: the file parses, but it is served whole as it last was, not without its date.
    new.write_text(entry_text(title="区块链存证新条目", decided_on="2021-13-45", body="半坏的正文：电子签名。"), encoding="utf-8")
    half = "content/rulings/second.md:4: decided_on: '2021-13-45' is not a date. Use YYYY-MM-DD, e.g. 2021-03-01."

    def half_shown() -> bool:
        problems = get(base + "/-/problems.json")["problems"]
        return [p["text"].split("/content/", 1)[-1] for p in problems] == [half.split("content/", 1)[1]]

    eventually(half_shown, "/-/problems shows the bad date with its line")
    assert search_ids(base, "电子签名") == [] and search_ids(base, "区块链存证") == ["second"]

    new.write_text(entry_text(title="区块链存证新条目", body="修改后的正文：可信时间戳。"), encoding="utf-8")
    eventually(lambda: search_ids(base, "可信时间戳") == ["second"], "the fixed file is live")
    eventually(lambda: get(base + "/-/problems.json")["problems"] == [], "the problem is cleared")

    new.unlink()
    eventually(lambda: search_ids(base, "区块链存证") == [], "a deleted file leaves the index")


def stamp(base: str) -> str:
    return get(base + "/-/status")["stamp"]


def test_reading_files_does_not_rebuild(watched) -> None:  # type: ignore[no-untyped-def]
    """watchdog 7 reports `opened` and `closed_no_write` for reads: a read must not start a build (each build reads)."""
    base, content = watched
    time.sleep(1.2)  # the problems' stamp has a resolution of one second: a rebuild now would change it
    before = stamp(base)
    for _ in range(3):
        (content / "rulings" / "first.md").read_text(encoding="utf-8")
        sorted(content.rglob("*.md"))
    time.sleep(2.5)
    assert stamp(base) == before
    # A real change still rebuilds.
    (content / "rulings" / "first.md").write_text(entry_text(title="第一个条目", body="改过的正文：电子合同。"), encoding="utf-8")
    eventually(lambda: search_ids(base, "电子合同") == ["first"], "a saved change is searchable")


def test_content_folder_deleted_then_restored(watched) -> None:  # type: ignore[no-untyped-def]
    """Deleting the watched folder keeps the last build serving, says so in /-/problems, and its return rebuilds."""
    base, content = watched
    saved = content.parent / "saved"
    shutil.copytree(content, saved)
    documents = get(base + "/-/health")["documents"]
    shutil.rmtree(content)

    def missing_shown() -> bool:
        return [p["text"] for p in get(base + "/-/problems.json")["problems"]] == [
            f"{content}:0: content folder: is missing (deleted or moved); still serving the last build. "
            "Restore the folder: it is rebuilt as soon as it is back."]

    eventually(missing_shown, "/-/problems says the content folder is missing")
    assert get(base + "/-/health")["documents"] == documents
    assert search_ids(base, "原来的正文") == ["first"]

    (saved / "rulings" / "first.md").write_text(entry_text(title="第一个条目", body="恢复后的正文：网络直播。"), encoding="utf-8")
    shutil.move(str(saved), str(content))
    eventually(lambda: search_ids(base, "网络直播") == ["first"], "the restored folder is rebuilt")
    eventually(lambda: get(base + "/-/problems.json")["problems"] == [], "the problem is cleared")
    # ...and watched again: an edit after the return is picked up.
    (content / "rulings" / "first.md").write_text(entry_text(title="第一个条目", body="再次修改：数据爬取。"), encoding="utf-8")
    eventually(lambda: search_ids(base, "数据爬取") == ["first"], "edits after the return are watched")


def test_drafts_only_in_preview(tmp_path: Path) -> None:
    from indexer import SearchIndex, build_index

    content = tmp_path / "content"
    (content / "rulings").mkdir(parents=True)
    (content / "rulings" / "draft.md").write_text(entry_text(title="草稿", status="draft", body="保密的拟稿内容。"), encoding="utf-8")
    (content / "rulings" / "public.md").write_text(entry_text(title="公开条目", body="已经发布。"), encoding="utf-8")
    build_index([content], tmp_path / "public", clean=True)
    build_index([content], tmp_path / "preview", clean=True, include_drafts=True)
    assert [h.id for h in SearchIndex(tmp_path / "public").search("拟稿").results] == []
    assert SearchIndex(tmp_path / "public").get_entry("draft") is None
    assert [h.id for h in SearchIndex(tmp_path / "preview").search("拟稿").results] == ["draft"]
    from webapp import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "preview")}).test_client()
    page = client.get("/entries/draft").get_data(as_text=True)
    assert "DRAFT" in page
    public = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "public")}).test_client()
    assert public.get("/entries/draft").status_code == 404
    assert public.get("/api/entries/draft").status_code == 404


def test_atom_feed(client) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    response = client.get("/feed.xml")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) >= 25
    updated = [e.find("a:updated", ns).text for e in entries]
    assert updated == sorted(updated, reverse=True)
    # No KB_BASE_URL: relative links (never the client's Host header), ids a URN of the path.
    assert all(e.find("a:link", ns).get("href") == "/entries/" + e.find("a:id", ns).text.removeprefix("urn:netcourt-kb:/entries/")
               for e in entries)
