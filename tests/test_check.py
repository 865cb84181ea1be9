"""`kb check` as editors run it: links, vocabularies, duplicates, exact messages and exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support import CHILD_ENV, KB_SCRIPT, ROOT, entry_text

DATA = {
    "_data/causes.yaml": "causes:\n  合同纠纷: {}\n  网络服务合同纠纷: {parent: 合同纠纷}\n  网络购物合同纠纷: {parent: 合同纠纷}\n",
    "_data/courts.yaml": "courts:\n  北京互联网法院: {level: 基层, code: 京0491}\n",
}


@pytest.fixture
def run_check(runner, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Return a function that runs `kb check ARGS ROOT` in-process from ROOT's parent, as an editor does."""

    def run(root: Path, *args: str):  # type: ignore[no-untyped-def]
        monkeypatch.chdir(root.parent)
        return runner("check", *args, str(root))

    return run


def test_clean_tree_exits_0(content_dir, run_check) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({**DATA, "rulings/a.md": entry_text(court="北京互联网法院", cause="网络服务合同纠纷")})
    result = run_check(root)
    assert (result.exit_code, result.stdout) == (0, "Checked 1 entries: no problems.\n")


def test_broken_link_unknown_cause_duplicate_case_number(content_dir, run_check) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({
        **DATA,
        "rulings/a.md": entry_text(title="甲案", case_number="（2019）京0491民初2547号", cause="网络服务合同纠份", body="见[[b-ruling]]和[[nope]]。"),
        "rulings/b-ruling.md": entry_text(title="乙案", case_number="(2019)京0491民初2547号", court="北京互联网法庭", related=["a", "ghost"]),
    })
    result = run_check(root)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "content/rulings/a.md:5: cause: '网络服务合同纠份' is not in content/_data/causes.yaml. Did you mean '网络服务合同纠纷'?",
        "content/rulings/a.md:7: link: [[nope]] names no entry. Check the entry id (the file name without .md, or its 'id:').",
        "content/rulings/b-ruling.md:4: case_number: （2019）京0491民初2547号 is also the case number of content/rulings/a.md. One ruling, one entry: merge them, or correct the number.",
        "content/rulings/b-ruling.md:5: court: '北京互联网法庭' is not in content/_data/courts.yaml. Did you mean '北京互联网法院'?",
        "content/rulings/b-ruling.md:6: related: 'ghost' names no entry. Check the entry id (the file name without .md, or its 'id:').",
        "Checked 2 entries: 5 problems in 2 files.",
    ]


def test_citation_that_does_not_resolve_and_alias_collision(content_dir, run_check) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({
        "statutes/law.md": entry_text(type_="statute", title="示例法", short_title="示例法", body="第一条 内容。"),
        "guidelines/g.md": entry_text(type_="guideline", title="指引", statutes=["《示例法》第一条", "《示例法》第九条"], aliases=["law"],
                                      body="依《未导入法》第三条。"),
    })
    result = run_check(root)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "content/guidelines/g.md:4: statutes: citation 《示例法》第九条 does not resolve. Check the article number; the imported statute has no 第九条.",
        "content/guidelines/g.md:7: aliases: 'law' is the id of content/statutes/law.md. Remove the alias; an alias must not shadow an existing entry.",
        "content/guidelines/g.md:10: statutes: citation 《未导入法》第三条 does not resolve. Import the statute: kb import lawrefbook ../shared/corpus/lawrefbook-laws content/statutes --only 未导入法",
        "Checked 2 entries: 3 problems in 1 file.",
    ]


def test_strict_and_usage_errors(content_dir, run_check, runner) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({"rulings/a.md": entry_text()})
    strict = run_check(root, "--strict")
    assert strict.exit_code == 1 and "summary: missing required field." in strict.stdout
    usage = runner("check", "--nope")
    assert usage.exit_code == 2
    missing = runner("check", "/no/such/folder")
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr


@pytest.mark.skipif(not KB_SCRIPT.exists(), reason="needs the kb script of an installed virtualenv")
def test_the_installed_kb_script_exits_0_1_or_2(content_dir) -> None:  # type: ignore[no-untyped-def]
    """The console script that pip writes, as a real process: its exit status is what make and pre-commit read."""
    root = content_dir({"rulings/a.md": entry_text()})

    def kb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KB_SCRIPT), *args], capture_output=True, text=True, cwd=root.parent, env=CHILD_ENV, timeout=120)

    clean = kb("check", "content")
    assert (clean.returncode, clean.stdout) == (0, "Checked 1 entries: no problems.\n")
    strict = kb("check", "--strict", "content")
    assert strict.returncode == 1 and strict.stdout.splitlines()[-1] == "Checked 1 entries: 2 problems in 1 file."
    usage = kb("check", "--nope")
    assert usage.returncode == 2 and "Error: No such option '--nope'." in usage.stderr


def test_kb_new_writes_a_template_that_checks_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for kind in ("ruling", "guideline", "statute"):
        result = runner("new", kind, f"新{kind}条目", "--content", "content")
        assert result.exit_code == 0, result.stderr
    made = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "content").rglob("*.md"))
    assert made == ["content/guidelines/新guideline条目.md", "content/rulings/新ruling条目.md", "content/statutes/新statute条目.md"]
    text = (tmp_path / made[1]).read_text(encoding="utf-8")
    assert "# case_number:  案号, e.g. （2019）京0491民初2547号 (optional)" in text
    check = runner("check", "content")
    assert check.exit_code == 0, check.stdout
    again = runner("new", "ruling", "新ruling条目", "--content", "content")
    assert again.exit_code == 1 and "already exists" in again.stderr
    by_number = runner("new", "ruling", "某案", "--case-number", "(2021)京0491民初1号", "--content", "content")
    assert by_number.stdout.strip() == "content/rulings/2021-jing0491-minchu-1.md"


def test_changed_files_are_checked_within_their_content_tree(content_dir, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                             runner) -> None:
    """What the pre-commit hook runs: only the named files are reported, but their links resolve."""
    root = content_dir({
        "statutes/law.md": entry_text(type_="statute", title="示例法", short_title="示例法", body="第一条 内容。"),
        "rulings/good.md": entry_text(title="好", statutes=["《示例法》第一条"], related=["other"], summary="摘要", sources=["https://example.org"]),
        "rulings/other.md": entry_text(title="别的", decided_on="2021-13-01"),
    })
    monkeypatch.chdir(root.parent)
    good = runner("check", "--strict", "--content", "content", "content/rulings/good.md")
    assert (good.exit_code, good.stdout) == (0, "Checked 1 entries: no problems.\n")
    other = runner("check", "--content", "content", "content/rulings/other.md")
    assert other.exit_code == 1
    assert other.stdout.splitlines()[0] == "content/rulings/other.md:4: decided_on: '2021-13-01' is not a date. Use YYYY-MM-DD, e.g. 2021-03-01."


def test_pre_commit_config_runs_kb_check() -> None:
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook = config["repos"][0]["hooks"][0]
    assert hook["entry"].endswith("kb check --strict --content content") and hook["files"].startswith("^content/")


def interpretation(title: str, version_on: str, articles: str, short: str | None = None) -> str:
    """Return a judicial interpretation's statute entry, as `kb import lawrefbook` writes one."""
    return entry_text(type_="statute", title=title, short_title=short or title, version_on=version_on, body=articles)


def test_judicial_interpretations_resolve_however_judgments_title_them(content_dir) -> None:  # type: ignore[no-untyped-def]
    from kb.links import StatuteResolver
    from kb.loader import load_all

    theft = "最高人民法院、最高人民检察院关于办理盗窃刑事案件适用法律若干问题的解释"
    root = content_dir({
        "statutes/theft.md": interpretation(theft, "2013-04-02", "第一条 盗窃公私财物价值一千元至三千元以上。"),
        "statutes/cpl-2012.md": interpretation("最高人民法院关于适用《中华人民共和国刑事诉讼法》的解释", "2012-12-20",
                                               "第一条 旧文。\n\n第一百五十五条 旧的附带民事诉讼范围。", short="最高人民法院关于适用《刑事诉讼法》的解释"),
        "statutes/cpl-2021.md": interpretation("最高人民法院关于适用《中华人民共和国刑事诉讼法》的解释", "2021-01-26",
                                               "第一条 新文。\n\n第一百五十五条 重新编号后的另一条。", short="最高人民法院关于适用《刑事诉讼法》的解释"),
        # One name, two issuers: left out of a citation, the issuer cannot be guessed.
        "statutes/spc.md": interpretation("最高人民法院关于审理某类案件的规定", "2010-01-01", "第一条 法院的规定。"),
        "statutes/spp.md": interpretation("最高人民检察院关于审理某类案件的规定", "2011-01-01", "第一条 检察院的规定。"),
    })
    entries = load_all([root]).entries
    resolver = StatuteResolver(entries)

    def resolve(text: str, on: str | None = None) -> str | None:
        return resolver.resolve(parse_citation(text), on)

    from kb.citations import parse_citation

    theft_id = next(e.id for e in entries if e.title == theft)
    for written in (f"《{theft}》第一条", "《关于办理盗窃刑事案件适用法律若干问题的解释》第一条",
                    "《最高人民法院最高人民检察院〈关于办理盗窃刑事案件适用法律若干问题的解释〉》第一条",
                    "《最高人民法院、最高人民检察院<关于办理盗窃刑事案件适用法律若干问题的解释>》第一条",
                    "《最高人民法院关于办理盗窃刑事案件适用法律若干问题的解释》第一条"):  # one of its issuers named
        assert resolve(written) == f"{theft_id}#第一条", written
    assert resolve("《最高人民法院、最高人民检察院关于办理盗窃刑事案件适用法律若十问题的解释》第一条") is None  # misspelt: not guessed
    assert resolve("《公安部关于办理盗窃刑事案件适用法律若干问题的解释》第一条") is None  # another issuer's
    # The version in force on the citing ruling's date; without a date, the newest.
    cpl = "《最高人民法院关于适用〈中华人民共和国刑事诉讼法〉的解释》第一百五十五条"
    assert resolve(cpl, "2018-04-11") == "cpl-2012#第一百五十五条"
    assert resolve(cpl, "2021-06-01") == resolve(cpl) == "cpl-2021#第一百五十五条"
    # A ruling older than every imported version: the version nearest its date, not the renumbered newest.
    assert resolve(cpl, "2010-03-01") == "cpl-2012#第一百五十五条"
    assert resolve("《关于审理某类案件的规定》第一条") is None
    assert resolve("《最高人民检察院关于审理某类案件的规定》第一条") == "spp#第一条"


def corpus_ruling(title: str, case_number: str, court: str, source: str, statutes: list[str]) -> str:
    """Return a ruling entry as `kb import lecard` writes one: a copy of a corpus file."""
    fields = {"statutes": statutes} if statutes else {}
    return entry_text(title=title, case_number=case_number, court=court, sources=[f"'corpus file: lecard-judgments/{source}'"],
                      body="## 全文\n\n本院认为……依照《最高人民法院关于适用财产刑若干问题的规定》第二条，判决如下：", **fields)


def test_corpus_copies_are_not_held_to_what_only_an_editor_can_fix(content_dir, run_check) -> None:  # type: ignore[no-untyped-def]
    """A court's own citations and numbers are not problems of its imported copy; an editor's are."""
    root = content_dir({
        # The same legacy number in two courts: two rulings.
        "rulings/a.md": entry_text(title="甲案", case_number="（2015）上刑初字第53号", court="河南省郑州市上街区人民法院"),
        "rulings/b.md": entry_text(title="乙案", case_number="（2015）上刑初字第53号", court="江西省上犹县人民法院"),
        # Two documents of one case in the corpus; a document the statute corpus lacks (its title there is misspelt).
        "rulings/c.md": corpus_ruling("丙案", "（2017）沪0106刑初1374号", "上海市静安区人民法院", "42841.json",
                                      ["《最高人民法院关于适用财产刑若干问题的规定》第二条"]),
        "rulings/d.md": corpus_ruling("丙案", "（2017）沪0106刑初1374号", "上海市静安区人民法院", "42842.json", []),
        # An editor's copy of the same ruling is still one ruling too many, and its citation must resolve.
        "rulings/e.md": entry_text(title="丙案", case_number="（2017）沪0106刑初1374号", court="上海市静安区人民法院",
                                   statutes=["《最高人民法院关于适用财产刑若干问题的规定》第二条"]),
    })
    result = run_check(root)
    assert result.stdout.splitlines() == [
        "content/rulings/e.md:4: case_number: （2017）沪0106刑初1374号 is also the case number of content/rulings/c.md. "
        "One ruling, one entry: merge them, or correct the number.",
        "content/rulings/e.md:6: statutes: citation 《最高人民法院关于适用财产刑若干问题的规定》第二条 does not resolve. "
        "Import the statute: kb import lawrefbook ../shared/corpus/lawrefbook-laws content/statutes --only 最高人民法院关于适用财产刑若干问题的规定",
        # Counted, so that nothing is dropped silently.
        "Not reported: 2 citations in 2 imported court documents do not resolve (the court's own words: "
        "a document the statute corpus lacks, or a title as the court wrote it).",
        "Checked 5 entries: 2 problems in 1 file.",
    ]
    assert result.exit_code == 1
