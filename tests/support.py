"""What the tests share, in one place: paths, content trees, `kb` run in-process, real servers, HTTP.

Fixtures live in conftest.py and are built from these helpers; a test module imports helpers from
here, never from another test module. Nothing here loads jieba: the analyzer loads its
dictionaries on first use, so only the tests that segment text (index, search, serve) pay for it.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
CORPUS = Path(os.environ.get("KB_CORPUS") or ROOT.parent / "shared" / "corpus" / "lawrefbook-laws")
LECARD = Path(os.environ.get("KB_LECARD") or ROOT.parent / "shared" / "corpus" / "lecard-judgments")
# The judge's flow runs over the real judgments of two traffic charges: 643 of LeCaRD's 9,088, from
# 445 courts and 2009-2020, so a charge finds many, a court and a year narrow them, and similar
# has to tell a drunk-driving case from a fatal accident (conftest.py: judgments_dir).
JUDGE_CHARGES = ("危险驾驶罪", "交通肇事罪")
TESTS = ROOT / "tests"
# `kb` as a real process, for the tests that are about a process: servers, signals, locks, terminals.
KB = [sys.executable, "-m", "kb.cli"]
# The console script that `pip install` writes, for the tests of its exit status.
KB_SCRIPT = Path(sys.prefix) / "bin" / "kb"
# Children of the tests import this tree's packages, whichever folder they start in.
CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


# --- content trees -----------------------------------------------------------------------------

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


def good_entries(n: int = 12) -> dict[str, str]:
    """Return ``n`` good entries of every type, each with its own marker word (好词N) in the body."""
    files = {}
    for i in range(n):
        kind = ("ruling", "guideline", "statute")[i % 3]
        folder = {"ruling": "rulings", "guideline": "guidelines", "statute": "statutes"}[kind]
        body = f"第一条 标记词好词{i}出现在这里。" if kind == "statute" else f"本条目的标记词是好词{i}，用于检验索引。"
        files[f"{folder}/good-{i}.md"] = entry_text(type_=kind, title=f"完好的条目{i}", body=body)
    return files


def build_tree(base: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` into base/content, build a real index of them (clean) into base/ix; return base/ix.

    Fails on any problem: a tree that is meant to have problems is built by the test itself.
    """
    from indexer import build_index

    report = build_index([write_tree(base / "content", files)], base / "ix", clean=True)
    assert report.problems == [], "\n".join(map(str, report.problems))
    return base / "ix"


def every_bad_file_tree(base: Path, good: dict[str, str | bytes]) -> Path:
    """Write base/content: the ``good`` files among every file of the bad corpus (tests/corpus/bad), a
    50 MB entry (huge.md) and a link (link_outside.md) to base/outside.md; return base/content."""
    root = write_tree(base / "content", good)
    for path in BAD.iterdir():
        (root / path.name).write_bytes(path.read_bytes())
    with (root / "huge.md").open("wb") as handle:
        handle.write(entry_text(title="五十兆").encode())
        handle.write(b"x" * (50 * 1024 * 1024))
    outside = base / "outside.md"
    outside.write_text(entry_text(title="外面的文件"), encoding="utf-8")
    os.symlink(outside, root / "link_outside.md")
    return root


# A small fixed corpus: three rulings, a guideline and a statute of two articles.
SMALL_TREE = {
    "rulings/shuadan.md": entry_text(
        title="暗刷流量合同无效案", court="北京互联网法院", case_number="（2019）京0491民初2547号",
        decided_on="2019-05-23", cause="网络服务合同纠纷", procedure="一审", tags=["刷单", "公序良俗"],
        body="双方约定以技术手段制造虚假点击。法院认为该合同违背公序良俗，依《民法典》第一百五十三条认定无效。"),
    "rulings/haoping.md": entry_text(
        title="好评返现构成欺诈案", court="北京互联网法院", decided_on="2021-11", cause="网络购物合同纠纷",
        procedure="一审", tags=["好评返现"],
        body="商家以返现诱导好评，消费者据《消费者权益保护法》第五十五条请求三倍赔偿。网络购物中举证责任如何分配？"),
    "rulings/appeal.md": entry_text(
        title="外卖配送费二审案", court="北京市第四中级人民法院", case_number="（2021）京04民终407号",
        decided_on="2021-09-02", cause="网络服务合同纠纷", procedure="二审", body="配送费差额一元。"),
    "guidelines/proof.md": entry_text(
        type_="guideline", title="网络购物纠纷举证指引", tags=["举证"], title_en="Burden of proof in online shopping",
        summary_en="What each side must prove in an online shopping dispute.",
        body="消费者应当证明买卖合同关系成立。第5条的证据应当完整。"),
    "statutes/xiaobao.md": entry_text(
        type_="statute", title="中华人民共和国消费者权益保护法", short_title="消费者权益保护法",
        body="## 第七章 法律责任\n\n第五十五条 经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失，增加赔偿的金额为消费者购买商品的价款或者接受服务的费用的三倍。\n\n第五十六条 其他规定。"),
}

# Hostile HTML and Markdown, each of which must reach no browser as markup.
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img_onerror": '<img src=x onerror="alert(1)">',
    "javascript_link": "[click](javascript:alert(1))",
    "javascript_html_link": '<a href="javascript:alert(1)">x</a>',
    "svg": '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    "svg_use": '<svg><use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"/></svg>',
    "iframe": '<iframe src="https://example.com"></iframe>',
    "style": "<style>body{display:none}</style>",
    "event_on_p": '<p onclick="alert(1)">x</p>',
    "data_url": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "object": '<object data="x.swf"></object>',
    "form": '<form action="https://evil"><input name=a></form>',
    "meta_refresh": '<meta http-equiv="refresh" content="0;url=https://evil">',
    "wiki_link_script": "[[<script>alert(1)</script>]]",
    "entity_js": '<a href="&#106;avascript:alert(1)">x</a>',
}

# The edge-case corpus: one file per way an editor's file can go wrong.
BAD = TESTS / "corpus" / "bad"

# file name -> (does it still parse, so that links to it resolve?, exact messages); a file with a
# message is never indexed (test_loader.test_a_file_with_a_problem_is_not_indexed_half).
EXPECTED: dict[str, tuple[bool, list[str]]] = {
    "unclosed_front_matter.md": (False, ["unclosed_front_matter.md:1: front matter: no closing '---'. Add a line '---' after the last field."]),
    "empty_front_matter.md": (False, ["empty_front_matter.md:1: front matter: is empty. Add at least 'type: ...' and 'title: ...' between the '---' lines."]),
    "yaml_syntax_error.md": (False, ["yaml_syntax_error.md:3: front matter: YAML syntax error: a quoted value is not closed. Add the closing quote on that line."]),
    "tabs_in_yaml.md": (False, ["tabs_in_yaml.md:5: front matter: YAML syntax error: found character '\\t' that cannot start any token. YAML does not allow tabs for indentation; use spaces."]),
    "duplicate_keys.md": (False, ["duplicate_keys.md:4: title: appears twice (first on line 3). Keep one of them."]),
    "octal_like.md": (True, ["octal_like.md:4: case_number: '0123' is not a case number: the year must be in brackets. Write it like （2019）京0491民初2547号."]),
    "month_13.md": (True, ["month_13.md:4: decided_on: '2021-13-01' is not a date. Use YYYY-MM-DD, e.g. 2021-03-01."]),
    "yaml_no.md": (True, ["yaml_no.md:4: status: 'no' is not allowed. Use one of: published, draft."]),
    "bom.md": (True, []),
    "utf16.md": (False, ["utf16.md:1: file: is UTF-16, not UTF-8. Save it as UTF-8."]),
    "latin1.md": (False, ["latin1.md:3: file: is not valid UTF-8 (byte 0xe9 at offset 27). Save it as UTF-8."]),
    "binary.md": (False, ["binary.md:1: file: is binary, not text. Remove it from the content folder, or save it as UTF-8 Markdown."]),
    "empty.md": (False, ["empty.md:1: file: is empty. Start it with a front matter block: '---', 'type: ...', 'title: ...', '---'."]),
    "id_path_traversal.md": (False, ["id_path_traversal.md:4: id: '../../etc/passwd' is not a valid id. Use letters, digits, Chinese characters, '-', '_' and '.', with no '/' or '..', e.g. bic-2019-anshua-liuliang."]),
    "missing_title.md": (False, ["missing_title.md:1: title: missing required field. Add 'title: ...' (Chinese title)."]),
    "unknown_field.md": (True, ["unknown_field.md:4: tag: unknown field. Did you mean 'tags'?"]),
    "bad_case_number.md": (True, ["bad_case_number.md:4: case_number: '2021京0491民初1号' is not a case number: the year must be in brackets. Write it as （2021）京0491民初1号."]),
    "unknown_type.md": (False, ["unknown_type.md:2: type: 'judgment' is not allowed. Use one of: ruling, guideline, statute."]),
    "field_of_other_type.md": (True, ["field_of_other_type.md:4: court: is not a field of a statute. It belongs to: ruling. Remove it."]),
    "not_a_mapping.md": (False, ["not_a_mapping.md:2: front matter: is not a list of 'field: value' lines. Write one 'field: value' per line, e.g. 'title: ...'."]),
    "no_front_matter.md": (False, ["no_front_matter.md:1: front matter: is missing: the file does not start with '---'. Add a front matter block at the top: '---', 'type: ...', 'title: ...', '---'."]),
    "confusable_id.md": (False, ["confusable_id.md:4: id: 'alibaba-v-ji\u0430nshi-shuadan' is not a valid id: '\u0430' is U+0430 CYRILLIC SMALL LETTER A, "
                                 "not a Latin letter. Use ASCII letters and digits, Chinese characters, '-', '_' and '.'; retype the id on an English keyboard."]),
    "刷单 案（副本）、草稿.md": (True, []),
    "duplicate_id_a.md": (True, []),
    "duplicate_id_b.md": (True, []),
}


# --- `kb` in-process -----------------------------------------------------------------------------

def run_kb(*args: str, **options: Any):  # type: ignore[no-untyped-def]
    """Run ``kb ARGS`` in-process with click's CliRunner (flaskr's runner); return its Result.

    stdout and stderr are kept apart (``result.stdout``, ``result.stderr``); an exception that is
    not a SystemExit propagates, traceback and all. ``options`` go to ``CliRunner.invoke`` (env, input).
    """
    from click.testing import CliRunner

    from kb.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False, **options)


# --- real servers --------------------------------------------------------------------------------

def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
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


@contextlib.contextmanager
def running(command: list[str], health: str, env: dict[str, str] | None = None,
            stdout: int = subprocess.PIPE) -> Iterator[subprocess.Popen]:
    """Run a server ``command`` from the repository while the block runs, once ``health`` answers 200."""
    proc = subprocess.Popen(command, cwd=ROOT, env={**CHILD_ENV, **(env or {})}, stdout=stdout,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(health, proc=proc)
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def serving(index_dir: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `kb serve --index INDEX_DIR OPTIONS` on a free port while the block runs; yield its base URL."""
    base = f"http://127.0.0.1:{free_port()}"
    command = [*KB, "serve", "--port", base.rsplit(":", 1)[1], "--index", str(index_dir), *options]
    with running(command, base + "/-/health", env):
        yield base


def load_prod() -> ModuleType:
    """Return deploy/prod.py (a script, not a package) as a module: the commands `make prod` runs."""
    spec = importlib.util.spec_from_file_location("deploy_prod", ROOT / "deploy" / "prod.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROD = load_prod()


def start_gunicorn(index_dir: Path) -> tuple[subprocess.Popen, str]:
    """Start gunicorn as `make prod` does (deploy/gunicorn.conf.py), 2 workers over ``index_dir`` on a free port; return it and host:port."""
    hostport = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(PROD.gunicorn_command(hostport, 2), cwd=ROOT, env={**CHILD_ENV, "KB_INDEX_DIR": str(index_dir)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, hostport


@contextlib.contextmanager
def gunicorn_serving(index_dir: Path) -> Iterator[str]:
    """Run gunicorn as `make prod` does over ``index_dir`` while the block runs, once it answers; yield host:port."""
    proc, hostport = start_gunicorn(index_dir)
    try:
        wait_for(f"http://{hostport}/-/health", proc=proc)
        yield hostport
    finally:
        stop(proc)


# --- HTTP ------------------------------------------------------------------------------------------

def request(hostport: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send one request to the server on loopback; return status, headers and body."""
    host, port = hostport.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def get_json(url: str) -> tuple[int, dict, dict[str, str]]:
    """GET ``url``; return (status, JSON body, headers), for error statuses too ({} for a body that is no JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else {}, dict(exc.headers)


def error_body(status: int, message: str) -> dict:
    """Return the one JSON error shape of the API."""
    return {"ok": False, "error": message, "errors": [message], "status": status}


# --- figures the tests report ----------------------------------------------------------------------

class Figures:
    """Counts the tests report (payloads tried, builds killed ...), printed at the end of the run."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the figure ``name``."""
        self.counts[name] += n

    def pytest_terminal_summary(self, terminalreporter) -> None:  # type: ignore[no-untyped-def]
        """Print the figures after the test summary."""
        if self.counts:
            terminalreporter.section("reliability figures")
            for name in sorted(self.counts):
                terminalreporter.write_line(f"{name}: {self.counts[name]}")


# --- Chromium and PDFs -----------------------------------------------------------------------------

def chromium_path() -> str | None:
    """Return Debian's chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Debian's chromium as root on this machine: no sandbox, and no background networking (its
# connections would be refused by the closed network).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def new_page(browser, timeout: float | None = None, **options):  # type: ignore[no-untyped-def]
    """Open a page in a new browser context; ``page.errors`` collects script errors, ``page.failed`` 4xx/5xx answers."""
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    if timeout is not None:
        page.set_default_timeout(timeout)
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.errors = errors
    page.failed = failed
    return context, page


def pdf_text(path: Path, *options: str) -> str:
    """Return the text of a PDF as pdftotext reads it (``options``: e.g. -layout)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is not installed: run `make deps` (apt-get install poppler-utils).")
    result = subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                            timeout=30, check=True)
    return result.stdout
