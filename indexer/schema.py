"""The index fields, each declared once in ``FIELDS``; the rest is derived from the declarations.

One :class:`IndexField` says what kind of Whoosh field it is, what value it takes in the document
of an entry and of each statute article (:func:`make_documents`), what a search hit shows of it
(:func:`shown_values`, for ``indexer.hits.Hit``), how the API describes it (``webapp/openapi.py``),
and whether it is a filter (with its label on the search page and in the report's search log), a
facet, or a column the ranking reads. Adding a field is adding a line here; tests/test_fields.py
checks that every field reaches the index, the documents, the hits, the OpenAPI document and the
filters, as Datasette's docs tests check that every setting is documented.

Facets and filters are listed in the order of ``FIELDS``: the order the search page and the API
list them in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from whoosh import fields
from whoosh.analysis import StemmingAnalyzer

from indexer.analyzer import ChineseAnalyzer
from kb.entry import Article, Entry
from kb.fields import ENTRY_TYPES
from kb.links import StatuteResolver, citation_keys, wiki_links
from kb.render import plain_text

SCHEMA_VERSION = "6"  # 6: charges


def N_(text: str) -> str:  # noqa: N802 - the name babel extracts by default (babel.cfg)
    """Mark a label for translation: the web app translates it when it shows it."""
    return text


@dataclass(frozen=True)
class Sources:
    """What an entry's documents take from other entries (``indexer.build.dependency_key`` hashes it)."""

    resolver: StatuteResolver
    titles: Mapping[str, str] | None = None  # entry id -> title, for the words of [[links]]
    superseded: frozenset[str] | set[str] = frozenset()  # ids of statute versions a newer one replaces
    updated: str | None = None  # ISO time of the file's last change


EntryValue = Callable[[Entry, Sources], Any]
ArticleValue = Callable[[Entry, Article, Sources], Any]
ShownValue = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]  # (stored fields, front matter) -> value
STRING: dict[str, Any] = {"type": "string"}
ATTRIBUTE = "attribute"  # ``entry``: the Entry attribute of the field's name
SAME = "same"  # ``article``: the value of the entry's own document


@dataclass(frozen=True)
class IndexField:
    """One field of the index, and everything that follows from it."""

    name: str
    whoosh: Callable[[], fields.FieldType]
    description: str
    entry: EntryValue | str | None = ATTRIBUTE  # its value in the entry's document; None: absent there
    article: ArticleValue | str | None = None  # in each statute article's: SAME, its own, or None (absent)
    shown: bool | ShownValue = False  # in hits: True shows the stored value; a function computes it
    schema: Mapping[str, Any] | None = None  # the OpenAPI schema of the value a hit shows (default: a string)
    filter: str | None = None  # the /api/search filter on this field (its query parameter)
    label: str = ""  # what the search page and the report's search log call the filter
    facet: bool = False  # counted for the search page's side bar (a list: a document under each of its values)
    rank: bool = False  # a column the ranking reads for its 200 candidates

    def json_schema(self) -> dict[str, Any]:
        """Return the OpenAPI schema of the field's value, with its description."""
        return {**(self.schema or STRING), "description": self.description}

    def filter_schema(self) -> dict[str, Any]:
        """Return the OpenAPI schema of one value of the field's filter (one item of a list field)."""
        schema = self.schema or STRING
        return dict(schema.get("items", schema))


# -- kinds of Whoosh field ----------------------------------------------------------------------
# Facet fields, and the fields the ranking reads for its candidates, are sortable: their values are
# columns, read without unpickling stored documents; a list facet (charges) is counted from its terms
# instead, a document under each of its values. Numbers are matched exactly and sorted, never
# searched by range, so they index one term (shift_step=0) instead of Whoosh's 7-16 tiers; fields
# only shown, never searched, are stored only. Both cut postings per article document by about a
# quarter (bench/notes.md).


def stored() -> fields.FieldType:
    """Return a field kept for showing, never searched."""
    return fields.STORED()


def exact() -> fields.FieldType:
    """Return a field matched as one whole term."""
    return fields.ID(stored=True)


def column() -> fields.FieldType:
    """Return a field matched as one whole term and read as a column (facets, ranking, sorting)."""
    return fields.ID(stored=True, sortable=True)


def listed() -> fields.FieldType:
    """Return a comma-separated list, each item matched as a whole."""
    return fields.KEYWORD(stored=True, commas=True)


def number() -> fields.FieldType:
    """Return a whole number, matched exactly and sorted."""
    return fields.NUMERIC(stored=True, sortable=True, shift_step=0)


def day() -> fields.FieldType:
    """Return a date, sorted."""
    date = fields.DATETIME(stored=True, sortable=True)
    date.shift_step = 0  # DATETIME's constructor does not take it
    return date


def chinese(boost: float = 1.0) -> Callable[[], fields.FieldType]:
    """Return a Chinese text field searched word by word, weighted ``boost`` in BM25F."""
    return lambda: fields.TEXT(analyzer=ChineseAnalyzer(), stored=True, field_boost=boost)


# -- values -------------------------------------------------------------------------------------


def to_datetime(date: str | None) -> dt.datetime | None:
    """Return a date ('2021', '2021-03' or '2021-03-01') as a datetime at its first day."""
    if not date:
        return None
    parts = [int(p) for p in date.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return dt.datetime(parts[0], parts[1], parts[2])


def court_level(entry: Entry) -> str:
    """Return the level of the deciding court (最高, 高级, 中级, 基层) from the case number or the court's name."""
    if entry.case_number:
        from kb.casenumber import CaseNumberError, parse_case_number

        try:
            level = parse_case_number(entry.case_number).court_level
            if level:
                return level
        except CaseNumberError:
            pass
    name = entry.court or ""
    for marker, level in (("最高人民法院", "最高"), ("高级人民法院", "高级"), ("中级人民法院", "中级"), ("知识产权法院", "中级"),
                          ("互联网法院", "基层"), ("人民法院", "基层")):
        if marker in name:
            return level
    return ""


def text_hash(article: Article) -> str:
    """Return a hash of an article's text without its label and white space: the same in a restatement or another version."""
    return hashlib.sha1(re.sub(r"\s+", "", article.text.split(" ", 1)[-1]).encode()).hexdigest()[:16]


def _hit_title(stored: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    title = stored.get("title", "")
    return f"{title} {stored.get('article', '')}" if stored.get("kind") == "article" else title


def _hit_date(stored: Mapping[str, Any], meta: Mapping[str, Any]) -> str | None:
    date = stored.get("date")
    return (meta.get("decided_on") or meta.get("issued_on") or meta.get("version_on")
            or (date.date().isoformat() if date else None))


def _comma_list(name: str) -> ShownValue:
    return lambda stored, meta: [t for t in (stored.get(name) or "").split(",") if t]


TYPES = {"type": "string", "enum": list(ENTRY_TYPES)}
KINDS = {"type": "string", "enum": ["entry", "article"]}
TEXTS = {"type": "array", "items": {"type": "string"}}

FIELDS: tuple[IndexField, ...] = (
    # Facets, in the order of the search page's side bar; each is a filter too.
    IndexField("type", column, "ruling, guideline or statute.", article=SAME, shown=lambda s, m: s.get("type", ""),
               schema=TYPES, filter="type", label=N_("类型"), facet=True),
    IndexField("court", column, "The court that decided the ruling.", shown=True, filter="court", label=N_("法院"), facet=True),
    IndexField("court_level", column, "Level of the deciding court: 最高, 高级, 中级 or 基层 (from the case number or the court).",
               entry=lambda e, s: court_level(e), shown=True, filter="court_level", label=N_("法院层级"), facet=True),
    IndexField("cause", column, "案由, the cause of action; as a filter it takes the causes below it in the tree too.",
               shown=True, filter="cause", label=N_("案由"), facet=True),
    # A list: a judgment convicted of two charges counts under each.
    IndexField("charges", listed, "罪名 of a criminal judgment (similar rulings match them too); as a filter, one charge.",
               entry=lambda e, s: ",".join(e.charges), shown=_comma_list("charges"), schema=TEXTS,
               filter="charge", label=N_("罪名"), facet=True),
    IndexField("year", number, "Year of the entry's date; as a filter, the year a ruling was decided (rulings only), e.g. 2021.",
               article=SAME, schema={"type": "integer"}, filter="year", label=N_("裁判年份"), facet=True, rank=True),
    IndexField("procedure", column, "一审, 二审 or 再审.", shown=True, filter="procedure", label=N_("程序"), facet=True),
    IndexField("authority", column, "Rulings: 指导性案例, 典型案例, 参考案例 or 其他.", shown=True,
               filter="authority", label=N_("权威层级"), facet=True, rank=True),
    IndexField("level", column, "Statutes: 法律, 行政法规, 司法解释, 部门规章 or 地方性法规.", article=SAME,
               filter="level", label=N_("效力层级"), facet=True, rank=True),
    # Other filters.
    IndexField("tags", lambda: fields.KEYWORD(stored=True, commas=True, scorable=True, lowercase=True, field_boost=3.0),
               "Keywords; as a filter, one tag.", entry=lambda e, s: ",".join(e.tags), article=SAME,
               shown=_comma_list("tags"), schema=TEXTS, filter="tags", label=N_("标签")),
    IndexField("statutes", listed, "Articles the entry cites, as law#article, e.g. 电子商务法#第十七条.",
               entry=lambda e, s: ",".join(citation_keys(e)), schema=TEXTS, filter="statute", label=N_("法条")),
    IndexField("kind", column, "'entry' for a whole entry, 'article' for a statute article.",
               entry=lambda e, s: "entry", article=lambda e, a, s: "article", shown=lambda s, m: s.get("kind", "entry"),
               schema=KINDS, filter="kind", label=N_("文档"), rank=True),
    # Searched text; the lengths of these fields feed BM25F.
    IndexField("title", chinese(4.0), "Title; a statute article's adds its label (第十七条).", article=SAME, shown=_hit_title),
    IndexField("english", lambda: fields.TEXT(analyzer=StemmingAnalyzer(), stored=False, field_boost=2.0),
               "English title and summary, searched only.", entry=lambda e, s: " ".join(x for x in (e.title_en, e.summary_en) if x)),
    IndexField("summary", chinese(2.0), "Summary; a statute article's chapter.", article=lambda e, a, s: a.chapter),
    # A statute's text is indexed article by article; its own document carries the title.
    IndexField("body", chinese(), "The text, links written out as their titles.",
               entry=lambda e, s: "" if e.type == "statute" else plain_text(e.body, s.titles), article=lambda e, a, s: a.text),
    # Identity, and what the ranking reads.
    IndexField("id", lambda: fields.ID(stored=True, unique=True), "The entry id; a statute article's is id#label.",
               article=lambda e, a, s: f"{e.id}#{a.label}", shown=lambda s, m: s.get("id", "")),
    IndexField("parent_id", column, "The statute a statute article belongs to.", entry=lambda e, s: e.id, article=SAME,
               shown=lambda s, m: s.get("parent_id") if s.get("kind") == "article" else None, rank=True),
    IndexField("article", exact, "A statute article's label, e.g. 第十七条.", entry=None, article=lambda e, a, s: a.label, shown=True),
    IndexField("article_no", number, "A statute article's number, for ordering.", entry=None, article=lambda e, a, s: a.number),
    IndexField("article_key", column, "A statute article as citations name it: 电子商务法#第十七条.", entry=None,
               article=lambda e, a, s: f"{e.short_title or e.title}#{a.label}", rank=True),
    IndexField("text_hash", column, "Same article text (a restatement or another version) has the same hash.",
               entry=None, article=lambda e, a, s: text_hash(a), rank=True),
    IndexField("superseded", column, "Statutes: an older version, which a newer version replaces (stored as 'yes').",
               entry=lambda e, s: "yes" if e.id in s.superseded else "", article=SAME,
               shown=lambda s, m: bool(s.get("superseded")), schema={"type": "boolean"}, rank=True),
    IndexField("date", day, "The date that places the entry in time: decided, issued or version date (YYYY-MM-DD, or YYYY-MM, YYYY).",
               entry=lambda e, s: to_datetime(e.date), article=SAME, shown=_hit_date),
    IndexField("updated", column, "When the entry's file last changed (ISO time; git, else the file's time), for feeds.",
               entry=lambda e, s: s.updated, shown=True),
    # Ruling details.
    IndexField("case_number", exact, "案号, e.g. （2019）京0491民初2547号.", shown=True),
    IndexField("treatment", exact, "overturned or superseded, when a later decision displaced the ruling.", shown=True),
    # Links between entries.
    IndexField("links_to", listed, "Ids the entry names by [[links]] and related.",
               entry=lambda e, s: ",".join(dict.fromkeys([*e.related, *(link.target for link in wiki_links(e))]))),
    IndexField("aliases", listed, "Old ids that redirect to the entry.", entry=lambda e, s: ",".join(e.aliases)),
    IndexField("links", stored, "Citation key -> 'statute-id#第X条', resolved at build time (JSON).",
               entry=lambda e, s: json.dumps(s.resolver.links(e), ensure_ascii=False)),
    # Stored for the pages.
    IndexField("path", exact, "The entry's file, as the build saw it.", article=SAME),
    IndexField("content_hash", stored, "Hash of the entry's file."),
    IndexField("markdown", stored, "The entry's Markdown body, rendered on its page.", entry=lambda e, s: e.body),
    IndexField("meta", stored, "The entry's front matter (JSON).", entry=lambda e, s: json.dumps(e.to_dict(), ensure_ascii=False)),
    IndexField("status", stored, "published or draft.", article=SAME),
    IndexField("short_title", stored, "A statute's title without 中华人民共和国.", article=SAME),
    IndexField("source_file", stored, "A statute's file in its corpus.", article=SAME, shown=True),
    IndexField("version_on", stored, "A statute version's date.", article=SAME, shown=True),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}

# Derived lists.
FACET_FIELDS = tuple(f.name for f in FIELDS if f.facet)
FACETS = {f.filter: f.name for f in FIELDS if f.facet and f.filter}  # the side bar's facets: filter parameter -> field counted
# Columns read as arrays (indexer/docsets.py): facets, and what the ranking reads for its candidates.
RANK_FIELDS = tuple(f.name for f in FIELDS if f.rank)
FILTER_FIELDS = tuple(f.filter for f in FIELDS if f.filter)  # /api/search's filters, by parameter name
FILTERS = {f.filter: f for f in FIELDS if f.filter}
FILTER_LABELS = {f.filter: f.label for f in FIELDS if f.filter}
SHOWN_FIELDS = tuple(f.name for f in FIELDS if f.shown)
# Their lengths feed BM25F.
SCORED_FIELDS = tuple(f.name for f in FIELDS if isinstance(f.whoosh(), (fields.TEXT, fields.KEYWORD)) and f.whoosh().scorable)


def make_schema() -> fields.Schema:
    """Return the Whoosh schema of ``FIELDS``."""
    return fields.Schema(**{f.name: f.whoosh() for f in FIELDS})


def _entry_value(f: IndexField) -> EntryValue:
    if f.entry == ATTRIBUTE:
        name = f.name
        return lambda entry, sources: getattr(entry, name)
    return f.entry  # type: ignore[return-value]


_ENTRY_VALUES = tuple((f.name, _entry_value(f)) for f in FIELDS if f.entry is not None)
_ARTICLE_SAME = tuple(f.name for f in FIELDS if f.article == SAME)
_ARTICLE_VALUES = tuple((f.name, f.article) for f in FIELDS if callable(f.article))
_SHOWN = tuple((f.name, f.shown if callable(f.shown) else None) for f in FIELDS if f.shown)


def make_documents(entry: Entry, sources: Sources) -> list[dict[str, Any]]:
    """Return the index documents of one entry: the entry itself and, for statutes, each article.

    Empty values are left out: an article has no court, cause or case number, and Whoosh would
    otherwise index an empty term for each.
    """
    doc = {}
    for name, value_of in _ENTRY_VALUES:
        value = value_of(entry, sources)
        if value is not None and value != "":
            doc[name] = value
    docs = [doc]
    for article in entry.articles:
        part = {name: doc[name] for name in _ARTICLE_SAME if name in doc}
        for name, value_of in _ARTICLE_VALUES:
            value = value_of(entry, article, sources)  # type: ignore[operator]
            if value is not None and value != "":
                part[name] = value
        docs.append(part)
    return docs


def shown_values(stored: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a hit shows of a stored document (``meta``: its front matter), by field name; None when empty."""
    return {name: read(stored, meta) if read else stored.get(name) or None for name, read in _SHOWN}
