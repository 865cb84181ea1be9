"""Every index field and every filter reaches every place it must (issue #16).

The fields are declared once, in indexer/schema.py; these tests follow each one, as Datasette's
docs tests follow each setting: into the index built on disk, the documents of an entry that has
it, the hits of /api/search and /api/similar, the OpenAPI document; and each filter into
/api/search, the search page (its filter chips, side bar and report record, in Chinese and English)
and the report's search log. A new field or filter is checked here without editing this file:
the fixture's entries must then hold a value for it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from indexer import schema
from indexer.hits import HIT_VALUES
from tests.support import ROOT, build_tree, entry_text, write_tree

STATUTE_BODY = "## 第一章 总则\n\n第一条 网络平台经营者应当保护用户的个人信息，不得泄露。\n\n第二条 {}"
# Every field has a value on some document: a ruling with every ruling field (two charges: a list
# facet counts it under each), a typical case like it (for similar rulings), two versions of a statute (the older superseded; their same first
# article collapses into one result) and a guideline the ruling links to.
TREE = {
    "rulings/guiding-case.md": entry_text(
        "ruling", "李某诉某平台个人信息泄露案", body="平台泄露了用户的个人信息。参见[[personal-data-guide]]。",
        title_en="Li v. a platform, leaked personal data", summary_en="A platform that leaks personal data compensates.",
        summary="平台泄露用户个人信息应当赔偿。", court="北京互联网法院", case_number="（2021）京0491民初1号", decided_on="2021-05-01",
        cause="网络侵权责任纠纷", charges=["侵犯公民个人信息罪", "帮助信息网络犯罪活动罪"], procedure="一审", authority="指导性案例", treatment="overturned",
        holding="平台泄露个人信息应当承担赔偿责任。", tags=["个人信息"], statutes=["《示例法》第一条"],
        related=["personal-data-guide"], aliases=["old-guiding-case"]),
    "rulings/typical-case.md": entry_text(
        "ruling", "王某诉某平台个人信息泄露案", body="平台泄露了用户的个人信息，用户请求赔偿。", summary="平台泄露个人信息。",
        court="北京互联网法院", case_number="（2022）京0491民初2号", decided_on="2022-03-01", cause="网络侵权责任纠纷",
        charges=["侵犯公民个人信息罪"], authority="典型案例", statutes=["《示例法》第一条"]),
    "statutes/shili-2019.md": entry_text(
        "statute", "中华人民共和国示例法", body=STATUTE_BODY.format("旧版的规定。"), short_title="示例法", level="法律",
        version_on="2019-01-01", source_file="法律/示例法(2019-01-01).md", tags=["法律"]),
    "statutes/shili-2021.md": entry_text(
        "statute", "中华人民共和国示例法", body=STATUTE_BODY.format("新版的规定。"), short_title="示例法", level="法律",
        version_on="2021-01-01", source_file="法律/示例法(2021-01-01).md", tags=["法律"]),
    "guidelines/personal-data-guide.md": entry_text(
        "guideline", "个人信息保护指引", body="## 举证清单\n\n- 泄露的截图。", summary="个人信息被泄露时怎么办。", issued_on="2022-01-01"),
}
GUIDING = "guiding-case"
JSON_TYPES: dict[str, Any] = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "array": list, "object": dict}
ABSENT = {"year": "1901"}  # a value no document has, per filter (default below)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("fields"), TREE)


@pytest.fixture(scope="module")
def stored(index_dir: Path) -> list[dict[str, Any]]:
    from indexer.build import open_index

    with open_index(index_dir).searcher() as searcher:
        return [dict(fields) for fields in searcher.all_stored_fields()]


@pytest.fixture(scope="module")
def fields_client(index_dir: Path):  # type: ignore[no-untyped-def]
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()


@pytest.fixture(scope="module")
def openapi(fields_client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return fields_client.get("/api/openapi.json").get_json()


def search(client, **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/search", query_string={"per_page": "100", **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def filter_value(stored: list[dict[str, Any]], spec: schema.IndexField) -> str:
    """Return a value of the filter's field that some document has (one item of a list)."""
    for fields in stored:
        value = fields.get(spec.name)
        if value not in (None, ""):
            return str(value).split(",")[0] if isinstance(value, str) else str(value)
    raise AssertionError(f"no document has {spec.name}: give an entry of TREE a value for it")


# -- the index and its documents ------------------------------------------------------------


def test_every_field_is_in_the_index_on_disk_with_a_value(index_dir: Path, stored: list[dict[str, Any]]) -> None:
    from indexer.build import open_index

    ix = open_index(index_dir)
    assert set(ix.schema.names()) == {f.name for f in schema.FIELDS}
    with ix.searcher() as searcher:
        reader = searcher.reader()
        missing = []
        for f in schema.FIELDS:
            if ix.schema[f.name].stored:
                found = any(fields.get(f.name) not in (None, "") for fields in stored)
            else:  # searched only (english): its terms are in the index
                found = any(True for _ in reader.lexicon(f.name))
            if not found:
                missing.append(f.name)
    assert missing == [], f"no document of the test tree has these fields: {missing}"


def test_documents_of_an_entry_hold_what_it_has(tmp_path: Path) -> None:
    """An entry with every ruling field gets each in its document; a statute's articles get theirs."""
    from kb.entry import Entry
    from kb.links import StatuteResolver
    from kb.loader import load_all

    loaded = load_all([write_tree(tmp_path, TREE)])
    entries: dict[str, Entry] = {e.id: e for e in loaded.entries}
    resolver = StatuteResolver(loaded.entries, {})
    sources = schema.Sources(resolver, {e.id: e.title for e in loaded.entries}, frozenset({"shili-2019"}), "2024-01-01T00:00:00")
    docs = [doc for entry in entries.values() for doc in schema.make_documents(entry, sources)]
    with_value = {name for doc in docs for name, value in doc.items() if value not in (None, "")}
    assert with_value == {f.name for f in schema.FIELDS}
    ruling = schema.make_documents(entries[GUIDING], sources)[0]
    assert ruling["court_level"] == "基层" and ruling["charges"] == "侵犯公民个人信息罪,帮助信息网络犯罪活动罪" and ruling["statutes"] == "示例法#第一条"
    assert ruling["links_to"] == "personal-data-guide" and ruling["aliases"] == "old-guiding-case" and ruling["year"] == 2021
    articles = schema.make_documents(entries["shili-2019"], sources)[1:]
    assert [a["id"] for a in articles] == ["shili-2019#第一条", "shili-2019#第二条"]
    assert {a["superseded"] for a in articles} == {"yes"} and articles[0]["article_key"] == "示例法#第一条"
    assert "court" not in articles[0] and "meta" not in articles[0]  # entry-only fields stay off articles


# -- hits and the OpenAPI document ----------------------------------------------------------


def search_hits(client) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    hits = search(client, kind="entry")["results"] + search(client, kind="article")["results"]
    return hits + search(client, q="个人信息")["results"]


def test_every_shown_field_and_hit_value_reaches_the_api(fields_client) -> None:  # type: ignore[no-untyped-def]
    hits = search_hits(fields_client)
    shown = {name for hit in hits for name in hit}
    expected = set(schema.SHOWN_FIELDS) | {v.name for v in HIT_VALUES}
    assert expected - shown == set(), "hits never show these"
    assert shown - expected == set(), "hits show these undeclared values"


def test_the_openapi_document_describes_every_hit_value(fields_client, openapi: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    described = openapi["components"]["schemas"]["Hit"]["properties"]
    for hit in search_hits(fields_client):
        for name, value in hit.items():
            assert described.get(name, {}).get("description"), f"Hit.{name} is not described in /api/openapi.json"
            assert isinstance(value, JSON_TYPES[described[name]["type"]]), (name, value, described[name])


def test_similar_rulings_show_the_same_ruling_fields(fields_client, openapi: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    body = fields_client.post("/api/similar", json={"id": "typical-case"}).get_json()
    similar = {hit["id"]: hit for hit in body["results"]}
    assert GUIDING in similar
    as_search_hit = next(h for h in search(fields_client, kind="entry")["results"] if h["id"] == GUIDING)
    assert {k: v for k, v in similar[GUIDING].items() if k not in ("score", "explanation")} == \
        {k: v for k, v in as_search_hit.items() if k not in ("score", "snippet")}
    assert similar[GUIDING]["follow"] == "应当参照" and similar[GUIDING]["tier"] == "指导性案例"
    described = openapi["components"]["schemas"]["SimilarHit"]["properties"]
    assert set(similar[GUIDING]) <= set(described)
    assert set(similar[GUIDING]["explanation"]) <= set(described["explanation"]["properties"])


# -- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", schema.FILTER_FIELDS)
def test_every_filter_is_accepted_and_honoured_by_the_api(fields_client, stored, openapi, name: str) -> None:  # type: ignore[no-untyped-def]
    parameters = {p["name"]: p for p in openapi["paths"]["/api/search"]["get"]["parameters"]}
    assert parameters[name]["description"], f"/api/search's {name} is not described"
    value = filter_value(stored, schema.FILTERS[name])
    everything = search(fields_client, kind="entry")["total"] + search(fields_client, kind="article")["total"]
    found = search(fields_client, **{name: value})
    assert found["filters"] == {name: value}
    assert 0 < found["total"] < everything, f"{name}={value} does not narrow the results"
    assert search(fields_client, **{name: ABSENT.get(name, "没有这个值")})["total"] == 0


@pytest.mark.parametrize("name", schema.FILTER_FIELDS)
def test_every_filter_shows_on_the_search_page_and_is_recorded_for_the_report(fields_client, stored, name: str) -> None:  # type: ignore[no-untyped-def]
    value = filter_value(stored, schema.FILTERS[name])
    label = schema.FILTER_LABELS[name]
    html = fields_client.get("/search", query_string={name: value}).get_data(as_text=True)
    assert f'aria-label="取消筛选 {label}=' in html, f"the search page shows no {label} chip for {name}"
    record = html.split('id="report-record"', 1)[1].split(">", 1)[0]
    assert json.loads(record.split("data-filters='", 1)[1].split("'", 1)[0]) == {name: value}
    english = yaml.safe_load((ROOT / "webapp/translations/en.yaml").read_text(encoding="utf-8"))[label]
    html = fields_client.get("/search", query_string={name: value, "lang": "en"}).get_data(as_text=True)
    assert f"{english}={value}" in html or name == "type", f"the English page shows no {english} chip for {name}"


def test_every_facet_has_its_place_in_the_side_bar(fields_client) -> None:  # type: ignore[no-untyped-def]
    html = fields_client.get("/search", query_string={"kind": "entry"}).get_data(as_text=True)
    missing = [name for name in schema.FACETS if f'data-facet="{name}"' not in html]
    assert missing == []


def test_every_facet_counts_what_the_documents_hold(fields_client, stored) -> None:  # type: ignore[no-untyped-def]
    """Each facet, named by its filter, counts its field's values over the documents found: a list
    field (an array in hits) counts a document under each of its values; the year, rulings only."""
    facets = search(fields_client, kind="entry")["facets"]
    for name, field_name in schema.FACETS.items():
        listed = schema.FIELDS_BY_NAME[field_name].json_schema()["type"] == "array"
        expected: Counter[str] = Counter()
        for fields in stored:
            value = fields.get(field_name)
            if fields.get("kind") != "entry" or value in (None, "") or (name == "year" and fields.get("type") != "ruling"):
                continue
            expected.update(value.split(",") if listed else [str(value)])
        assert {item["value"]: item["count"] for item in facets.get(name, [])} == dict(expected), name
        assert expected, f"no entry of the test tree has {field_name}"
    assert sum(item["count"] for item in facets["charge"]) == 3  # two rulings, one of two charges


def test_every_filter_is_in_the_reports_search_log(fields_client, stored) -> None:  # type: ignore[no-untyped-def]
    filters = {name: filter_value(stored, spec) for name, spec in schema.FILTERS.items()}
    searches = json.dumps([{"time": "2024-06-01T02:03:04.000Z", "kind": "search", "query": "个人信息",
                            "filters": dict(filters, sort="precedent"), "total": 3}])
    response = fields_client.post("/report/export", data={"format": "html", "id": [GUIDING], "searches": searches})
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    missing = [name for name, value in filters.items() if f"{schema.FILTER_LABELS[name]}={value}" not in text]
    assert missing == [], f"the report's search log leaves out {missing}"
    assert "排序=precedent" in text
