"""What editors meet (issue #15): one bad file never stops the site, and a file with a problem is
its last good version or absent, never half; `kb new`; progress; edit links and prev/next."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, entry_text

CAUSES = "causes:\n  合同纠纷: {}\n  网络购物合同纠纷: {parent: 合同纠纷}\n"
# The file of the issue: a published ruling with an impossible date and a 案由 outside causes.yaml.
HALF_BAD = entry_text(title="售假网店案", decided_on="2021-13-45", cause="网购假货纠纷", body="网店出售假冒商品。")
HALF_BAD_PROBLEMS = [
    "content/rulings/fake.md:4: decided_on: '2021-13-45' is not a date. Use YYYY-MM-DD, e.g. 2021-03-01.",
    "content/rulings/fake.md:5: cause: '网购假货纠纷' is not in content/_data/causes.yaml. Did you mean '网络购物合同纠纷'?",
]


@pytest.fixture
def mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A content tree of one good ruling and the half-bad one; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    content = tmp_path / "content"
    (content / "rulings").mkdir(parents=True)
    (content / "_data").mkdir()
    (content / "_data" / "causes.yaml").write_text(CAUSES, encoding="utf-8")
    (content / "rulings" / "good.md").write_text(
        entry_text(title="刷单炒信案", decided_on="2021-03-01", cause="网络购物合同纠纷", body="刷单炒信的合同无效。"), encoding="utf-8")
    (content / "rulings" / "fake.md").write_text(HALF_BAD, encoding="utf-8")
    return content


def test_kb_index_exits_1_prints_the_problems_and_indexes_the_good_entries(mixed: Path, runner) -> None:  # type: ignore[no-untyped-def]
    from indexer import SearchIndex

    result = runner("index", "--content", "content", "--index", "ix")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:-1] == [*HALF_BAD_PROBLEMS, "Skipped 1 of 2 files."]
    assert re.fullmatch(r"Indexed \(full\) 1 entries: 1 documents in \d+\.\d\d s\.", lines[-1]), lines[-1]
    index = SearchIndex(mixed.parent / "ix")
    assert [hit.id for hit in index.search("刷单炒信").results] == ["good"]
    assert index.search("假冒商品").total == 0
    assert index.get_entry("fake") is None  # absent, not indexed without its date
    page = index.search("合同")
    assert dict(page.facets["cause"]) == {"网络购物合同纠纷": 1}  # the unknown 案由 is no facet value


def test_kb_index_exits_1_on_a_link_problem_alone(mixed: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """Issue #13: `kb index` printed link problems and exited 0."""
    (mixed / "rulings" / "fake.md").write_text(entry_text(title="链接案", body="见[[ghost]]。"), encoding="utf-8")
    result = runner("index", "--content", "content", "--index", "ix")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "content/rulings/fake.md:5: link: [[ghost]] names no entry. Check the entry id (the file name without .md, or its 'id:').")


def test_kb_check_gives_the_same_messages(mixed: Path, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner("check", "content")
    assert (result.exit_code, result.stdout.splitlines()) == (1, [*HALF_BAD_PROBLEMS, "Checked 2 entries: 2 problems in 1 file."])


def test_preview_serves_the_last_good_version_of_a_file_broken_after_it(mixed: Path) -> None:
    """What `kb serve --watch` runs on each save (kb.cli.rebuild) and what /-/problems then says."""
    from kb.cli import build_and_record, rebuild
    from webapp import create_app

    fake = mixed / "rulings" / "fake.md"
    fake.write_text(entry_text(title="售假网店案", decided_on="2021-03-05", cause="网络购物合同纠纷", body="网店出售假冒商品。"),
                    encoding="utf-8")
    cache: dict = {}
    index_dir = mixed.parent / "preview"
    _report, problems = build_and_record([Path("content")], index_dir, drafts=True, cache=cache)
    assert problems == []
    fake.write_text(HALF_BAD, encoding="utf-8")
    rebuild([Path("content")], index_dir, True, cache)

    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "WATCH": True}).test_client()
    body = client.get("/-/problems.json").get_json()
    assert [p["text"] for p in body["problems"]] == HALF_BAD_PROBLEMS
    entry = client.get("/api/entries/fake").get_json()["entry"]
    assert (entry["meta"]["decided_on"], entry["meta"]["cause"]) == ("2021-03-05", "网络购物合同纠纷")  # whole, not half
    search = client.get("/api/search?q=假冒商品").get_json()
    assert [(hit["id"], hit["date"]) for hit in search["results"]] == [("fake", "2021-03-05")]
    causes = {facet["value"] for facet in search["facets"]["cause"]}
    assert causes == {"网络购物合同纠纷"}
    page = client.get("/-/problems").get_data(as_text=True)
    assert "出问题的文件仍按上一个正确版本提供" in page and "content/rulings/fake.md:4" in page

    fake.write_text(entry_text(title="售假网店案", decided_on="2021-03-06", cause="网络购物合同纠纷", body="网店出售假冒商品。"),
                    encoding="utf-8")
    rebuild([Path("content")], index_dir, True, cache)
    assert client.get("/-/problems.json").get_json()["problems"] == []
    assert client.get("/api/entries/fake").get_json()["entry"]["meta"]["decided_on"] == "2021-03-06"


# --- make run: the Makefile accepts `kb index`'s exit status 1 and stops on 2 -------------------------

def make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a Makefile target with this test run's virtualenv, never reinstalling it (-o marks it up to date)."""
    venv = Path(sys.prefix)
    return subprocess.run(["make", "--no-print-directory", "-o", f"{venv}/bin/kb", f"VENV={venv}", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.skipif(not (Path(sys.prefix) / "bin" / "kb").exists(), reason="needs the kb script of an installed virtualenv")
def test_make_index_goes_on_when_one_file_is_bad(mixed: Path) -> None:
    result = make("index", f"CONTENT={mixed}", f"INDEX={mixed.parent / 'ix'}")
    assert result.returncode == 0, result.stderr
    assert f"{mixed}/rulings/fake.md:4: decided_on: '2021-13-45' is not a date." in result.stdout
    from indexer import SearchIndex

    assert [hit.id for hit in SearchIndex(mixed.parent / "ix").search("刷单炒信").results] == ["good"]
    usage = make("index", f"CONTENT={mixed.parent / 'no-such-folder'}", f"INDEX={mixed.parent / 'ix'}")
    assert usage.returncode == 2
    assert "no such content folder" in usage.stderr


# --- kb new --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "name", "written"), [
    ("2021京0491民初1号", "2021-jing0491-minchu-1", "（2021）京0491民初1号"),
    ("(2021)京73知民终2496号", "2021-jing73-zhiminzhong-2496", "（2021）京73知民终2496号"),
    ("〔2020〕藏01行初3号", "2020-zang01-xingchu-3", "（2020）藏01行初3号"),
    ("（2007）民三终字第4号", "2007-minsanzhong-4", "（2007）民三终字第4号"),
])
def test_kb_new_names_a_ruling_after_its_normalised_case_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner,  # type: ignore[no-untyped-def]
                                                                typed: str, name: str, written: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner("new", "ruling", "某案", "--case-number", typed)
    assert (result.exit_code, result.stdout) == (0, f"content/rulings/{name}.md\n")
    text = (tmp_path / "content" / "rulings" / f"{name}.md").read_text(encoding="utf-8")
    assert f"\ncase_number: {written}  # 案号" in text and f"\nid: {name}  #" in text
    assert runner("check", "content").stdout == "Checked 1 entries: no problems.\n"


def test_kb_new_says_how_it_wrote_the_case_number_and_what_named_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                          runner) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner("new", "ruling", "某案", "--case-number", "2021京0491民初1号")
    assert first.stderr == "kb new: case number written as （2021）京0491民初1号 (was '2021京0491民初1号').\n"
    again = runner("new", "ruling", "另一个标题", "--case-number", "（2021）京0491民初1号")
    assert (again.exit_code, again.stderr) == (1, "kb new: content/rulings/2021-jing0491-minchu-1.md already exists. Its name comes from the case "
                                                  "number （2021）京0491民初1号: one ruling, one entry; edit that file.\n")
    assert runner("new", "guideline", "举证 指引").exit_code == 0
    title = runner("new", "guideline", "举证 指引")
    assert (title.exit_code, title.stderr) == (1, "kb new: content/guidelines/举证-指引.md already exists. Its name comes from the title "
                                                  "'举证 指引': choose another title, or edit that file.\n")
    bad = runner("new", "ruling", "某案", "--case-number", "京0491民初")
    assert bad.exit_code == 2
    assert ("Error: Invalid value for '--case-number': '京0491民初' is not a case number: it must start with the year in brackets, "
            "such as （2019）. Write it like （2019）京0491民初2547号.") in bad.stderr
    assert sorted(p.name for p in (tmp_path / "content").rglob("*.md")) == ["2021-jing0491-minchu-1.md", "举证-指引.md"]


def test_the_template_sources_list_fails_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert runner("new", "guideline", "指引").exit_code == 0
    path = tmp_path / "content" / "guidelines" / "指引.md"
    path.write_text(path.read_text(encoding="utf-8").replace("# summary:  ", "summary: 摘要。  #"), encoding="utf-8")
    result = runner("check", "--strict", "content")
    assert (result.exit_code, result.stdout.splitlines()) == (1, [
        "content/guidelines/指引.md:9: sources: is an empty list. List at least one below it, as '- ...' (list of URLs the facts come from).",
        "Checked 1 entries: 1 problem in 1 file.",
    ])
    assert runner("check", "content").exit_code == 0  # an empty list is fine until --strict


def test_a_link_to_a_heading_the_target_lacks_is_flagged(content_dir, monkeypatch: pytest.MonkeyPatch, runner) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({
        "guidelines/guide.md": entry_text(type_="guideline", title="举证指引", body="## 适用范围\n\n文字。\n\n## 举证 清单\n\n1. 截图"),
        "statutes/law.md": entry_text(type_="statute", title="示例法", short_title="示例法", body="## 第一章 总则\n\n第一条 内容。"),
        "rulings/a.md": entry_text(title="甲案", body="见[[guide#第九十九条]]。\n\n又见[[guide#举证-清单]]、[[law#第一条]]和[[law#第二条]]。"),
    })
    monkeypatch.chdir(root.parent)
    result = runner("check", "content")
    assert (result.exit_code, result.stdout.splitlines()) == (1, [
        "content/rulings/a.md:5: link: [[guide#第九十九条]]: guide has no heading 第九十九条. Link to one of its headings (举证-清单, 适用范围), "
        "or to the entry without '#'.",
        "content/rulings/a.md:7: link: [[law#第二条]]: law has no 第二条. Check the article number.",
        "Checked 3 entries: 2 problems in 1 file.",
    ])


# --- progress: bars on a terminal, one summary line otherwise --------------------------------------------

LAW = ("# 中华人民共和国示例法\n\n2020年1月1日 通过\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n"
       "第一条 为了示例，制定本法。\n\n第二条 本法所称示例。\n")


def ruling_tree(root: Path, n: int) -> Path:
    for i in range(n):
        (root / "rulings").mkdir(parents=True, exist_ok=True)
        (root / "rulings" / f"r{i}.md").write_text(entry_text(title=f"条目{i}", body=f"正文{i}。"), encoding="utf-8")
    return root


def test_kb_index_and_import_print_one_summary_line_when_not_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                           runner) -> None:
    monkeypatch.chdir(tmp_path)
    ruling_tree(tmp_path / "content", 3)
    index = runner("index", "--content", "content", "--index", "ix")
    assert (index.exit_code, index.stderr) == (0, "")
    assert re.fullmatch(r"Indexed \(full\) 3 entries: 3 documents in \d+\.\d\d s\.\n", index.stdout), index.stdout
    (tmp_path / "corpus" / "民法商法").mkdir(parents=True)
    (tmp_path / "corpus" / "民法商法" / "示例法(2020-01-01).md").write_text(LAW, encoding="utf-8")
    imported = runner("import", "lawrefbook", "corpus", "statutes")
    assert (imported.exit_code, imported.stderr) == (0, "")
    assert re.fullmatch(r"Converted 1 files, rejected 0, in \d+\.\d s\.\n", imported.stdout), imported.stdout


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``kb ARGS`` with stderr on a pseudo-terminal; return its status, stdout and what the terminal showed."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.stdout is not None
    with proc.stdout:
        stdout = proc.stdout.read().decode()
    return proc.wait(timeout=60), stdout, shown.decode()


def test_kb_index_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    ruling_tree(tmp_path / "content", 40)
    status, stdout, shown = run_on_a_terminal(["index", "--content", "content", "--index", "ix"], tmp_path)
    assert status == 0
    assert re.fullmatch(r"Indexed \(full\) 40 entries: 40 documents in \d+\.\d\d s\.\n", stdout)  # the summary stays on stdout
    final = [line for line in re.split(r"[\r\n]+", shown) if "100%" in line]
    assert re.fullmatch(r"files read: 100%\|█+\| 40/40 \[\d\d:\d\d<00:00, +[\d.]+ file/s\]", final[0]), shown
    assert re.fullmatch(r"documents written: 100%\|█+\| 40/40 \[\d\d:\d\d<00:00, +[\d.]+ document/s\]", final[-1]), shown
    assert "<?" in shown  # before the first file, tqdm shows the time left as unknown; then it estimates it


# --- make run installs only what running needs ---------------------------------------------------------

def test_make_run_installs_the_package_and_make_test_the_test_extras(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # absent, so that make shows the whole install (-n: shown, not run)
    run = subprocess.run(["make", "-n", "run", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert f"{venv}/bin/pip install -q -e .\n" in run.stdout
    assert "[test]" not in run.stdout
    test = subprocess.run(["make", "-n", "test", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert f"{venv}/bin/pip install -q -e '.[test]'\n" in test.stdout


# --- "edit this file" and previous/next on entry pages ----------------------------------------------------

@pytest.fixture
def nav_index(content_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four rulings (two dated, two not) and a guideline, indexed from tmp_path as `make run` does from the repo."""
    content_dir({
        "rulings/old.md": entry_text(title="旧案", decided_on="2019-05-01"),
        "rulings/new.md": entry_text(title="新案", decided_on="2021-05-01"),
        "rulings/b-undated.md": entry_text(title="无日期乙"),
        "rulings/a-undated.md": entry_text(title='无日期甲<script>alert("x")</script>'),
        "guidelines/g.md": entry_text(type_="guideline", title="指引", issued_on="2020-01-01"),
    })
    monkeypatch.chdir(tmp_path)
    from indexer import build_index

    build_index([Path("content")], tmp_path / "ix", clean=True)
    return tmp_path / "ix"


def nav_client(index_dir: Path, **config: object):  # type: ignore[no-untyped-def]
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir), **config}).test_client()


def test_previous_and_next_follow_the_listing_order_within_a_type(nav_index: Path) -> None:
    client = nav_client(nav_index)
    chain, entry_id = [], "new"
    while entry_id:
        chain.append(entry_id)
        nxt = client.get(f"/api/entries/{entry_id}").get_json()["entry"]["next"]
        entry_id = nxt["id"] if nxt else None
    assert chain == ["new", "old", "a-undated", "b-undated"]  # newest first, undated last, then by id
    first = client.get("/api/entries/new").get_json()["entry"]
    assert (first["previous"], first["next"]["url"]) == (None, "/entries/old")
    guideline = client.get("/api/entries/g").get_json()["entry"]
    assert (guideline["previous"], guideline["next"]) == (None, None)  # the only guideline: no ruling as a neighbour

    page = client.get("/entries/old").get_data(as_text=True)
    assert '<a class="pager-prev" rel="prev" href="/entries/new">← 新案</a>' in page
    assert ('<a class="pager-next" rel="next" href="/entries/a-undated">无日期甲&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; →</a>'
            in page)
    assert '<script>alert("x")</script>' not in page
    assert "pager-prev" not in client.get("/entries/new").get_data(as_text=True)


def test_previous_and_next_after_an_incremental_update(nav_index: Path) -> None:
    """An update adds a segment: the order spans segments (Whoosh's multi-segment column reader fails there)."""
    from indexer import build_index

    client = nav_client(nav_index)
    assert client.get("/api/entries/old").get_json()["entry"]["previous"]["id"] == "new"
    Path("content/rulings/mid.md").write_text(entry_text(title="中间案", decided_on="2020-05-01"), encoding="utf-8")
    assert build_index([Path("content")], nav_index).mode == "incremental"
    entry = client.get("/api/entries/mid").get_json()["entry"]
    assert (entry["previous"]["id"], entry["next"]["id"]) == ("new", "old")
    assert client.get("/api/entries/old").get_json()["entry"]["previous"]["id"] == "mid"


def test_edit_link_from_the_setting_and_the_file_path_in_the_preview(nav_index: Path) -> None:
    public = nav_client(nav_index).get("/entries/old").get_data(as_text=True)
    assert "edit-link" not in public  # no setting, no preview: nothing to offer

    edit = nav_client(nav_index, EDIT_URL="https://git.example.org/kb/edit/main/").get("/entries/old").get_data(as_text=True)
    assert ('<p class="edit-link"><a href="https://git.example.org/kb/edit/main/content/rulings/old.md" rel="nofollow noopener">'
            "编辑此文件</a></p>") in edit
    body = nav_client(nav_index, EDIT_URL="https://git.example.org/kb/edit/main").get("/api/entries/old").get_json()["entry"]
    assert (body["path"], body["edit_url"]) == ("content/rulings/old.md", "https://git.example.org/kb/edit/main/content/rulings/old.md")

    preview = nav_client(nav_index, WATCH=True).get("/entries/old").get_data(as_text=True)
    assert '<p class="edit-link">源文件：<code>content/rulings/old.md</code></p>' in preview


def test_edit_link_quotes_the_path(content_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    content_dir({'rulings/a "q"<b>.md': entry_text(title="怪名", id="odd")})
    monkeypatch.chdir(tmp_path)
    from indexer import build_index

    build_index([Path("content")], tmp_path / "ix", clean=True)
    page = nav_client(tmp_path / "ix", EDIT_URL="https://x.example/edit").get("/entries/odd").get_data(as_text=True)
    assert 'href="https://x.example/edit/content/rulings/a%20%22q%22%3Cb%3E.md"' in page
    preview = nav_client(tmp_path / "ix", WATCH=True).get("/entries/odd").get_data(as_text=True)
    assert "<code>content/rulings/a &#34;q&#34;&lt;b&gt;.md</code>" in preview
