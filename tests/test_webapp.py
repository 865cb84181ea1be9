"""The Flask app over a real index: pages and API share one search, one error shape, safe headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import PAYLOADS, ROOT, SMALL_TREE, build_tree, entry_text
from webapp import create_app

HOSTILE = entry_text(type_="guideline", title="恶意内容测试", summary="测试", body="\n\n".join(PAYLOADS.values()))


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("small"), {
        **SMALL_TREE,
        "guidelines/hostile.md": HOSTILE,
        "rulings/renamed.md": entry_text(title="改名后的条目", aliases=["old-name"], related=["shuadan"],
                                         body="见[[shuadan]]与《消费者权益保护法》第五十五条。"),
    })


@pytest.fixture
def client(small_index: Path):  # type: ignore[no-untyped-def]
    return create_app({"TESTING": True, "INDEX_DIR": str(small_index)}).test_client()


def test_api_search_shape(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search", query_string={"q": "公序良俗"}).get_json()
    assert body["ok"] is True and body["total"] == 1
    hit = body["results"][0]
    assert {"id", "type", "title", "url", "snippet", "score"} <= set(hit)
    assert hit["id"] == "shuadan" and hit["url"] == "/entries/shuadan"
    assert body["facets"]["type"] == [{"value": "ruling", "count": 1}]


def test_raw_utf8_query_string_like_curl(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search?q=" + "公序良俗".encode().decode("latin-1")).get_json()
    assert body["query"] == "公序良俗" and body["total"] == 1


def test_page_and_api_show_the_same_results(client) -> None:  # type: ignore[no-untyped-def]
    api = client.get("/api/search", query_string={"q": "赔偿"}).get_json()
    html = client.get("/search", query_string={"q": "赔偿"}).get_data(as_text=True)
    assert api["total"] >= 1
    for hit in api["results"]:
        assert f'href="{hit["url"]}"' in html.replace("&amp;", "&")


def test_filters_and_facet_links(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search", query_string={"q": "合同", "type": "ruling"}).get_data(as_text=True)
    assert "已筛选" in html
    body = client.get("/api/search", query_string={"q": "", "procedure": "二审"}).get_json()
    assert [h["id"] for h in body["results"]] == ["appeal"]


@pytest.mark.parametrize("query_string, message", [
    ({"q": "x", "page": "-1"}, "page must be between 1 and 100."),
    ({"q": "x", "per_page": str(10**9)}, "per_page must be between 1 and 100."),
    ({"q": "x", "page": "abc"}, "page must be a whole number, not 'abc'."),
    ({"q": "x", "sort": "nope"}, "sort must be one of: relevance, date, precedent."),
    ({"q": "刷" * 10_000}, "the query is 10000 characters long; the limit is 1000. Shorten it, or use /api/similar for a paragraph of facts."),
    ({"q": "((", "syntax": "1"}, "the query has operators but nothing to search for. Add a word, or search without syntax=1."),
])
def test_bad_requests_get_400_with_one_shape(client, query_string, message) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/search", query_string=query_string)
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": message, "errors": [message], "status": 400}
    page = client.get("/search", query_string=query_string)
    assert page.status_code == 400 and message in page.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("q", ['"未闭合', "\x00\x07控制字符", "title:", "((", "*", "举证责任 -刑事", "<script>alert(1)</script>"])
def test_odd_queries_never_500(client, q) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/search", query_string={"q": q}).status_code == 200
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.get_data(as_text=True)


def test_entry_api_and_page(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/entries/renamed").get_json()
    entry = body["entry"]
    assert entry["title"] == "改名后的条目"
    assert '<a class="citation" href="/entries/xiaobao#%E7%AC%AC%E4%BA%94%E5%8D%81%E4%BA%94%E6%9D%A1"' in entry["html"]
    assert '<a class="wiki-link" href="/entries/shuadan"' in entry["html"]
    page = client.get("/entries/renamed").get_data(as_text=True)
    assert "改名后的条目" in page and "相关条目" in page


def test_backlinks_and_cited_by(client) -> None:  # type: ignore[no-untyped-def]
    shuadan = client.get("/api/entries/shuadan").get_json()["entry"]
    assert [b["id"] for b in shuadan["backlinks"]] == ["renamed"]
    statute = client.get("/api/entries/xiaobao").get_json()["entry"]
    assert statute["articles"] == ["第五十五条", "第五十六条"]
    assert sorted(h["id"] for h in statute["cited_by"]["第五十五条"]) == ["haoping", "renamed"]
    page = client.get("/entries/xiaobao").get_data(as_text=True)
    # Beside the article it cites, not at the bottom of the law.
    assert 'id="第五十五条"' in page and "引用第五十五条的条目（2）" in page
    assert page.index('id="第五十五条"') < page.index("引用第五十五条的条目（2）") < page.index('id="第五十六条"')


def test_alias_redirects_with_301(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/entries/old-name")
    assert response.status_code == 301 and response.headers["Location"].endswith("/entries/renamed")
    response = client.get("/api/entries/old-name")
    assert response.status_code == 301 and response.headers["Location"].endswith("/api/entries/renamed")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # a redirect is an answer like any other
    assert client.get("/api/entries/nope").get_json() == {"ok": False, "error": "no entry 'nope'.", "errors": ["no entry 'nope'."],
                                                          "status": 404}


@pytest.mark.parametrize("path", ["/entries/nope", "/entries/../../etc/passwd", "/entries/%2e%2e%2fsetup.cfg", "/api/entries/..%2F..%2Fetc%2Fpasswd"])
def test_unknown_ids_are_404_and_never_reach_files(client, path) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.get_data(as_text=True) and "[metadata]" not in response.get_data(as_text=True)


def test_hostile_entry_is_sanitised(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/entries/hostile").get_data(as_text=True).lower()
    # The site's own scripts only: app.js and suggest.js, each an empty element with a src.
    assert re.findall(r"<script[^>]*>[^<]*</script>", html) == ['<script src="/static/app.js"></script>',
                                                                 '<script src="/static/suggest.js"></script>']
    assert html.count("<script") == 2
    for bad in ("onerror", "onload", "onclick", "javascript:", "<svg", "<iframe"):
        assert bad not in html


def test_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/api/search?q=x", "/entries/nope"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_debug_is_off_by_default(small_index: Path) -> None:
    assert create_app({"INDEX_DIR": str(small_index)}).debug is False


def test_health(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/-/health").get_json()
    assert body["ok"] is True and body["documents"] == 9


def test_interface_in_english_and_back(client) -> None:  # type: ignore[no-untyped-def]
    zh = client.get("/search", query_string={"q": "赔偿"}).get_data(as_text=True)
    assert "排序" in zh and 'lang="zh-Hans"' in zh
    response = client.get("/-/lang/en?next=/search%3Fq%3D%E8%B5%94%E5%81%BF")
    assert response.status_code == 302 and response.headers["Location"].endswith("/search?q=%E8%B5%94%E5%81%BF")
    en = client.get("/search", query_string={"q": "赔偿"}).get_data(as_text=True)
    assert "Sort" in en and "Relevance" in en and "排序" not in en and 'lang="en"' in en
    assert client.get("/-/lang/en?next=https://evil.example").headers["Location"].endswith("/")
    client.get("/-/lang/zh")
    assert "排序" in client.get("/search", query_string={"q": "赔偿"}).get_data(as_text=True)


def test_translations_are_complete_and_compiled(capsys: pytest.CaptureFixture[str]) -> None:
    import runpy

    before = (ROOT / "webapp/translations/en/LC_MESSAGES/messages.po").read_bytes()
    build = runpy.run_path(str(ROOT / "webapp/translations/build.py"))  # `make translations`, in-process
    assert build["main"]() == 0, capsys.readouterr().err
    assert (ROOT / "webapp/translations/en/LC_MESSAGES/messages.po").read_bytes() == before, "run `make translations` and commit"
