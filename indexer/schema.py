"""The Whoosh schema: one document per entry, plus one per statute article."""

from __future__ import annotations

from whoosh import fields
from whoosh.analysis import StemmingAnalyzer

from indexer.analyzer import ChineseAnalyzer

SCHEMA_VERSION = "6"  # 6: charges
# Columns read as arrays (indexer/docsets.py): facets, and what the ranking reads for its candidates.
FACET_FIELDS = ("type", "court", "court_level", "cause", "year", "procedure", "authority", "level")
RANK_FIELDS = ("kind", "parent_id", "article_key", "text_hash", "level", "superseded", "authority", "year")
SCORED_FIELDS = ("title", "summary", "body", "tags", "english")  # their lengths feed BM25F


def make_schema() -> fields.Schema:
    """Return the schema.

    Facet fields, and the fields the ranking reads for its 200 candidates (kind, parent_id,
    article_key, text_hash, level, superseded, authority, year), are sortable: their values are
    columns, read without unpickling stored documents. Numbers are matched exactly and sorted,
    never searched by range, so they index one term (``shift_step=0``) instead of Whoosh's 7-16
    tiers; fields only shown, never searched, are stored only. Both cut postings per article
    document by about a quarter (bench/notes.md).
    """
    chinese = ChineseAnalyzer()
    date = fields.DATETIME(stored=True, sortable=True)
    date.shift_step = 0  # DATETIME's constructor does not take it
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True, sortable=True),  # "entry" or "article"
        parent_id=fields.ID(stored=True, sortable=True),
        path=fields.ID(stored=True),
        content_hash=fields.STORED(),
        markdown=fields.STORED(),  # the entry's Markdown body, rendered on its page
        meta=fields.STORED(),  # the entry's front matter as JSON
        links=fields.STORED(),  # citation key -> 'statute-id#第X条', resolved at build time
        links_to=fields.KEYWORD(stored=True, commas=True),  # ids named by [[links]] and related
        aliases=fields.KEYWORD(stored=True, commas=True),
        type=fields.ID(stored=True, sortable=True),
        title=fields.TEXT(analyzer=chinese, stored=True, field_boost=4.0),
        english=fields.TEXT(analyzer=StemmingAnalyzer(), stored=False, field_boost=2.0),
        summary=fields.TEXT(analyzer=chinese, stored=True, field_boost=2.0),
        body=fields.TEXT(analyzer=chinese, stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=True, lowercase=True, field_boost=3.0),
        court=fields.ID(stored=True, sortable=True),
        cause=fields.ID(stored=True, sortable=True),
        charges=fields.KEYWORD(stored=True, commas=True),  # 罪名 of criminal judgments (similar's charge signal)
        procedure=fields.ID(stored=True, sortable=True),
        authority=fields.ID(stored=True, sortable=True),
        court_level=fields.ID(stored=True, sortable=True),
        treatment=fields.ID(stored=True),
        status=fields.STORED(),
        year=fields.NUMERIC(stored=True, sortable=True, shift_step=0),
        date=date,
        case_number=fields.ID(stored=True),
        statutes=fields.KEYWORD(stored=True, commas=True),
        article=fields.ID(stored=True),
        article_no=fields.NUMERIC(stored=True, sortable=True, shift_step=0),
        article_key=fields.ID(stored=True, sortable=True),  # '电子商务法#第十七条' on article documents
        text_hash=fields.ID(stored=True, sortable=True),  # same article text (a restatement or another version)
        superseded=fields.ID(stored=True, sortable=True),  # 'yes' on older versions of a statute
        updated=fields.ID(stored=True, sortable=True),  # ISO time of the file's last change (git, else mtime)
        level=fields.ID(stored=True, sortable=True),
        short_title=fields.STORED(),
        source_file=fields.STORED(),
        version_on=fields.STORED(),
    )
