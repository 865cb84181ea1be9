"""A real `kb serve` on a free port, queried over HTTP."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

from tests.support import get_json


def test_server_answers_search_entries_and_errors(live_server: str) -> None:
    status, body, _ = get_json(live_server + "/api/search?q=" + urllib.parse.quote("刷单"))
    assert status == 200 and body["results"][0]["id"] == "bic-2021-shuadan-compensation-position"
    status, body, _ = get_json(live_server + "/api/entries/bic-2019-anshua-liuliang")
    assert status == 200 and body["entry"]["meta"]["case_number"] == "（2019）京0491民初2547号"
    status, body, _ = get_json(live_server + "/api/search?q=x&per_page=1000000000")
    assert status == 400 and body["ok"] is False and body["status"] == 400
    status, body, _ = get_json(live_server + "/-/health")
    assert status == 200 and body["documents"] > 50
    with urllib.request.urlopen(live_server + "/search?q=" + urllib.parse.quote("好评返现"), timeout=10) as response:
        html = response.read().decode()
    assert "好评返现" in html and "<mark" in html


def test_raw_utf8_in_the_url_like_curl(live_server: str) -> None:
    """`curl 'http://127.0.0.1:5000/api/search?q=刷单'` sends the UTF-8 bytes unquoted."""
    import socket

    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall("GET /api/search?q=刷单 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["query"] == "刷单"
    assert body["results"][0]["id"] == "bic-2021-shuadan-compensation-position"
