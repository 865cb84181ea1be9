"""Tests for the LeCaRD judgments importer (kb.importers.lecard) on real judgments of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.importers.lecard import charges_in, convert_judgment, decided_on, iter_judgments
from kb.loader import load_all
from tests.support import CORPUS as STATUTE_CORPUS
from tests.support import JUDGE_CHARGES, LECARD, run_kb

CORPUS = LECARD
needs_corpus = pytest.mark.skipif(not (CORPUS / "judgments.tar.xz").is_file(),
                                  reason=f"lecard-judgments corpus not found at {CORPUS} (set KB_LECARD)")

# id -> the fields derived from that judgment (read by hand from its full text).
EXPECTED = {
    "1000": dict(title="王义新非法狩猎罪一案", court="湖北省应城市人民法院", case_number="（2018）鄂0981刑初183号",
                 decided_on="2018-09-21", procedure="一审", charges=["非法狩猎罪"],
                 statutes=["《刑法》第三百四十一条第二款"]),
    # Guizhou: court code 黔.
    "29820": dict(title="被告人罗俊荣等四人故意毁坏财物一案", court="贵州省纳雍县人民法院", case_number="（2018）黔0525刑初1号",
                  decided_on="2018-02-11", procedure="一审", charges=["故意毁坏财物罪"]),
    # 第十七条之一 (an inserted article) stays itself.
    "15056": dict(court="重庆市江津区人民法院", case_number="（2019）渝0116刑初273号", decided_on="2019-05-15",
                  procedure="一审", charges=["贩卖毒品罪"]),
    # Two charges, one of them written with 、 inside; 第二百六十二条之二.
    "34376": dict(charges=["组织XXX人进行违反治安管理活动罪", "非法持有枪支罪"], decided_on="2017-12-04",
                  statutes=["《刑法》第二百六十二条之二", "《刑法》第一百二十八条第一款", "《刑法》第六十五条",
                            "《刑法》第六十九条", "《刑法》第六十七条第三款", "《刑法》第六十四条"]),
    "40514": dict(court="北京市高级人民法院", case_number="（2017）京刑再10号", decided_on="2017-09-22", procedure="再审"),
    # A legacy (pre-2016) case number; appeal.
    "15248": dict(court="江苏省南京市中级人民法院", case_number="（2015）宁刑终字第84号", decided_on="2015-04-30",
                  procedure="二审", charges=["聚众斗殴罪"]),
    # The full text opens with the document name, the court comes after it.
    "43598": dict(court="黑龙江省哈尔滨市南岗区人民法院", case_number="（2015）南刑重字第5号", decided_on="2016-05-26",
                  charges=["职务侵占罪"]),
}


@pytest.fixture(scope="module")
def judgments() -> dict[str, dict]:
    return dict(iter_judgments(CORPUS / "judgments.tar.xz", only=set(EXPECTED)))


@needs_corpus
@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_derived_fields(judgments: dict[str, dict], doc_id: str) -> None:
    meta = convert_judgment(doc_id, judgments[doc_id]).meta
    assert {k: meta.get(k) for k in EXPECTED[doc_id]} == EXPECTED[doc_id]
    assert meta["id"] == f"lecard-{doc_id}"
    assert meta["sources"] == [f"corpus file: lecard-judgments/judgments.tar.xz#judgments/{doc_id}.json"]


@needs_corpus
def test_sub_articles_are_kept(judgments: dict[str, dict]) -> None:
    assert "《刑法》第十七条之一" in convert_judgment("15056", judgments["15056"]).meta["statutes"]


@needs_corpus
def test_sections_and_full_text(judgments: dict[str, dict]) -> None:
    text = convert_judgment("1000", judgments["1000"]).text
    body = text.split("\n---\n", 1)[1]
    assert [line for line in body.splitlines() if line.startswith("## ")] == ["## 案件基本情况", "## 裁判分析过程", "## 判决结果", "## 全文"]
    assert "书记员胡婷" in body and "经审理查明：2018年1月上旬" in body


@needs_corpus
def test_import_command_writes_entries_that_load(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    only = [arg for doc_id in EXPECTED for arg in ("--only", doc_id)]
    result = runner("import", "lecard", str(CORPUS), str(tmp_path), *only)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Converted {len(EXPECTED)} judgments, rejected 0")
    report = load_all([tmp_path])
    assert report.problems == []
    entries = {e.id: e for e in report.entries}
    assert entries["lecard-34376"].charges == ("组织XXX人进行违反治安管理活动罪", "非法持有枪支罪")
    assert entries["lecard-1000"].procedure == "一审"


def test_decided_on_reads_chinese_numerals() -> None:
    assert decided_on("审判长张三 二〇一八年三月五日 书记员李四") == "2018-03-05"
    assert decided_on("二Ｏ一九年十二月三十一日 本件与原本核对无异 书记员李四") == "2019-12-31"
    assert decided_on("二〇一八年二月三十日 书记员李四") is None
    assert decided_on("没有日期 书记员李四") is None


def test_charges_in() -> None:
    assert charges_in("被告人甲犯盗窃罪，判处有期徒刑一年；犯诈骗罪、掩饰、隐瞒犯罪所得罪，判处") == [
        "盗窃罪", "诈骗罪", "掩饰、隐瞒犯罪所得罪"]
    assert charges_in("被告人乙犯侵犯著作权罪和开设赌场罪罪") == ["侵犯著作权罪", "开设赌场罪"]
    assert charges_in("犯罪嫌疑人丙如实供述犯罪事实") == []


@pytest.fixture(scope="module")
def lecard_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Index 300 real judgments and train the charge classifier on them; yield (SearchIndex, content dir)."""
    from indexer import SearchIndex, build_index
    from kb.importers.lecard import import_judgments

    root = tmp_path_factory.mktemp("lecard")
    content = root / "rulings"
    import_judgments(CORPUS, content, limit=300)
    index_dir = root / "index"
    build_index([content], index_dir)
    model = index_dir / "charges.npz"
    result = run_kb("train", "charges", "--content", str(content), "--out", str(model))
    assert result.exit_code == 0, result.output
    return SearchIndex(index_dir), content


@needs_corpus
def test_similar_on_real_judgments_by_facts(lecard_index) -> None:  # type: ignore[no-untyped-def]
    import re
    from collections import Counter

    from indexer.factsim import is_stop, load_matrix
    from indexer.similar import FACTS_CUTOFF, facts_section, search_similar
    from kb.loader import load_entry

    index, content = lecard_index
    entries = [load_entry(path)[0] for path in sorted(content.glob("*.md"))]
    common = Counter(e.charges[0] for e in entries if e.charges).most_common(1)[0][0]
    entry = next(e for e in entries if e.charges and e.charges[0] == common)
    facts = facts_section(entry.body)
    saved = load_matrix(index.build_dir, index.searcher())  # written by the build, for this index state
    assert saved and len(saved.ids) == 300
    assert saved.words_view is not None and saved.words_view.ids == saved.ids  # the all-words view is saved too
    result = search_similar(index, text=facts, limit=10)
    top = result.hits[0]
    assert top.id == entry.id  # its own facts find it first
    assert common in top.shared_labels
    # Defendants as the full text introduces them: 被告人王义新，男 …
    names = {n for n in re.findall(r"被告人([\u4e00-\u9fff]{2,3})[，,（(]", entry.body) if "某" not in n}
    assert names
    for hit in result.hits:
        assert hit.shared_terms and not any(is_stop(t) for t in hit.shared_terms)
        assert not [(term, name) for term in hit.shared_terms for name in names if name in term or term in name]
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert all(h.score >= FACTS_CUTOFF * result.hits[0].score for h in result.hits)
    understood = result.to_dict()["understood"]
    assert understood["charges"][0] == common
    assert not any(t["term"] in names for t in understood["terms"])


@needs_corpus
def test_similar_to_an_imported_ruling_uses_its_facts(lecard_index) -> None:  # type: ignore[no-untyped-def]
    from indexer.similar import search_similar

    index, _ = lecard_index
    result = search_similar(index, entry_id="lecard-1000", limit=5)
    assert result.hits and "lecard-1000" not in [h.id for h in result.hits]
    assert all(h.shared_terms for h in result.hits)


@needs_corpus
def test_import_by_charge_keeps_only_those_judgments(judgments_dir: Path) -> None:
    report = load_all([judgments_dir])
    assert report.problems == []
    assert len(report.entries) == 643  # 387 of 危险驾驶罪, 259 of 交通肇事罪, 3 of both
    assert all(set(e.charges) & set(JUDGE_CHARGES) for e in report.entries)


@needs_corpus
@pytest.mark.skipif(not STATUTE_CORPUS.is_dir(), reason=f"lawrefbook-laws corpus not found at {STATUTE_CORPUS} (set KB_CORPUS)")
def test_imported_judgments_pass_kb_check_and_cite_the_interpretations(judgments_dir: Path, tmp_path: Path) -> None:
    from kb.importers.lawrefbook import import_corpus
    from kb.links import StatuteResolver, load_repealed

    statutes = tmp_path / "statutes"
    import_corpus(STATUTE_CORPUS, statutes)
    result = run_kb("check", str(judgments_dir), str(statutes))
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, f"Checked {643 + len(list(statutes.rglob('*.md')))} entries: no problems.")
    # The interpretations resolve as the judgments title them, in the version in force on their date.
    report = load_all([judgments_dir, statutes])
    resolver = StatuteResolver(report.entries, load_repealed([judgments_dir, statutes]))
    entries = {e.id: e for e in report.entries}
    links = resolver.links(entries["lecard-11077"])  # 2010: 《关于审理交通肇事刑事案件具体应用法律若干问题的解释》, no issuer
    assert links["关于审理交通肇事刑事案件具体应用法律若干问题的解释#第二条"] == (
        "最高人民法院关于审理交通肇事刑事案件具体应用法律若干问题的解释-2000-11-15#第二条")
    links = resolver.links(entries["lecard-10014"])  # 2018: the 2012 text, not the renumbered 2021 one
    assert links["最高人民法院关于适用〈中华人民共和国刑事诉讼法〉的解释#第一百五十五条"] == (
        "最高人民法院关于适用-刑事诉讼法-的解释-2012-12-20#第一百五十五条")
