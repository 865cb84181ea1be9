"""The 罪名 (charge) filter and facet, on real judgments: the LeCaRD judgments of JUDGE_CHARGES that
`kb import lecard --charge` writes (tests/conftest.py: judgments_dir, judgments_index, judgment_entries),
searched through /api/search and the pages. A judgment convicted of two charges counts under each;
every charge shown links to the search filtered by it."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import PAYLOADS, build_tree, entry_text, error_body


@pytest.fixture(scope="module")
def judge_client(judgments_index: Path):  # type: ignore[no-untyped-def]
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(judgments_index)}).test_client()


def api(client, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def facet(body: dict[str, Any], name: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in body["facets"].get(name, [])}


def all_ids(client, **params: Any) -> set[str]:  # type: ignore[no-untyped-def]
    """Return the ids of every result, page by page."""
    ids: set[str] = set()
    page = 1
    while True:
        body = api(client, per_page=100, page=page, **params)
        ids |= {hit["id"] for hit in body["results"]}
        if page >= body["pages"]:
            return ids
        page += 1


def charge_links(html: str) -> list[tuple[str, str]]:
    """Return (href, text) of the page's charge links."""
    return re.findall(r'<a class="charge" href="([^"]*)">([^<]*)</a>', html)


def filtered_by(href: str) -> tuple[str, dict[str, list[str]]]:
    """Return the path and parameters a link's (HTML-escaped) href leads to, on this site."""
    parts = urlsplit(unescape(href))
    assert not parts.scheme and not parts.netloc
    return parts.path, parse_qs(parts.query)


@pytest.fixture(scope="module")
def two_charges(judgment_entries: dict) -> Any:  # type: ignore[type-arg]
    """Return a judgment convicted of two charges or more, the one whose rarest charge is rarest."""
    counts = Counter(c for e in judgment_entries.values() for c in e.charges)
    several = [e for e in judgment_entries.values() if len(e.charges) >= 2]
    assert several, "the imported judgments have no judgment of two charges"
    return min(several, key=lambda e: (min(counts[c] for c in e.charges), e.id))


# -- the facet ----------------------------------------------------------------------------------------


def test_the_facet_counts_each_judgment_under_each_of_its_charges(judge_client, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    body = api(judge_client, type="ruling", per_page=1)
    expected = Counter(c for e in judgment_entries.values() for c in e.charges)
    assert facet(body, "charge") == expected
    with_charges = sum(1 for e in judgment_entries.values() if e.charges)
    assert sum(expected.values()) > with_charges  # some judgment counts twice
    assert [item["value"] for item in body["facets"]["charge"]] == sorted(expected, key=lambda c: (-expected[c], c))


def test_a_judgment_of_two_charges_is_found_under_each(judge_client, two_charges) -> None:  # type: ignore[no-untyped-def]
    for charge in two_charges.charges:
        assert two_charges.id in all_ids(judge_client, charge=charge, court=two_charges.court), charge


def test_the_filter_finds_exactly_the_judgments_of_the_charge(judge_client, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    by_charge: dict[str, set[str]] = {}
    for e in judgment_entries.values():
        for c in e.charges:
            by_charge.setdefault(c, set()).add(e.id)
    for charge, ids in by_charge.items():
        assert all_ids(judge_client, charge=charge) == ids, charge
    # Several charges: any of them, each judgment once (the two share judgments).
    common = max(by_charge, key=lambda c: (len(by_charge[c]), c))
    other = max((c for c in by_charge if c != common), key=lambda c: (len(by_charge[c] & by_charge[common]), c))
    assert by_charge[common] & by_charge[other]
    assert api(judge_client, charge=[common, other], per_page=1)["total"] == len(by_charge[common] | by_charge[other])


def test_the_filter_combines_with_a_court(judge_client, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    charge = "危险驾驶罪"
    convicted = [e for e in judgment_entries.values() if charge in e.charges]
    court, _n = Counter(e.court for e in convicted).most_common(1)[0]
    both = {e.id for e in convicted if e.court == court}
    body = api(judge_client, charge=charge, court=court, per_page=100)
    assert {hit["id"] for hit in body["results"]} == both and body["total"] == len(both) >= 3
    assert all(charge in hit["charges"] and hit["court"] == court for hit in body["results"])
    # Disjunctive facets: each counted with the other filter, not its own.
    assert facet(body, "court") == Counter(e.court for e in convicted)
    in_court = [e for e in judgment_entries.values() if e.court == court]
    assert facet(body, "charge") == Counter(c for e in in_court for c in e.charges)


def test_the_facet_counts_as_whooshs_overlapping_grouping(judge_client) -> None:  # type: ignore[no-untyped-def]
    """The engine's counts from posting arrays equal Whoosh's own FieldFacet(allow_overlap=True) over a text query."""
    from whoosh import sorting

    from indexer.query import text_query, understand
    from webapp import search_index

    index = search_index(judge_client.application)
    engine = index.engine()
    main = text_query(understand("醉酒 驾驶 撞 死亡", index.thesaurus).groups)
    grouped = engine.searcher.search(engine.whoosh_query(main), groupedby={"charges": sorting.FieldFacet("charges", allow_overlap=True)},
                                     limit=None, scored=False)
    docs = engine.match(main)
    assert len(docs) == grouped.scored_length() > 100
    expected = {value: len(ids) for value, ids in grouped.groups("charges").items() if value not in (None, "")}
    assert dict(engine.counts(docs, "charges")) == expected
    assert sum(expected.values()) > len([d for d in docs if engine.stored(int(d)).get("charges")])
    assert not engine.is_column("charges")
    with pytest.raises(ValueError, match="not a column"):
        engine.columns(docs[:3], "charges")  # one value per document would be a wrong answer


# -- values that are no charge ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["没有这个罪", "危险驾驶", "危险驾驶罪,交通肇事罪", "危险驾驶罪、交通肇事罪", PAYLOADS["script"],
                                   "x" * 5000, "罪\x00", "🚗", "%E5%8D%B1", "' OR 1=1 --", "charges:危险驾驶罪"])
def test_an_unknown_charge_finds_nothing_and_is_never_an_error(judge_client, value: str) -> None:  # type: ignore[no-untyped-def]
    body = api(judge_client, charge=value)
    assert body["total"] == 0 and body["results"] == [] and body["filters"] == {"charge": value}
    assert facet(body, "charge")  # the facet still offers the charges there are (its own filter lifted)
    response = judge_client.get("/search", query_string={"charge": value})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and 'id="total" data-total="0"' in html


def test_too_many_charges_at_once_is_a_400(judge_client) -> None:  # type: ignore[no-untyped-def]
    response = judge_client.get("/api/search", query_string={"charge": [f"罪{i}" for i in range(21)]})
    assert response.status_code == 400
    assert response.get_json() == error_body(400, "charge has 21 values; the limit is 20.")


# -- links ----------------------------------------------------------------------------------------------


def test_charges_on_a_judgments_page_link_to_the_search_of_each(judge_client, two_charges, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    html = judge_client.get(f"/entries/{two_charges.id}").get_data(as_text=True)
    header = html.split('<dd class="field-charges">', 1)[1].split("</dd>", 1)[0]
    links = charge_links(header)
    assert [text for _href, text in links] == list(two_charges.charges)
    counts = Counter(c for e in judgment_entries.values() for c in e.charges)
    for href, text in links:
        assert filtered_by(href) == ("/search", {"charge": [text]})
        page = judge_client.get(unescape(href)).get_data(as_text=True)
        assert f'data-total="{counts[text]}"' in page


def test_charges_in_search_hits_link_to_the_search_of_each(judge_client, two_charges) -> None:  # type: ignore[no-untyped-def]
    html = judge_client.get("/search", query_string={"charge": two_charges.charges[0], "court": two_charges.court,
                                                     "per_page": "100"}).get_data(as_text=True)
    hit = html.split(f'href="/entries/{two_charges.id}"', 1)[1].split("</li>", 1)[0]
    links = charge_links(hit.split('<div class="meta">', 1)[1].split("</div>", 1)[0])
    assert [text for _href, text in links] == list(two_charges.charges)
    assert [filtered_by(href) for href, _text in links] == [("/search", {"charge": [c]}) for c in two_charges.charges]


def test_similar_judgments_link_their_charges(judge_client, two_charges) -> None:  # type: ignore[no-untyped-def]
    html = judge_client.get(f"/entries/{two_charges.id}").get_data(as_text=True)
    similar = html.split('<ol class="similar-hits">', 1)[1].split("</ol>", 1)[0]
    links = charge_links(similar)
    assert links and all(filtered_by(href) == ("/search", {"charge": [text]}) for href, text in links)


def test_a_hostile_charge_is_escaped_in_its_links(tmp_path: Path) -> None:
    from webapp import create_app

    hostile = [PAYLOADS["script"] + "罪", 'a&b"c\'罪', PAYLOADS["img_onerror"] + "罪"]
    index_dir = build_tree(tmp_path, {"rulings/hostile.md": entry_text(title="恶意罪名测试", charges=hostile, body="被告人犯罪。")})
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()
    for path, query in (("/entries/hostile", {}), ("/search", {"q": "恶意罪名测试"})):
        html = client.get(path, query_string=query).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        links = charge_links(html)
        assert [filtered_by(href) for href, _text in links][:3] == [("/search", {"charge": [c]}) for c in hostile], path
    body = api(client, charge=hostile[0])
    assert [hit["id"] for hit in body["results"]] == ["hostile"] and facet(body, "charge") == dict.fromkeys(hostile, 1)
    html = client.get("/search", query_string={"charge": hostile[0]}).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;罪" in html and 'data-facet="charge"' in html


def test_the_facet_follows_incremental_updates_and_deletions(tmp_path: Path) -> None:
    """Each segment's (document, charge) pairs are saved by the build; an edit or a deletion changes the counts at once."""
    from indexer import SearchIndex, build_index

    files = {f"rulings/r{i}.md": entry_text(title=f"判决{i}", charges=charges, body="被告人犯罪。")
             for i, charges in enumerate([["危险驾驶罪", "妨害公务罪"], ["危险驾驶罪"], ["交通肇事罪"]])}
    index_dir = build_tree(tmp_path, files)
    index = SearchIndex(index_dir)
    assert list(index.build_dir.glob("arrays/*-charges.pairs.npy"))  # saved by the build, not by the first search

    def counts() -> dict[str, int]:
        return dict(index.search("", filters={"type": "ruling"}).facets.get("charge", []))

    assert counts() == {"危险驾驶罪": 2, "妨害公务罪": 1, "交通肇事罪": 1}
    content = tmp_path / "content"
    (content / "rulings/r1.md").write_text(entry_text(title="判决1", charges=["交通肇事罪", "危险驾驶罪"], body="被告人犯罪。"), encoding="utf-8")
    (content / "rulings/r0.md").unlink()
    build_index([content], index_dir)
    assert counts() == {"危险驾驶罪": 1, "交通肇事罪": 2}
    assert {hit.id for hit in index.search("", filters={"charge": "交通肇事罪"}).results} == {"r1", "r2"}


def test_the_csv_of_a_search_has_each_judgments_charges(judge_client, two_charges, judgment_entries: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    import csv
    import io

    counts = Counter(c for e in judgment_entries.values() for c in e.charges)
    charge = min(two_charges.charges, key=lambda c: counts[c])
    assert counts[charge] <= 100  # so the judgment is on the page
    body = api(judge_client, charge=charge, per_page=100)
    response = judge_client.get("/search.csv", query_string={"charge": charge, "per_page": 100})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["id"] for row in rows] == [hit["id"] for hit in body["results"]]
    by_id = {row["id"]: row["charges"] for row in rows}
    assert by_id[two_charges.id] == "、".join(two_charges.charges)
