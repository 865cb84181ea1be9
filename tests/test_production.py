"""Production serving (issue #14): nginx in front of gunicorn, as `make prod` runs them, on loopback.

nginx runs as the current user with its config, pid, logs and temp files in tmp_path, in the
foreground. Every request goes to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import PROD, Figures, error_body, free_port, request, running

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian's nginx is not installed: run `make deps`.")
SEARCH_QUERIES = ["刷单", "网络购物 合同", "个人信息", "直播 打赏", "平台责任", "电子商务法 第十七条", "虚假宣传", "著作权 侵权"]


@pytest.fixture(scope="module")
def prod(content_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn (2 workers, deploy/gunicorn.conf.py) behind nginx (deploy/nginx.conf.template), with the commands of
    deploy/prod.py (`make prod`); yield nginx's host:port."""
    prefix = tmp_path_factory.mktemp("nginx")
    upstream = f"127.0.0.1:{free_port()}"
    listen = f"127.0.0.1:{free_port()}"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert PROD.main(["render", "--listen", listen, "--upstream", upstream, "--prefix", str(prefix)]) == 0
    config = Path(printed.getvalue().strip())
    # gunicorn's output is not read: under the floods below its log would fill a pipe.
    with running(PROD.gunicorn_command(upstream, 2), f"http://{upstream}/-/health", env={"KB_INDEX_DIR": str(content_index)},
                 stdout=subprocess.DEVNULL), running(PROD.nginx_command(config), f"http://{listen}/-/health"):
        yield listen


def raw_exchange(hostport: str, data: bytes, timeout: float = 15.0) -> bytes:
    """Send ``data`` on a new connection and return everything the server answers until it closes."""
    host, port = hostport.split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received:
                head, _, body = received.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        fields[name.lower()] = value
    return int(lines[0].split()[1]), fields, body


OVERSIZED = {
    "body over 2 MB": (413, b"POST /api/similar HTTP/1.1\r\nHost: kb\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 1073741824\r\nConnection: close\r\n\r\n" + b"{" * 65536,
                       "the request body is too large (the limit is 2 MB)."),
    "request line over 16 KB": (414, b"GET /api/search?q=" + b"%E5%88%B7" * 2000 + b" HTTP/1.1\r\nHost: kb\r\nConnection: close\r\n\r\n",
                                "the request line is too long."),
    "header over 16 KB": (431, b"GET /api/search?q=x HTTP/1.1\r\nHost: kb\r\nX-Big: " + b"a" * 20000 + b"\r\nConnection: close\r\n\r\n",
                          "the request headers are too large."),
}


@pytest.mark.parametrize("name", sorted(OVERSIZED))
def test_nginx_refuses_oversized_requests_in_our_shape(prod: str, name: str) -> None:
    status, data, message = OVERSIZED[name]
    got, headers, body = parse_response(raw_exchange(prod, data))
    assert (got, json.loads(body)) == (status, error_body(status, message))
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff" and "server" in headers and headers["server"] == "nginx"


def test_nginx_passes_a_1000_character_chinese_query(prod: str) -> None:
    query = ("网络购物合同纠纷刷单炒信平台责任" * 63)[:1000]
    status, headers, body = request(prod, "GET", "/api/search?q=" + urllib.parse.quote(query))
    assert status == 200 and json.loads(body)["ok"] is True
    assert headers["Content-Security-Policy"].count("script-src") == 1  # the app's headers, not doubled


def test_nginx_limits_the_api_rate_per_client(prod: str) -> None:
    """4 connections send 50 requests each as fast as they can: past 20/s (bursts of 40) nginx answers 429."""
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(50):  # bounded
            status, _, body = request(prod, "GET", "/api/suggest?q=%E5%88%B7")
            with lock:
                statuses.append(status)
                if status == 429:
                    bodies.append(json.loads(body))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 200 and set(statuses) == {200, 429}
    assert statuses.count(200) >= 41  # the burst is let through
    assert bodies[0] == error_body(429, "too many requests: at most 20 a second. Wait a moment and try again.")
    time.sleep(3)  # let the bucket drain for the next test
    assert request(prod, "GET", "/-/health")[0] == 200  # pages and system URLs are not rate-limited


@pytest.mark.slow
def test_slow_clients_and_oversized_flood_leave_searches_answered(prod: str, figures: Figures) -> None:
    """32 clients send a header byte every 2 s, a flood of oversized requests runs; ordinary searches all succeed.

    Without nginx, two such slow clients stopped a 2-worker gunicorn (issue #14, finding 1).
    """
    duration = 30.0
    host, port = prod.split(":")
    stop_event = threading.Event()
    slow_bytes = [0]
    lock = threading.Lock()

    def slow_client() -> None:
        line = b"GET /api/search?q=%E5%88%B7%E5%8D%95 HTTP/1.1\r\nHost: kb\r\nUser-Agent: slow\r\n"
        deadline = time.monotonic() + duration + 5
        while not stop_event.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection((host, int(port)), timeout=5) as sock:
                    for i in range(len(line)):  # one byte every 2 s, until nginx closes the connection
                        if stop_event.wait(2.0) or time.monotonic() > deadline:
                            return
                        sock.sendall(line[i:i + 1])
                        with lock:
                            slow_bytes[0] += 1
            except OSError:
                time.sleep(0.5)  # closed by nginx's client_header_timeout: come back, as an attacker would

    flood_results: dict[int, int] = {}

    def flooder(seed: int) -> None:
        names = sorted(OVERSIZED)
        for n in range(60):  # bounded: 60 requests per flooder
            if stop_event.is_set():
                return
            status, data, _ = OVERSIZED[names[(n + seed) % len(names)]]
            try:
                got = parse_response(raw_exchange(prod, data, timeout=10))[0]
            except (OSError, ValueError, IndexError):
                got = -1
            with lock:
                flood_results[got] = flood_results.get(got, 0) + 1
            time.sleep(0.2)

    latencies: list[float] = []
    failures: list[str] = []

    def searcher(seed: int) -> None:
        deadline = time.monotonic() + duration
        n = seed
        while time.monotonic() < deadline:
            query = SEARCH_QUERIES[n % len(SEARCH_QUERIES)]
            n += 1
            started = time.perf_counter()
            try:
                status, _, body = request(prod, "GET", "/api/search?q=" + urllib.parse.quote(query))
                ok = status == 200 and json.loads(body)["ok"] is True
            except Exception as exc:  # noqa: BLE001 - every failure counts
                ok, status = False, repr(exc)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    failures.append(f"{query}: {status}")
            time.sleep(0.25)

    slow = [threading.Thread(target=slow_client, daemon=True) for _ in range(32)]
    floods = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(3)]
    searchers = [threading.Thread(target=searcher, args=(i,), daemon=True) for i in range(2)]
    for thread in slow:
        thread.start()
    time.sleep(3)  # the slow clients are connected and trickling
    for thread in floods + searchers:
        thread.start()
    for thread in searchers:
        thread.join(timeout=duration + 30)
    stop_event.set()
    for thread in floods + slow:
        thread.join(timeout=30)

    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("inf")
    figures.add("searches under 32 slow clients + oversized flood (nginx + gunicorn)", len(latencies))
    figures.add("failed searches under 32 slow clients + oversized flood", len(failures))
    figures.add("search p95 ms under 32 slow clients + oversized flood", round(p95 * 1000))
    figures.add("oversized requests refused by nginx (413/414/431)", sum(v for k, v in flood_results.items() if k in (413, 414, 431)))
    figures.add("slow-client header bytes trickled (1 every 2 s)", slow_bytes[0])
    print(f"\nsearches={len(latencies)} failures={len(failures)} p95={p95 * 1000:.0f} ms flood={flood_results} "
          f"slow bytes={slow_bytes[0]}")
    assert failures == [], failures[:10]
    assert len(latencies) >= 40  # enough searches for a p95 (no timed assertion: the figure is printed)
    assert set(flood_results) <= {413, 414, 431} and sum(flood_results.values()) == 180, flood_results
    assert slow_bytes[0] >= 32 * 10
