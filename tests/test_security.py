"""Attacks from the outside review (issue #14), each against a real server on loopback.

Every request goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    KB,
    ROOT,
    Figures,
    build_tree,
    entry_text,
    error_body,
    free_port,
    good_entries,
    gunicorn_serving,
    request,
    serving,
    start_gunicorn,
    stop,
    write_tree,
)


@pytest.fixture(scope="module")
def server(content_index: Path) -> Iterator[str]:
    """`kb serve` over the content index, once for the module; yield host:port."""
    with serving(content_index) as base:
        yield base.removeprefix("http://")


# -- 4. request size --------------------------------------------------------------------------

TOO_LARGE = "the request body is too large (the limit is 2 MB)."


def test_oversized_body_is_413_in_the_json_shape(server: str) -> None:
    status, headers, body = request(server, "POST", "/api/similar", body=b'{"text": "' + b"x" * (3 * 1024 * 1024) + b'"}',
                                    headers={"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (413, error_body(413, TOO_LARGE))
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_announced_gigabyte_is_refused_before_it_is_read(server: str) -> None:
    """A 1 GiB Content-Length is answered at once, without the server waiting for (or reading) the body."""
    host, port = server.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/similar HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1073741824\r\n\r\n" + b"{" * 65536)
        started = time.monotonic()
        received = b""
        while b"\r\n\r\n" not in received and time.monotonic() - started < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 413 "), received[:200]


# -- 8. JSON the parser or the encoder cannot take --------------------------------------------

@pytest.mark.parametrize(("payload", "message"), [
    (b'{"text": ' + b"[" * 1000 + b"]" * 1000 + b"}", "the body is nested too deeply (at most 20 levels)."),
    (b'{"text": ' + b"[" * 100 + b"]" * 100 + b"}", "the body is nested too deeply (at most 20 levels)."),
    (b'{"text": "\\ud800 \xe7\xbd\x91\xe7\xbb\x9c\xe8\xb4\xad\xe7\x89\xa9\xe5\x88\xb7\xe5\x8d\x95\xe8\xa2\xab\xe5\x88\xa4\xe8\xb5\x94\xe5\x81\xbf"}',
     "the body holds a lone surrogate (\\ud800-\\udfff); send valid Unicode text."),
    (b'{"\\udfff": 1}', "the body holds a lone surrogate (\\ud800-\\udfff); send valid Unicode text."),
], ids=["deep-1000", "deep-100", "lone-surrogate", "surrogate-key"])
def test_hostile_json_is_400(server: str, payload: bytes, message: str, figures: Figures) -> None:
    figures.add("hostile JSON bodies and report exports answered 400 (not 500)")
    status, _, body = request(server, "POST", "/api/similar", body=payload, headers={"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (400, error_body(400, message))


def export_form(searches: str) -> bytes:
    return urllib.parse.urlencode({"format": "md", "id": "bic-2019-anshua-liuliang", "searches": searches}).encode()


@pytest.mark.parametrize(("searches", "message"), [
    ("[" * 50000 + "]" * 50000, "searches is nested too deeply (at most 20 levels)."),
    ('[{"query": "' + "[" * 10 + '", "filters": ' + '{"a":' * 30 + "1" + "}" * 30 + "}]",
     "searches is nested too deeply (at most 20 levels)."),
    ('[{"time": "9999-12-31T23:59:59-23:59", "query": "刷单"}]', "searches: time '9999-12-31T23:59:59-23:59' is out of range."),
    ('[{"time": "0001-01-01T00:00:00+23:59", "query": "刷单"}]', "searches: time '0001-01-01T00:00:00+23:59' is out of range."),
    ('[{"query": "\\ud800"}]', "searches holds a lone surrogate (\\ud800-\\udfff); send valid Unicode text."),
], ids=["deep-50000", "deep-filters", "year-9999", "year-1", "surrogate"])
def test_hostile_report_export_is_400(server: str, searches: str, message: str, figures: Figures) -> None:
    figures.add("hostile JSON bodies and report exports answered 400 (not 500)")
    status, headers, body = request(server, "POST", "/report/export", body=export_form(searches),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400, body[:300]
    assert headers["Content-Type"].startswith("text/html")
    assert f"<p>{message.replace(chr(39), '&#39;')}</p>" in body.decode()


# -- 5. open redirect ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example", "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%5Cevil.example",
    "/%5C/evil.example", "%5C%5Cevil.example", "https://evil.example/", "%20//evil.example", "/%2F/evil.example",
    "/%0d%0aSet-Cookie:%20lang=x", "javascript:alert(1)", "/%00/evil.example", "/%7F/evil.example", "%09//evil.example",
    "///evil.example", "/\t/evil.example".replace("\t", "%09%09"),
])
def test_language_switch_never_redirects_off_the_site(server: str, target: str, figures: Figures) -> None:
    figures.add("open-redirect targets tried (all kept on the site)")
    status, headers, _ = request(server, "GET", f"/-/lang/en?next={target}")
    assert (status, headers["Location"]) == (302, "/")
    assert "evil" not in headers.get("Set-Cookie", "") and headers["Set-Cookie"].startswith("lang=en;")


def test_language_switch_returns_to_a_local_page(server: str) -> None:
    status, headers, _ = request(server, "GET", "/-/lang/en?next=" + urllib.parse.quote("/search?q=刷单&type=ruling", safe=""))
    assert (status, headers["Location"]) == (302, "/search?q=%E5%88%B7%E5%8D%95&type=ruling")


# -- 6. the 404 page escapes the id -------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_404_page_escapes_the_id(server: str, lang: str) -> None:
    hostile = '<meta http-equiv="refresh" content="0;url=//evil.example"><script src="/static/report.js"></script>'
    status, headers, body = request(server, "GET", "/entries/" + urllib.parse.quote(hostile, safe="") + f"?lang={lang}")
    page = body.decode()
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "<meta http-equiv" not in page and '<script src="/static/report.js"></script>' not in page
    escaped = "&lt;meta http-equiv=&#34;refresh&#34; content=&#34;0;url=//evil.example&#34;&gt;&lt;script src=&#34;/static/report.js&#34;&gt;&lt;/script&gt;"
    message = {"zh": "没有这个条目：", "en": "No such entry: "}[lang]
    assert f"<p>{message}{escaped}</p>" in page


# -- 7. problems.json: capped, and parsed once per change ---------------------------------------

def test_problems_are_capped_per_file_and_read_once_per_change(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """A file with 5,000 unknown front-matter keys gives 50 lines and one "… and 4950 more"; pages stay small."""
    from indexer.status import read_problems

    keys = "\n".join(f"key_{i:05}: x" for i in range(5000))
    content = write_tree(tmp_path / "content", {
        "rulings/many.md": f"---\ntype: ruling\ntitle: 很多字段\n{keys}\n---\n正文。\n",
        "rulings/good.md": entry_text(title="完好的条目", body="网络购物合同纠纷。"),
        "rulings/bad.md": entry_text(title="坏日期", decided_on="2021-13-01"),
    })
    result = runner("index", "--content", str(content), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    # The command line still prints every problem, then the skipped files and the summary.
    assert len(lines) == 5001 + 2 and lines[-2] == "Skipped 2 of 3 files.", lines[-3:]

    with serving(tmp_path / "ix") as base:
        hostport = base.removeprefix("http://")
        status, _, body = request(hostport, "GET", "/-/problems.json")
        report = json.loads(body)
        assert status == 200 and report["total"] == 5001 and len(report["problems"]) == 52
        many = f"{content}/rulings/many.md"
        assert [p["text"] for p in report["problems"]] == [
            f"{content}/rulings/bad.md:4: decided_on: '2021-13-01' is not a date. Use YYYY-MM-DD, e.g. 2021-03-01.",
            *(f"{many}:{4 + i}: key_{i:05}: unknown field. Remove it, or see the field table in README.md." for i in range(50)),
            f"{many}:54: problems: … and 4950 more in this file. Run kb check {many} to see them all.",
        ]
        assert len(body) < 50_000
        status, _, page = request(hostport, "GET", "/search?q=" + urllib.parse.quote("网络购物"))
        assert status == 200 and "内容中有 5001 个问题" in page.decode()

    first = read_problems(tmp_path / "ix")
    assert read_problems(tmp_path / "ix") is first  # parsed once, not on every page
    (tmp_path / "content" / "rulings" / "many.md").unlink()
    runner("index", "--content", str(content), "--index", str(tmp_path / "ix"))
    assert read_problems(tmp_path / "ix")["total"] == 1  # a new file is read again


def test_problems_kept_in_all_are_capped() -> None:
    from indexer.status import MAX_KEPT, cap_problems
    from kb.problems import Problem

    problems = [Problem(f"content/f{f:02}.md", line, "x", "bad.") for f in range(30) for line in range(1, 51)]
    kept = cap_problems(problems)
    assert len(kept) == MAX_KEPT == 1000
    assert str(kept[-1]) == "content/f19.md:50: problems: … and 501 more lines. Run kb check to see them all."


# -- 11. addresses never come from the Host header ----------------------------------------------

def feed_links(xml: bytes) -> list[str]:
    import xml.etree.ElementTree as ET

    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(xml)
    return [link.get("href") for link in root.iter("{http://www.w3.org/2005/Atom}link")] + \
        [e.text for e in root.findall(".//a:id", ns)]


def test_feed_and_report_ignore_the_host_header(server: str) -> None:
    status, _, xml = request(server, "GET", "/feed.xml", headers={"Host": "evil.example"})
    links = feed_links(xml)
    assert status == 200 and len(links) > 50
    assert b"evil" not in xml and all(link.startswith(("/", "urn:netcourt-kb:/")) for link in links)
    status, _, body = request(server, "POST", "/report/export", body=export_form("[]"),
                              headers={"Content-Type": "application/x-www-form-urlencoded", "Host": "evil.example"})
    assert status == 200 and b"evil" not in body and "\n- NetCourt KB\n" in body.decode()


def test_feed_and_report_use_kb_base_url(content_index: Path) -> None:
    with serving(content_index, env={"KB_BASE_URL": "https://kb.example.org"}) as base:
        hostport = base.removeprefix("http://")
        status, _, xml = request(hostport, "GET", "/feed.xml", headers={"Host": "evil.example"})
        links = feed_links(xml)
        assert status == 200 and b"evil" not in xml
        assert all(link.startswith("https://kb.example.org/") for link in links)
        assert "https://kb.example.org/feed.xml" in links and "https://kb.example.org/entries/bic-2019-anshua-liuliang" in links
        status, _, body = request(hostport, "POST", "/report/export", body=export_form("[]"),
                                  headers={"Content-Type": "application/x-www-form-urlencoded", "Host": "evil.example"})
        assert status == 200 and "\n- NetCourt KB（https://kb.example.org/）\n" in body.decode()


# -- 13. editors' id/class, and raw HTML in the Markdown report ----------------------------------

def test_editors_cannot_set_id_or_class_and_the_markdown_report_has_no_raw_html(tmp_path: Path) -> None:
    body = ('<p id="problems-banner" class="banner">假横幅：内容中有 3 个问题</p>\n\n'
            '<a class="wiki-link" href="https://evil.example/">看似内部链接</a> '
            '<a href="https://evil.example/" class="citation">看似法条</a> '
            '<span class="broken-link">x</span> <span class="banner">y</span> <h2 id="answer">标题</h2>\n\n第一条 网络购物合同纠纷。')
    index_dir = build_tree(tmp_path, {
        "rulings/hostile.md": entry_text(title="<img src=x onerror=alert(1)>恶意标题", body=body, court="北京互联网法院"),
    })
    with serving(index_dir) as base:
        hostport = base.removeprefix("http://")
        status, _, page = request(hostport, "GET", "/entries/hostile")
        html = page.decode()
        assert status == 200 and "假横幅" in html and "看似内部链接" in html
        assert 'id="problems-banner"' not in html and 'class="banner"' not in html and 'id="answer"' not in html
        assert '<a href="https://evil.example/" rel="noopener noreferrer">看似内部链接</a>' in html
        assert '<a href="https://evil.example/" rel="noopener noreferrer">看似法条</a>' in html
        assert "<span class=\"broken-link\">x</span>" in html  # a class our renderer gives, harmless
        assert "<span>y</span>" in html
        form = urllib.parse.urlencode({"format": "md", "id": "hostile", "facts": "<script>alert(1)</script>事实",
                                       "dispute": "\\<b>焦点</b>", "note:hostile": "<img src=x onerror=alert(2)>意见"}).encode()
        status, _, body_md = request(hostport, "POST", "/report/export", body=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        text = body_md.decode()
        assert status == 200
        assert "### 1. \\<img src=x onerror=alert(1)\\>恶意标题" in text
        assert "\\<script\\>alert(1)\\</script\\>事实" in text
        assert "\\\\\\<b\\>焦点\\</b\\>" in text
        assert "  \\<img src=x onerror=alert(2)\\>意见" in text
        assert not re.search(r"(?<!\\)<", text)  # every < is escaped


# -- 14. ids in look-alike scripts ---------------------------------------------------------------

@pytest.mark.parametrize(("entry_id", "message"), [
    ("alibaba-v-ji\u0430nshi-shuadan", "'\u0430' is U+0430 CYRILLIC SMALL LETTER A, not a Latin letter."),
    ("bic-2019-\u03bfnshua", "'\u03bf' is U+03BF GREEK SMALL LETTER OMICRON, not a Latin letter."),
    ("bic-2019-ａnshua", "'ａ' is U+FF41 FULLWIDTH LATIN SMALL LETTER A, which ids may not hold."),
    ("bic-２019", "'２' is U+FF12 FULLWIDTH DIGIT TWO, which ids may not hold."),
])
def test_look_alike_ids_are_problems_and_never_served(tmp_path: Path, entry_id: str, message: str, figures: Figures,
                                                      monkeypatch: pytest.MonkeyPatch, runner) -> None:  # type: ignore[no-untyped-def]
    """An id that looks like another entry's is rejected with its line; the real entry stays the only one."""
    figures.add("look-alike entry ids rejected")
    write_tree(tmp_path / "content", {
        "rulings/real.md": entry_text(title="真条目", id="alibaba-v-jianshi-shuadan", body="刷单炒信。"),
        "rulings/fake.md": entry_text(title="冒充的条目", id=entry_id, body="刷单炒信的冒充。"),
    })
    monkeypatch.chdir(tmp_path)
    result = runner("index", "--content", "content", "--index", "ix")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"content/rulings/fake.md:4: id: '{entry_id}' is not a valid id: {message} "
        "Use ASCII letters and digits, Chinese characters, '-', '_' and '.'; retype the id on an English keyboard.")
    from indexer import SearchIndex

    assert [hit.id for hit in SearchIndex(tmp_path / "ix").search("刷单炒信").results] == ["alibaba-v-jianshi-shuadan"]


# -- 12. gunicorn: 1,000-character queries fit; its own errors in our shape ----------------------

@pytest.fixture(scope="module")
def gunicorn_server(content_index: Path) -> Iterator[str]:
    """gunicorn with the production settings (deploy/gunicorn.conf.py), 2 workers; yield host:port."""
    with gunicorn_serving(content_index) as hostport:
        yield hostport


def test_gunicorn_answers_a_1000_character_chinese_query(gunicorn_server: str) -> None:
    query = ("网络购物合同纠纷刷单炒信平台责任" * 63)[:1000]
    path = "/api/search?q=" + urllib.parse.quote(query) + "&type=ruling"
    assert len(path) > 9000
    status, headers, body = request(gunicorn_server, "GET", path)
    assert status == 200, body[:300]
    assert json.loads(body)["ok"] is True
    status, _, body = request(gunicorn_server, "GET", "/api/search?q=" + urllib.parse.quote(query + "多"))
    assert (status, json.loads(body)) == (400, error_body(400, "the query is 1001 characters long; the limit is 1000. "
                                                                "Shorten it, or use /api/similar for a paragraph of facts."))


@pytest.mark.parametrize(("status", "line", "headers", "message"), [
    (414, "GET /api/search?q=" + "a" * 16400 + " HTTP/1.1", "", "the request line is too long."),
    (431, "GET /api/search?q=x HTTP/1.1", "X-Big: " + "a" * 20000 + "\r\n", "the request headers are too large."),
])
def test_gunicorn_errors_are_in_our_shape_with_security_headers(gunicorn_server: str, status: int, line: str,
                                                                 headers: str, message: str) -> None:
    host, port = gunicorn_server.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(f"{line}\r\nHost: x\r\n{headers}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # gunicorn may answer and close before the whole line is sent
        received = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), received[:300]
    fields = dict(item.split(": ", 1) for item in lines[1:])
    assert fields["Content-Type"] == "application/json" and "script-src 'self'" in fields["Content-Security-Policy"]
    assert fields["X-Content-Type-Options"] == "nosniff" and fields["X-Frame-Options"] == "DENY"
    assert json.loads(body) == error_body(status, message)


# -- 9. a full disk -------------------------------------------------------------------------------

class FullDisk:
    """Whoosh's file writes fail with ENOSPC once ``budget`` bytes have been written (a disk filling up)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
        import errno
        import os

        from whoosh.filedb.structfile import StructFile

        self.written = 0
        original = StructFile.write

        def write(handle, data, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.written += len(data)
            if self.written > budget:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return original(handle, data, *args, **kwargs)

        monkeypatch.setattr(StructFile, "write", write)


def index_files(index_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*") if p.is_file() and p.name != "build.lock")


# Whoosh leaves the file it was writing open when a write fails; the leak is its own, and only
# under this simulated failure.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_full_disk_leaves_no_debris_and_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                       runner) -> None:
    from indexer import SearchIndex

    content = write_tree(tmp_path / "content", good_entries(12))
    ix = tmp_path / "ix"
    args = ["index", "--content", str(content), "--index", str(ix)]
    assert runner(*args).exit_code == 0
    before = index_files(ix)
    current = (ix / "CURRENT").read_text()
    line = (f"kb index: cannot write the index in '{ix}': the disk is full. The unfinished build was removed and the "
            "last build still serves. Free some space (or fix the folder) and run kb index again.\n")

    with monkeypatch.context() as patch:
        FullDisk(patch, budget=4096)
        result = runner(*args, "--clean")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", line)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert index_files(ix) == before and (ix / "CURRENT").read_text() == current

    (content / "rulings" / "good-0.md").write_text(entry_text(title="改过的条目", body="新的标记词新词甲。"), encoding="utf-8")
    with monkeypatch.context() as patch:
        FullDisk(patch, budget=4096)
        result = runner(*args)  # incremental: writes into the live build
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", line)
    assert index_files(ix) == before  # no stray segment or temp file in the live build
    assert [h.id for h in SearchIndex(ix).search("好词0").results] == ["good-0"]

    result = runner(*args)  # space again: the next build works
    assert result.exit_code == 0, result.output
    assert [h.id for h in SearchIndex(ix).search("新词甲").results] == ["good-0"]
    import gc

    gc.collect()  # Whoosh's leaked files are closed here, under this test's warning filter, not in a later test


# -- 10. a corrupted or half-written index ------------------------------------------------------

def two_builds(tmp_path: Path) -> tuple[Path, str, str]:
    """An index whose previous build holds 旧词 and whose live build holds 新词; return it and both names."""
    from indexer import build_index

    content = write_tree(tmp_path / "content", {"rulings/a.md": entry_text(title="条目", body="网络购物旧词。")})
    first = Path(build_index([content], tmp_path / "ix", clean=True).build_dir).name
    (content / "rulings" / "a.md").write_text(entry_text(title="条目", body="网络购物新词。"), encoding="utf-8")
    second = Path(build_index([content], tmp_path / "ix", clean=True).build_dir).name
    return tmp_path / "ix", first, second


def truncate_segments(build: Path) -> None:
    for segment in build.glob("*.seg"):
        with segment.open("r+b") as handle:
            handle.truncate(segment.stat().st_size // 2)


def served_words(hostport: str) -> tuple[int, str | None, list[str]]:
    status, _, body = request(hostport, "GET", "/-/health")
    health = json.loads(body)
    found = [word for word in ("旧词", "新词") if json.loads(request(hostport, "GET", "/api/search?q=" + urllib.parse.quote(word))[2])["total"]]
    return status, health.get("build"), found


CORRUPTIONS = {
    "truncated segment": lambda build, root: truncate_segments(build),
    "manifest deleted": lambda build, root: (build / "manifest.json").unlink(),
    "CURRENT garbage": lambda build, root: (root / "CURRENT").write_bytes(b"\x00\xff../../etc\n"),
    "CURRENT missing": lambda build, root: (root / "CURRENT").unlink(),
    "CURRENT truncated": lambda build, root: (root / "CURRENT").write_text(build.name[:5], encoding="utf-8"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_live_build_at_start_serves_the_last_good_one(tmp_path: Path, corruption: str,
                                                                figures: Figures) -> None:
    figures.add("damaged indexes served from the last good build")
    index_dir, first, second = two_builds(tmp_path)
    CORRUPTIONS[corruption](index_dir / "builds" / second, index_dir)
    with gunicorn_serving(index_dir) as hostport:
        expected = (200, first, ["旧词"]) if corruption in ("truncated segment", "manifest deleted") else (200, second, ["新词"])
        assert served_words(hostport) == expected


def test_a_damaged_build_swapped_in_leaves_the_last_good_one_serving(tmp_path: Path) -> None:
    index_dir, first, second = two_builds(tmp_path)
    (index_dir / "CURRENT").write_text(first + "\n", encoding="utf-8")
    with gunicorn_serving(index_dir) as hostport:
        assert served_words(hostport) == (200, first, ["旧词"])
        truncate_segments(index_dir / "builds" / second)
        (index_dir / "CURRENT").write_text(second + "\n", encoding="utf-8")  # a swap to a damaged build
        for _ in range(6):  # both workers, several requests each
            assert served_words(hostport) == (200, first, ["旧词"])


@pytest.mark.parametrize("how", ["truncated segment", "manifest deleted"])
def test_no_readable_build_refuses_to_start_in_one_line(tmp_path: Path, how: str) -> None:
    from indexer import build_index

    content = write_tree(tmp_path / "content", {"rulings/a.md": entry_text(title="条目", body="网络购物。")})
    build = Path(build_index([content], tmp_path / "ix", clean=True).build_dir)
    CORRUPTIONS[how](build, tmp_path / "ix")
    proc, _ = start_gunicorn(tmp_path / "ix")
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode != 0
    ours = [line for line in out.splitlines() if "webapp.wsgi:" in line]
    reason = ("its index files cannot be read (" if how == "truncated segment" else "manifest.json is missing")
    assert len(ours) == 1 and ours[0].startswith(f"webapp.wsgi: no readable build in '{tmp_path / 'ix'}' ({build.name}: {reason}")
    assert ours[0].endswith(f"). Rebuild it with: kb index --clean --index {tmp_path / 'ix'}")
    assert "Traceback" not in out, out
    result = subprocess.run([*KB, "serve", "--port", str(free_port()), "--index", str(tmp_path / "ix")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.splitlines() == [ours[0].replace("webapp.wsgi:", "kb serve:")]


def test_arrays_truncated_to_nothing_are_recomputed(tmp_path: Path) -> None:
    index_dir, first, second = two_builds(tmp_path)
    arrays = list((index_dir / "builds" / second / "arrays").iterdir())
    assert arrays
    for path in arrays:
        path.write_bytes(b"")
    with gunicorn_serving(index_dir) as hostport:
        assert served_words(hostport) == (200, second, ["新词"])


def test_health_is_503_when_searches_fail(tmp_path: Path) -> None:
    """No index at all: gunicorn starts (the pages say how to build one), but health and searches say 503."""
    (tmp_path / "ix").mkdir()
    proc, hostport = start_gunicorn(tmp_path / "ix")
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status, _, body = request(hostport, "GET", "/-/health")
                break
            except OSError:
                time.sleep(0.2)
        message = f"no index in '{tmp_path / 'ix'}'. Build one with: kb index --index {tmp_path / 'ix'}"
        assert (status, json.loads(body)) == (503, error_body(503, f"searches fail: IndexMissingError: {message}"))
        status, _, body = request(hostport, "GET", "/api/search?q=x")
        assert (status, json.loads(body)) == (503, error_body(503, message))
    finally:
        stop(proc)
