"""What editors meet (issue #15): one bad file never stops the site, and a file with a problem is
its last good version or absent, never half; `kb new`; progress; edit links and prev/next."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, entry_text

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
