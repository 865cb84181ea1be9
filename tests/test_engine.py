"""The engine interface (indexer/engine.py) and its Whoosh implementation, on a real index (#16).

The implementation must answer as Whoosh itself does: the parity tests compare the posting-array
fast path with Whoosh's own matchers (tests/test_index.py does so for search's queries).
"""

from __future__ import annotations

import inspect

import pytest

from indexer.engine import Engine, Order, Term, Unsupported, all_of
from indexer.whoosh_engine import WhooshEngine
from tests.support import SMALL_TREE, entry_text


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")}


def test_the_whoosh_engine_offers_every_call_of_the_interface_with_its_signature() -> None:
    wanted = public_methods(Engine)
    offered = public_methods(WhooshEngine)
    assert set(wanted) <= set(offered)
    for name, signature in wanted.items():
        assert list(offered[name].parameters) == list(signature.parameters), name
        assert [p.kind for p in offered[name].parameters.values()] == [p.kind for p in signature.parameters.values()], name


SIMILAR_TEXTS = [
    "2022年3月，原告在被告经营的网店购买枸杞，商品页面有上千条好评。收货后发现质量与图片不符，包裹内附卡片写明五星好评"
    "并晒图即可返现五元。原告认为商家以返现换取好评、虚构商品评价，构成欺诈，依据《消费者权益保护法》第五十五条请求三倍赔偿。",
    "平台未成年人打赏主播，家长请求退还充值款", "刷单炒信 虚假交易 不正当竞争 赔偿损失", "电子证据 区块链 存证 著作权 侵权 时间戳"]


@pytest.mark.parametrize("text", SIMILAR_TEXTS)
def test_similar_candidates_equal_whooshs_or_matcher(content_search, text: str) -> None:  # type: ignore[no-untyped-def]
    from indexer.similar import POOL, RULINGS, TEXT_FIELDS, _best, _matched_terms, _term_query, profile_text

    engine = content_search.engine()
    profile = profile_text(text)
    query = _term_query(profile.terms)
    rulings = engine.match(RULINGS)
    ours = _best(engine, query, rulings)
    # Whoosh's own OR matcher over every ruling it matches (limit=None: its top-N search may skip blocks).
    every = engine.searcher.search(engine.whoosh_query(query), filter=set(rulings.tolist()), limit=None, terms=True)
    theirs = sorted(((hit.score, hit.docnum) for hit in every), key=lambda pair: (-pair[0], pair[1]))[:POOL]
    assert ours, text
    assert [doc for _, doc in ours] == [doc for _, doc in theirs]
    assert [score for score, _ in ours] == pytest.approx([score for score, _ in theirs], rel=1e-12)
    matched = _matched_terms(engine, [term for term, _w in profile.terms], [doc for _, doc in ours])
    for hit in (hit for hit in every if hit.docnum in matched):
        expected = {term.decode() for field, term in hit.matched_terms() if field in TEXT_FIELDS}
        assert matched[hit.docnum] == expected, hit["id"]


def test_fields_without_lengths_score_by_weight_as_whoosh_does(content_search) -> None:  # type: ignore[no-untyped-def]
    engine = content_search.engine()
    cited = Term("statutes", "消费者权益保护法#第五十五条")  # a keyword field: no lengths, scored by the posting's weight
    ids, scores = engine.score(cited)
    every = engine.searcher.search(engine.whoosh_query(cited), limit=None)
    assert sorted(zip(ids.tolist(), scores.tolist(), strict=True)) == sorted((hit.docnum, hit.score) for hit in every)
    assert len(ids) > 1
    ids, scores = engine.score(all_of([Term("kind", "entry"), Term("type", "ruling")]))
    assert ids.tolist() == engine.match(all_of([Term("kind", "entry"), Term("type", "ruling")])).tolist()
    assert set(scores.tolist()) == {2.0}  # one for each ID field matched


def test_an_order_by_a_column_puts_the_undated_where_it_says(content_search) -> None:  # type: ignore[no-untyped-def]
    engine = content_search.engine()
    entries = Term("kind", "entry")
    for missing in ("first", "last"):
        found = engine.search(entries, limit=None, order=Order("date", descending=True, missing=missing))
        dates = [f.get("date") for f in found]
        dated = [d for d in dates if d is not None]
        assert dated == sorted(dated, reverse=True) and len(dated) < len(dates)
        undated = [i for i, d in enumerate(dates) if d is None]
        assert undated == (list(range(len(undated))) if missing == "first" else list(range(len(dated), len(dates))))
    by_number = engine.search(all_of([Term("kind", "article"), Term("parent_id", "电子商务法-2018-08-31")]), limit=None,
                              order=Order("article_no"))
    numbers = [f.get("article_no") for f in by_number]
    assert numbers == sorted(numbers) and len(numbers) > 80


def test_columns_read_dates_and_ids(content_search) -> None:  # type: ignore[no-untyped-def]
    engine = content_search.engine()
    docs = engine.match(Term("kind", "entry"))
    dates = engine.columns(docs, "date")
    stored = [engine.stored(int(d)).get("date") for d in docs]
    assert dates == stored
    assert engine.columns(docs, "parent_id") == [engine.stored(int(d))["id"] for d in docs]


def test_the_state_follows_commits_and_the_fast_path_says_what_it_cannot_do(content_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from indexer import SearchIndex, build_index

    root, index_dir = content_dir(SMALL_TREE), tmp_path / "index"
    build_index([root], index_dir, clean=True)
    index = SearchIndex(index_dir)
    before = index.engine().state()
    (root / "rulings" / "extra.md").write_text(entry_text(title="新增的裁判", body="估算价格不是要约。"), encoding="utf-8")
    build_index([root], index_dir)
    after = index.engine().state()
    assert after.key != before.key and after.generation > before.generation
    assert after.doc_count == before.doc_count + 1 and after.last_modified >= before.last_modified
    engine = index.engine()
    with pytest.raises(Unsupported):
        engine.score(engine.parse('"估算价格"', ("body",)))  # a phrase: only search() runs it
    assert [f.get("id") for f in engine.search(engine.parse('"估算价格"', ("body",)), limit=10)] == ["extra"]
