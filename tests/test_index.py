"""A real index on disk: builds, incremental updates, search features, on a small fixed corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer import QueryError, SearchIndex, build_index
from indexer.analyzer import ChineseAnalyzer, query_terms
from tests.support import CONTENT, SMALL_TREE, entry_text, write_tree


@pytest.fixture
def built(content_dir, tmp_path: Path) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    root = content_dir(SMALL_TREE)
    index_dir = tmp_path / "index"
    report = build_index([root], index_dir, clean=True)
    assert report.problems == []
    return root, index_dir


def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.id for hit in page.results]


def test_full_build_indexes_entries_and_articles(built) -> None:  # type: ignore[no-untyped-def]
    _root, index_dir = built
    index = SearchIndex(index_dir)
    assert index.count() == 5 + 2  # five entries, two articles
    page = index.search("三倍赔偿 欺诈")
    assert "xiaobao#第五十五条" in ids(page)
    article = next(h for h in page.results if h.id == "xiaobao#第五十五条")
    assert article.article == "第五十五条" and article.url == "/entries/xiaobao#%E7%AC%AC%E4%BA%94%E5%8D%81%E4%BA%94%E6%9D%A1"


def test_snippets_are_highlighted(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search("公序良俗")
    assert ids(page)[0] == "shuadan"
    assert '<mark class="match term0">公序良俗</mark>' in page.results[0].snippet


def test_a_passage_said_twice_is_one_fragment_of_the_snippet(tmp_path: Path) -> None:
    # An imported judgment keeps its full text beside its sections: the two best fragments were
    # often one passage twice.
    from tests.support import build_tree

    filler = "本院依法组成合议庭公开开庭审理了本案。" * 20
    facts = (f"经审理查明：被告人甲醉酒后驾驶小型轿车，与路边停放的车辆相撞，经鉴定血液中乙醇含量为一百八十毫克每百毫升。\n\n"
             f"{filler}\n\n另查明，被告人甲到案后如实供述了醉酒驾驶的事实，并自愿认罪。")
    body = f"## 案件基本情况\n\n{filler}\n\n{facts}\n\n## 全文\n\n{filler}\n\n{facts}\n"
    index = SearchIndex(build_tree(tmp_path, {"rulings/drunk.md": entry_text(title="甲危险驾驶案", body=body)}))
    snippet = index.search("醉酒 驾驶").results[0].snippet
    plain = snippet.replace('<mark class="match term0">', "").replace('<mark class="match term1">', "").replace("</mark>", "")
    assert plain.count("与路边停放的车辆相撞") == 1, snippet
    assert "如实供述" in plain  # the next best passage takes the repeat's place
    assert " … " in snippet


def test_subwords_find_longer_words(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    assert "haoping" in ids(index.search("返现"))  # indexed as part of 好评返现


def test_numbers_are_kept() -> None:
    assert "5" in query_terms("第5条")
    tokens = [t.text for t in ChineseAnalyzer()("第５条 ABC", mode="query")]
    assert tokens == ["第", "5", "条", "abc"]


def test_positions_make_phrases_work(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search('"网络购物"', syntax=True)
    assert "haoping" in ids(page)


def test_facets_and_filters(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search("网络服务合同纠纷 配送费 合同")
    everything = index.search("", filters={"type": "ruling"})
    assert everything.total == 3
    assert dict(everything.facets["procedure"]) == {"一审": 2, "二审": 1}
    assert dict(everything.facets["cause"]) == {"网络服务合同纠纷": 2, "网络购物合同纠纷": 1}
    only_appeal = index.search("", filters={"type": "ruling", "procedure": "二审"})
    assert ids(only_appeal) == ["appeal"]
    by_year = index.search("", filters={"year": "2021"})
    assert sorted(ids(by_year)) == ["appeal", "haoping"]
    assert page.total >= 1


def test_sort_by_date(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search("", filters={"type": "ruling"}, sort="date")
    assert ids(page) == ["haoping", "appeal", "shuadan"]


def test_fallback_to_any_word(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search("公序良俗 配送费")  # no entry has both
    assert page.fallback is True
    assert set(ids(page)) >= {"shuadan", "appeal"}
    assert page.notice


def test_case_number_in_any_form_goes_to_the_ruling(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    for form in ("（2019）京0491民初2547号", "(2019)京0491民初2547号", "〔2019〕京0491民初2547号", "( 2019 )京0491民初2547号"):
        page = index.search(form)
        assert ids(page)[0] == "shuadan", form
        assert page.case_number == "（2019）京0491民初2547号"


def test_english_fields(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    assert ids(index.search("online shopping proof"))[0] == "proof"


@pytest.mark.parametrize("params", [
    {"page": 0}, {"page": -1}, {"per_page": 10**9}, {"per_page": 0}, {"sort": "random"},
    {"filters": {"nope": "x"}}, {"filters": {"year": "abc"}},
])
def test_bad_parameters_are_refused(built, params) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    with pytest.raises(QueryError):
        index.search("刷单", **params)


def test_long_and_odd_queries_do_not_crash(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    with pytest.raises(QueryError):
        index.search("刷" * 10_000)
    for query in ('"未闭合', "AND OR NOT", "\x00\x01\x1f 刷单", "((( )))", "title:", "*?", "举证责任 -刑事"):
        index.search(query)


def test_incremental_update_add_change_delete(built) -> None:  # type: ignore[no-untyped-def]
    root, index_dir = built
    index = SearchIndex(index_dir)
    assert index.search("区块链存证").total == 0
    (root / "rulings" / "new.md").write_text(entry_text(title="区块链存证案", body="天平链上的证据。"), encoding="utf-8")
    (root / "rulings" / "appeal.md").write_text(entry_text(title="外卖配送费二审案", body="改写后的正文：估算价格。"), encoding="utf-8")
    (root / "rulings" / "shuadan.md").unlink()
    report = build_index([root], index_dir)
    assert (report.mode, report.added, report.updated, report.removed) == ("incremental", 1, 1, 1)
    assert ids(index.search("区块链存证")) == ["new"]
    assert ids(index.search("估算价格")) == ["appeal"]
    assert index.search("公序良俗").total == 0
    again = build_index([root], index_dir)
    assert (again.added, again.updated, again.removed, again.documents) == (0, 0, 0, 0)


def test_full_rebuild_swaps_atomically(built) -> None:  # type: ignore[no-untyped-def]
    root, index_dir = built
    index = SearchIndex(index_dir)
    before = (index_dir / "CURRENT").read_text()
    assert index.search("公序良俗").total == 1
    (root / "rulings" / "shuadan.md").unlink()
    build_index([root], index_dir, clean=True)
    assert (index_dir / "CURRENT").read_text() != before
    assert index.search("公序良俗").total == 0  # the open SearchIndex follows the switch


def test_bad_files_are_skipped_and_good_ones_indexed(content_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = content_dir({**SMALL_TREE, "broken.md": "---\ntype: ruling\ntitle: [unclosed\n---\n", "empty.md": ""})
    report = build_index([root], tmp_path / "ix", clean=True)
    assert report.entries == 5
    assert len(report.skipped) == 2
    assert SearchIndex(tmp_path / "ix").search("公序良俗").total == 1


VERSIONS = {
    "causes": None,
    "_data/causes.yaml": "causes:\n  合同纠纷: {}\n  服务合同纠纷: {parent: 合同纠纷}\n  网络服务合同纠纷: {parent: 服务合同纠纷}\n  买卖合同纠纷: {parent: 合同纠纷}\n  网络购物合同纠纷: {parent: 买卖合同纠纷}\n",
    "statutes/old.md": entry_text(type_="statute", title="中华人民共和国示例法", short_title="示例法", version_on="2013-01-01", level="法律",
                                  body="第一条 网络交易的经营者应当公开收费标准。"),
    "statutes/new.md": entry_text(type_="statute", title="中华人民共和国示例法", short_title="示例法", version_on="2021-01-01", level="法律",
                                  body="第一条 网络交易的经营者应当公开收费标准并提示风险。"),
    "statutes/local.md": entry_text(type_="statute", title="某省示例条例", short_title="某省示例条例", level="地方性法规",
                                    body="第三条 网络交易的经营者应当公开收费标准并提示风险。"),
    "rulings/guiding.md": entry_text(title="指导性案例一号", authority="指导性案例", decided_on="2015-01-01", cause="网络购物合同纠纷", body="收费标准的公开。"),
    "rulings/typical.md": entry_text(title="典型案例一号", authority="典型案例", decided_on="2025-06-01", cause="网络服务合同纠纷", body="收费标准的公开与提示。"),
    "rulings/plain.md": entry_text(title="普通案例", decided_on="2024-01-01", cause="网络服务合同纠纷", body="收费标准 收费标准 收费标准的公开。"),
}
VERSIONS.pop("causes")


@pytest.fixture
def versions_index(content_dir, tmp_path: Path) -> SearchIndex:  # type: ignore[no-untyped-def]
    root = content_dir(VERSIONS)
    build_index([root], tmp_path / "vix", clean=True)
    return SearchIndex(tmp_path / "vix")


def test_copies_of_an_article_collapse_under_the_version_in_force(versions_index) -> None:  # type: ignore[no-untyped-def]
    page = versions_index.search("收费标准 提示风险", filters={"type": "statute"})
    articles = [h for h in page.results if h.kind == "article"]
    assert articles[0].id == "new#第一条"  # the national law in force, not the local restatement
    assert {o["id"] for o in articles[0].others} == {"old#第一条", "local#第三条"}
    assert len(articles) == 1


def test_superseded_version_ranks_below_the_one_in_force(versions_index) -> None:  # type: ignore[no-untyped-def]
    page = versions_index.search("公开收费标准", filters={"type": "statute", "kind": "article"})
    assert page.results[0].id == "new#第一条" and not page.results[0].superseded
    assert any(o["id"] == "old#第一条" for o in page.results[0].others)


def test_precedent_order_and_reference_marks(versions_index) -> None:  # type: ignore[no-untyped-def]
    page = versions_index.search("收费标准", filters={"type": "ruling"}, sort="precedent")
    assert ids(page) == ["guiding", "typical", "plain"]
    assert [h.reference for h in page.results] == ["应当参照", "可以参考", "可以参考"]
    relevance = versions_index.search("收费标准", filters={"type": "ruling"})
    assert ids(relevance)[0] == "plain"


def test_cause_tree_counts_and_filter_includes_children(versions_index) -> None:  # type: ignore[no-untyped-def]
    page = versions_index.search("", filters={"type": "ruling"})
    assert page.cause_tree == [{"value": "合同纠纷", "count": 3, "children": [
        {"value": "服务合同纠纷", "count": 2, "children": [{"value": "网络服务合同纠纷", "count": 2, "children": []}]},
        {"value": "买卖合同纠纷", "count": 1, "children": [{"value": "网络购物合同纠纷", "count": 1, "children": []}]},
    ]}]
    assert sorted(ids(versions_index.search("", filters={"cause": "服务合同纠纷"}))) == ["plain", "typical"]
    assert versions_index.search("", filters={"cause": "合同纠纷"}).total == 3


def test_court_level_facet(built) -> None:  # type: ignore[no-untyped-def]
    index = SearchIndex(built[1])
    page = index.search("", filters={"type": "ruling"})
    assert dict(page.facets["court_level"]) == {"基层": 2, "中级": 1}
    assert ids(index.search("", filters={"court_level": "中级"})) == ["appeal"]


# -- caches across builds: correct, not fast (speed is measured in bench/perf.py) ----------------

XIAOBAO = "statutes/xiaobao.md"
CITES_57 = "rulings/cites.md"


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the files load_all reads and parses (not those it takes from a cache)."""
    import kb.loader

    read: list[str] = []
    original = kb.loader.load_entry

    def load_entry(path, **kwargs):  # type: ignore[no-untyped-def]
        read.append(Path(path).relative_to(path.parents[1]).as_posix())
        return original(path, **kwargs)

    monkeypatch.setattr(kb.loader, "load_entry", load_entry)
    return read


def test_watch_cache_rereads_changed_files_and_resolves_new_articles(content_dir, tmp_path: Path, counted_reads) -> None:  # type: ignore[no-untyped-def]
    cites = entry_text(title="引用第五十七条案", body="依《消费者权益保护法》第五十七条处理。")
    root = content_dir({**SMALL_TREE, CITES_57: cites})
    index_dir = tmp_path / "index"
    cache: dict = {}  # as `kb serve --watch` keeps it
    build_index([root], index_dir, clean=True, cache=cache)
    index = SearchIndex(index_dir)
    assert len(counted_reads) == len(SMALL_TREE) + 1
    assert index.get_entry("cites")["links"] == {}  # the statute has no 第五十七条 yet

    statute = root / XIAOBAO
    statute.write_text(statute.read_text(encoding="utf-8") + "\n第五十七条 新增的条文：平台连带责任。\n", encoding="utf-8")
    counted_reads.clear()
    report = build_index([root], index_dir, cache=cache)
    assert counted_reads == [XIAOBAO]  # the others come from the cache
    assert (report.mode, report.updated, report.rewritten, report.documents) == ("incremental", 1, 1, 1 + 3 + 1)
    assert ids(index.search("平台连带责任")) == ["xiaobao#第五十七条"]
    assert index.get_entry("cites")["links"] == {"消费者权益保护法#第五十七条": "xiaobao#第五十七条"}  # rewritten, not read again

    (root / CITES_57).write_text(cites.replace("处理。", "处理，判决如下。"), encoding="utf-8")
    counted_reads.clear()
    build_index([root], index_dir, cache=cache)
    assert counted_reads == [CITES_57]
    assert index.get_entry("cites")["links"] == {"消费者权益保护法#第五十七条": "xiaobao#第五十七条"}

    counted_reads.clear()
    again = build_index([root], index_dir, cache=cache)
    assert counted_reads == [] and again.documents == 0


def test_saved_load_cache_is_used_checked_and_survives_damage(content_dir, tmp_path: Path, counted_reads,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.build

    monkeypatch.setattr(indexer.build, "SETTLE_NS", 0)  # the files were written just now; trust their times
    root = content_dir(SMALL_TREE)
    index_dir = tmp_path / "index"
    build_index([root], index_dir, clean=True)  # no cache passed: as a new `kb index` process
    saved = indexer.build.current_build(index_dir) / indexer.build.LOAD_CACHE
    assert saved.is_file()

    (root / "rulings" / "appeal.md").write_text(entry_text(title="外卖配送费二审案", body="改写后的正文：估算价格。"), encoding="utf-8")
    counted_reads.clear()
    report = build_index([root], index_dir)
    assert counted_reads == ["rulings/appeal.md"]
    assert report.updated == 1 and report.problems == []
    assert ids(SearchIndex(index_dir).search("估算价格")) == ["appeal"]

    for damage in (b"not a pickle", saved.read_bytes()[: saved.stat().st_size // 2], b""):
        saved.write_bytes(damage)
        (root / "rulings" / "appeal.md").write_text(entry_text(title="外卖配送费二审案", body=f"又改了一次：{len(damage)}。"), encoding="utf-8")
        counted_reads.clear()
        report = build_index([root], index_dir)  # a damaged cache is no cache: everything is read again
        assert sorted(counted_reads) == sorted(SMALL_TREE) and report.updated == 1 and report.problems == []
        assert ids(SearchIndex(index_dir).search(f"又改了一次 {len(damage)}")) == ["appeal"]


def test_files_changed_just_before_a_build_are_not_saved(content_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import time

    from kb.loader import load_all, read_load_cache, save_load_cache

    root = content_dir(SMALL_TREE)
    cache: dict = {}
    load_all(root, cache=cache)
    save_load_cache(cache, tmp_path / "entries.pickle", settled_before_ns=time.time_ns() - 3600 * 10**9)
    assert read_load_cache(tmp_path / "entries.pickle") == {}  # all written within the hour: could change unseen
    save_load_cache(cache, tmp_path / "entries.pickle", settled_before_ns=time.time_ns() + 10**9)
    assert read_load_cache(tmp_path / "entries.pickle") == cache
    assert read_load_cache(tmp_path / "missing.pickle") == {}


def test_small_segments_of_incremental_updates_are_merged(built) -> None:  # type: ignore[no-untyped-def]
    from whoosh.index import open_dir

    from indexer.build import current_build

    root, index_dir = built
    index = SearchIndex(index_dir)
    for i in range(10):
        (root / "rulings" / "appeal.md").write_text(entry_text(title="外卖配送费二审案", body=f"第{i}次修改的正文{'。' * i}"), encoding="utf-8")
        build_index([root], index_dir)
        assert ids(index.search(f"第{i}次修改")) == ["appeal"]
    assert index.count() == 5 + 2
    assert len(open_dir(str(current_build(index_dir)))._segments()) <= 5


# -- posting arrays (indexer/docsets.py) against Whoosh's own matchers ------------------------------

PARITY_QUERIES = ["刷单 赔偿", "好评返现", "网络购物 举证", "无障碍电影", "未成年人 打赏 退款", "合同", "商家让我好评返现合法吗",
                  "平台 责任 个人信息 删除", "copyright fair use", "著作权 合理使用 电影", "第十七条", "消费者"]


@pytest.mark.parametrize("text", PARITY_QUERIES)
def test_array_scores_and_matches_equal_whooshs(content_search, text: str) -> None:  # type: ignore[no-untyped-def]
    from indexer.engine import Not, Term, all_of
    from indexer.query import text_query, understand

    engine = content_search.engine()
    searcher = engine.searcher  # Whoosh's own matchers, to compare the engine's posting arrays with
    main = text_query(understand(text, content_search.thesaurus).groups)
    ids, scores = engine.score(main)
    ours = engine.top(ids, scores, 100)
    # Every match scored (limit=None): Whoosh's top-N search skips blocks by an estimated best
    # score, and for these query shapes it can skip documents that belong in the top N.
    every = searcher.search(engine.whoosh_query(main), limit=None)
    theirs = sorted(((hit.score, hit.docnum) for hit in every), key=lambda pair: (-pair[0], pair[1]))[:100]
    assert ours, text
    assert [doc for _, doc in ours] == [doc for _, doc in theirs]
    assert [score for score, _ in ours] == pytest.approx([score for score, _ in theirs], rel=1e-12)
    assert engine.match(main).tolist() == sorted(searcher.docs_for_query(engine.whoosh_query(main)))
    statutes = all_of([Term("type", "statute"), Not(Term("kind", "entry"))])
    assert engine.match(statutes).tolist() == sorted(searcher.docs_for_query(engine.whoosh_query(statutes)))


def test_array_facet_counts_equal_whooshs_grouping(content_search) -> None:  # type: ignore[no-untyped-def]
    from whoosh import sorting

    from indexer.query import text_query, understand
    from indexer.schema import FACET_FIELDS

    engine = content_search.engine()
    main = text_query(understand("合同", content_search.thesaurus).groups)
    # A list field (charges) counts a document under each of its values: Whoosh's overlapping grouping.
    facets = {name: sorting.FieldFacet(name, allow_overlap=not engine.is_column(name)) for name in FACET_FIELDS}
    grouped = engine.searcher.search(engine.whoosh_query(main), groupedby=facets, limit=None, scored=False)
    docs = engine.match(main)
    assert len(docs) == grouped.scored_length() > 0
    for name in FACET_FIELDS:
        expected = {value: len(ids) for value, ids in grouped.groups(name).items() if value not in (None, "")}
        assert dict(engine.counts(docs, name)) == expected, name


def test_arrays_follow_incremental_updates_and_deletions(built) -> None:  # type: ignore[no-untyped-def]
    root, index_dir = built
    index = SearchIndex(index_dir)
    assert ids(index.search("估算价格")) == []
    (root / "rulings" / "appeal.md").write_text(entry_text(title="外卖配送费二审案", body="估算价格不是要约。"), encoding="utf-8")
    build_index([root], index_dir)
    assert ids(index.search("估算价格")) == ["appeal"]  # a new segment, read on the next search
    (root / "rulings" / "appeal.md").unlink()
    build_index([root], index_dir)
    page = index.search("估算价格")
    assert ids(page) == [] and page.total == 0  # the deleted document is gone from matches and counts


def test_build_saves_the_vocabulary_search_would_collect_from_the_index(content_search) -> None:  # type: ignore[no-untyped-def]
    from indexer.suggest import VOCABULARY_FILE, Vocabulary

    saved = Vocabulary.load(content_search.build_dir / VOCABULARY_FILE)
    assert saved is not None
    titles, tags = [], set()
    for fields in content_search.engine().documents(kind="entry"):
        kind = "statute" if fields.get("type") == "statute" else "entry"
        titles.append((fields.get("title", ""), kind, f"/entries/{fields['id']}"))
        tags |= {t for t in (fields.get("tags") or "").split(",") if t}
    thesaurus = content_search.thesaurus.synonyms
    collected = Vocabulary.from_build(content_search.build_dir, titles, tags, set(thesaurus) | {w for ws in thesaurus.values() for w in ws})
    assert saved.words == collected.words
    assert {s.text for s in saved.suggestions} == {s.text for s in collected.suggestions}
    assert content_search.vocabulary().correct("举证责人") == "举证责任"


def test_vocabulary_is_collected_again_only_when_a_title_or_word_changes(built) -> None:  # type: ignore[no-untyped-def]
    from indexer.build import current_build
    from indexer.suggest import VOCABULARY_FILE

    root, index_dir = built
    path = current_build(index_dir) / VOCABULARY_FILE
    before = path.read_bytes()
    appeal = root / "rulings" / "appeal.md"
    appeal.write_text(entry_text(title="外卖配送费二审案", body="只改正文，不改标题。"), encoding="utf-8")
    build_index([root], index_dir)
    assert path.read_bytes() == before  # same titles, tags and words: the file is left as it was
    appeal.write_text(entry_text(title="配送费差额上诉案", body="只改正文，不改标题。"), encoding="utf-8")
    build_index([root], index_dir)
    assert "配送费差额上诉案" in path.read_text(encoding="utf-8")
    assert [s.text for s in SearchIndex(index_dir).suggest("配送费差额")] == ["配送费差额上诉案"]


# -- incremental builds equal clean builds (issue #16) -----------------------------------------------

LINKED = {
    "statutes/shifa-2013.md": entry_text(type_="statute", title="中华人民共和国示例法", short_title="示例法", version_on="2013-01-01",
                                         body="第一条 经营者应当公开收费标准。\n\n第二条 经营者不得欺诈。"),
    "statutes/jiangfei.md": entry_text(type_="statute", title="中华人民共和国将废法", short_title="将废法", body="第二条 将被删除的条文。"),
    "rulings/cites-new.md": entry_text(title="引用新条文案", decided_on="2022-01-01",
                                       body="依《示例法》第三条及《另一法》第一条处理。", statutes=["《将废法》第二条"]),
    "rulings/cites-old.md": entry_text(title="引用旧条文案", decided_on="2014-01-01", body="依《示例法》第一条处理。"),
    "rulings/renamed.md": entry_text(title="旧标题案", decided_on="2020-01-01", body="被链接的案例。"),
    "guidelines/linker.md": entry_text(type_="guideline", title="链接指引", related=["renamed"],
                                       body="参见[[renamed]]、[[lingyi]]与[[jiangfei]]。"),
    "rulings/unrelated.md": entry_text(title="无关案例", decided_on="2019-01-01", body="与其他条目无关。"),
}


def _stored_documents(index_dir: Path) -> dict[str, dict]:
    from indexer.build import open_index

    with open_index(index_dir).searcher() as searcher:
        documents = list(searcher.all_stored_fields())
    by_id = {doc["id"]: doc for doc in documents}
    assert len(by_id) == len(documents), "a document is in the index twice"
    return by_id


def test_incremental_build_equals_a_clean_build_of_the_same_tree(content_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = content_dir(LINKED)
    index_dir = tmp_path / "index"
    build_index([root], index_dir, clean=True)
    before = _stored_documents(index_dir)
    assert json.loads(before["cites-new"]["links"]) == {"将废法#第二条": "jiangfei#第二条"} and "superseded" not in before["shifa-2013"]

    # A newer version of the statute (with a 第三条 that a ruling already cites), a statute a
    # ruling cites and a guideline [[links]] to, one statute removed, one linked title changed.
    write_tree(root, {
        "statutes/shifa-2021.md": entry_text(type_="statute", title="中华人民共和国示例法", short_title="示例法", version_on="2021-01-01",
                                             body="第一条 经营者应当公开收费标准并提示风险。\n\n第三条 新增的条文。"),
        "statutes/lingyi.md": entry_text(type_="statute", title="中华人民共和国另一法", short_title="另一法", body="第一条 另一部法律的条文。"),
        "rulings/renamed.md": LINKED["rulings/renamed.md"].replace("旧标题案", "新标题案"),
    })
    (root / "statutes" / "jiangfei.md").unlink()
    report = build_index([root], index_dir)
    assert (report.mode, report.added, report.updated, report.removed) == ("incremental", 2, 1, 1)
    incremental = _stored_documents(index_dir)

    build_index([root], tmp_path / "clean", clean=True)
    clean = _stored_documents(tmp_path / "clean")
    # Every stored field of every document, exactly. `updated` is compared too: outside git it is
    # the file's mtime, and both builds read the same files.
    assert sorted(incremental) == sorted(clean)
    for doc_id, fields in clean.items():
        assert incremental[doc_id] == fields, doc_id
    # What the comparison covers, spelled out: the old version is superseded, a 2022 ruling's
    # citations resolve to the new version and the added statute, a 2014 ruling's stay with the
    # version in force then, the removed one resolves no more, titles follow.
    assert incremental["shifa-2013"]["superseded"] == incremental["shifa-2013#第一条"]["superseded"] == "yes"
    assert json.loads(incremental["cites-new"]["links"]) == {"示例法#第三条": "shifa-2021#第三条", "另一法#第一条": "lingyi#第一条"}
    assert json.loads(incremental["cites-old"]["links"]) == {"示例法#第一条": "shifa-2013#第一条"}
    assert "新标题案" in incremental["linker"]["body"] and "中华人民共和国另一法" in incremental["linker"]["body"]
    assert report.rewritten == 3  # shifa-2013, cites-new, linker; not cites-old nor unrelated
    assert incremental["cites-old"] == before["cites-old"] and incremental["unrelated"] == before["unrelated"]
    assert ", 3 rewritten as they depend on those:" in report.summary()


def test_incremental_build_falls_back_to_a_full_build_when_most_entries_depend_on_the_change(  # type: ignore[no-untyped-def]
        content_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.build

    root = content_dir(LINKED)
    index_dir = tmp_path / "index"
    build_index([root], index_dir, clean=True)
    monkeypatch.setattr(indexer.build, "FULL_BUILD_MIN_DOCUMENTS", 0)
    write_tree(root, {"statutes/shifa-2021.md": entry_text(type_="statute", title="中华人民共和国示例法", short_title="示例法",
                                                           version_on="2021-01-01", body="第一条 新。\n\n第二条 新。\n\n第三条 新。")})
    report = build_index([root], index_dir)
    assert report.mode == "full"
    assert report.reason.startswith("full build: ") and report.reason in report.summary()
    assert _stored_documents(index_dir)["shifa-2013"]["superseded"] == "yes"


# -- full builds written by several processes (issue #16) ---------------------------------------------

SAME_RESULTS_QUERIES = PARITY_QUERIES + [
    "刷单", "举证责任", "个人信息", "惩罚性赔偿", "格式条款", "电子数据", "信息网络传播权", "不正当竞争", "未成年人", "直播打赏",
    "游戏充值", "公序良俗", "合同无效", "三倍赔偿", "网络购物", "通知删除", "区块链", "著作权", "名誉权", "隐私权",
    "平台 责任", "数据 安全", "个人信息 处理者", "网购买到假货怎么办", "孩子偷偷给主播打赏的钱能要回来吗",
    "快递丢了平台要不要赔", "外卖平台乱收配送费可以告吗", "电子合同有法律效力吗", "聊天记录能当证据吗", "区块链存证法院认不认",
    "互联网法院怎么立案", "app过度收集个人信息违法吗", "刷单被骗了钱能追回来吗", "（2019）京0491民初2547号", "第五十五条",
    "消费者权益保护法第五十五条", "电子商务法", "网络服务合同纠纷",
]


def test_a_full_build_written_by_two_processes_equals_one_written_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.build import current_build, open_index
    indexes = {}
    for procs in ("1", "2"):
        monkeypatch.setenv("KB_BUILD_PROCS", procs)
        build_index([CONTENT], tmp_path / procs, clean=True)
        indexes[procs] = tmp_path / procs
    segments = {procs: len(open_index(path)._segments()) for procs, path in indexes.items()}  # noqa: SLF001
    assert segments == {"1": 1, "2": 2}
    stored = {}
    for procs, path in indexes.items():
        with open_index(path).searcher() as searcher:
            stored[procs] = list(searcher.all_stored_fields())  # in document-number order
    assert stored["1"] == stored["2"]  # same documents, same numbers, same fields (`updated` included)
    one, two = SearchIndex(indexes["1"]), SearchIndex(indexes["2"])
    assert len(SAME_RESULTS_QUERIES) >= 50
    for text in SAME_RESULTS_QUERIES:
        first, second = one.search(text), two.search(text)
        assert ids(first)[:10] == ids(second)[:10], text
        assert [h.score for h in first.results] == pytest.approx([h.score for h in second.results], rel=1e-9), text
        assert (first.total, first.facets) == (second.total, second.facets), text
    # Both builds saved the posting arrays of every segment they have.
    for path in indexes.values():
        arrays = {p.name.split("-", 1)[0] for p in (current_build(path) / "arrays").iterdir()}
        assert arrays == {s.segment_id() for s in open_index(path)._segments()}  # noqa: SLF001


def _index_contents(index_dir: Path) -> tuple[list, list, list, list]:
    from indexer.build import open_index
    from indexer.schema import SCORED_FIELDS

    reader = open_index(index_dir).reader()
    postings = list(reader.iter_postings())
    lengths = [[reader.doc_field_length(d, name) for d in range(reader.doc_count_all())] for name in SCORED_FIELDS]
    # The lengths a posting was written with show only in the term's and its blocks' statistics.
    stats = []
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        stats.append((fieldname, text, info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight()))
        if fieldname in SCORED_FIELDS:
            matcher = reader.postings(fieldname, text)
            while matcher.is_active():
                stats.append((matcher.id(), matcher.block_min_length(), matcher.block_max_length(), matcher.block_max_weight()))
                matcher.next()
    return postings, list(reader.all_stored_fields()), lengths, stats


def test_build_shortcuts_write_what_whoosh_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """indexer/whoosh_fixes.py: postings grouped by term (runs to disk too), lengths read once per field and
    repeated titles analysed once give Whoosh's own postings."""
    from whoosh import fields, writing

    import indexer.build
    import indexer.whoosh_fixes as fixes
    monkeypatch.setattr(indexer.build, "WRITER_MB", 2)  # the pool sorts many runs to disk
    monkeypatch.setenv("KB_BUILD_PROCS", "1")
    build_index([CONTENT], tmp_path / "ours", clean=True)
    monkeypatch.setattr(writing, "PostingPool", fixes.whoosh_posting_pool)
    monkeypatch.setattr(writing.SegmentWriter, "_flush_segment", fixes.whoosh_flush_segment)
    monkeypatch.setattr(fields.TEXT, "index", fields.FieldType.index)
    build_index([CONTENT], tmp_path / "whoosh", clean=True)
    ours, whooshs = _index_contents(tmp_path / "ours"), _index_contents(tmp_path / "whoosh")
    assert len(ours[0]) > 100_000
    assert ours == whooshs


@pytest.mark.parametrize("limitmb", [1, 64])
def test_term_pool_gives_postings_in_whoosh_pools_order(tmp_path: Path, limitmb: int) -> None:
    """TermPool (indexer/whoosh_fixes.py) against Whoosh's PostingPool: postings out of document order,
    repeated (field, term, document) with other weights, and, with limitmb=1, many runs on disk."""
    import random

    from whoosh.filedb.filestore import FileStorage

    import indexer.whoosh_fixes as fixes

    rng = random.Random(7)
    words = [f"w{i}".encode() * rng.randint(1, 3) for i in range(300)]
    postings = []
    for docnum in range(6000):
        for _ in range(rng.randint(1, 6)):
            field = rng.choice(["body", "title", "tags"])  # tags: no positions (None), as a KEYWORD field
            postings.append((field, rng.choice(words), docnum, float(rng.randint(1, 3)),
                             None if field == "tags" else rng.choice([b"\x01\x02", b"\x03"])))
    # A merge adds segments term by term: a later document's postings may come first; and repeats.
    postings += [(f, t, rng.randint(0, 5999), 1.0, v) for f, t, _d, _w, v in rng.sample(postings, 3000)]
    orders = []
    for pool_class in (fixes.whoosh_posting_pool, fixes.TermPool):
        storage = FileStorage(str(tmp_path / pool_class.__name__)).create()
        pool = pool_class(storage, None, limitmb=limitmb)
        for item in postings:
            pool.add(item)
        orders.append(list(pool.iter_postings()))
        assert not [p for p in (tmp_path / pool_class.__name__).iterdir() if p.suffix == ".run"]
    assert len(orders[1]) == len(postings)
    assert orders[1] == orders[0]


def test_saved_posting_arrays_are_the_decoded_postings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The posting arrays a build saves per segment (indexer/docsets.py SegmentPostings) hold, for every term of
    every scored field, exactly what decoding Whoosh's blocks gives; a build in two processes saves both segments'."""
    import numpy as np

    from indexer.build import current_build, open_index
    from indexer.docsets import ARRAYS_FOLDER, PostingArrays, SegmentPostings
    from indexer.schema import SCORED_FIELDS
    from tests.conftest import CONTENT

    monkeypatch.setenv("KB_BUILD_PROCS", "2")
    build_index([CONTENT], tmp_path / "index", clean=True)
    folder = current_build(tmp_path / "index") / ARRAYS_FOLDER
    decoded = PostingArrays()  # no folder: postings decoded from Whoosh's files
    with open_index(tmp_path / "index").searcher() as searcher:
        readers = [(sub.reader(), sub.reader().segment().segment_id()) for sub, _offset in searcher.subsearchers]
        assert len(readers) == 2
        checked = 0
        for reader, segment_id in readers:
            for fieldname in SCORED_FIELDS:
                saved = SegmentPostings.load(folder, segment_id, fieldname)
                terms = list(reader.lexicon(fieldname))
                if not terms:
                    continue
                assert saved is not None, (segment_id, fieldname)
                assert [bytes(t) for t in saved.terms] == terms
                for btext in terms:
                    ids, weights = decoded.segment_postings(segment_id, reader, fieldname, btext)
                    saved_ids, saved_weights = saved.postings(btext)
                    assert np.array_equal(ids, saved_ids) and np.array_equal(weights, saved_weights), (fieldname, btext)
                    assert saved_weights.dtype == np.float32 and saved_ids.dtype == np.int32
                    checked += 1
                assert len(saved.postings("没有这个词".encode())[0]) == 0
        assert checked > 5000
