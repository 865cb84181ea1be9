"""The engines compared in bench/perf.py, each with a build and a search over the same documents.

- ``ours``: indexer.build.build_index and indexer.search.SearchIndex, exactly as the app runs them
  (facet counts, highlights, query understanding included).
- ``naive``: Whoosh with ``jieba.analyse.ChineseAnalyzer`` and every default (writer settings,
  ``MultifieldParser`` over title/summary/body, ``search_page``); no facets, no highlights.
- ``fts5``: SQLite FTS5 (``unicode61``) over the same fields segmented by the same cut
  (sub-words included), bm25 ranking, a count for the total.
- ``tantivy``: tantivy-py over the same segmented text (its default tokenizer splits on spaces
  and punctuation), BM25, a count for the total. Skipped if tantivy is not installed.

Each engine indexes the documents ``indexer.build.entry_documents`` makes: one per entry and one per
statute article.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FILTER_COLUMNS = ("type", "level", "court", "year", "procedure", "kind")
TEXT_COLUMNS = ("title", "summary", "body")
PAGE_LENGTH = 10


def documents(dirs: list[Path]) -> Iterator[dict[str, Any]]:
    """Yield the index documents of every good entry below ``dirs`` (as the real build makes them)."""
    from indexer.build import entry_documents
    from kb.links import StatuteResolver, load_repealed
    from kb.loader import load_all

    loaded = load_all(dirs, include_drafts=False)
    resolver = StatuteResolver(loaded.entries, load_repealed(dirs))
    titles = {e.id: e.title for e in loaded.entries}
    for entry in loaded.entries:
        yield from entry_documents(entry, resolver, titles)


def flat(doc: dict[str, Any]) -> dict[str, str]:
    """Return the fields every engine indexes, as strings."""
    out = {name: str(doc.get(name) or "") for name in ("id", "case_number", *FILTER_COLUMNS, *TEXT_COLUMNS)}
    return out


def segmented(text: str) -> str:
    """Return ``text`` as space-separated words: the project's cut, sub-words included."""
    from indexer.analyzer import normalize, segment

    return " ".join(word for word, *_ in segment(normalize(text), subwords=True))


# -- naive Whoosh --------------------------------------------------------------------------------

def build_naive(dirs: list[Path], out: Path) -> dict[str, Any]:
    """Build Whoosh + jieba.analyse.ChineseAnalyzer with default settings."""
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    jieba.initialize()  # as the other engines, load the dictionary before the clock starts
    analyzer = ChineseAnalyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), case_number=fields.ID(stored=True),
        **{name: fields.ID(stored=True) for name in FILTER_COLUMNS},
        **{name: fields.TEXT(stored=True, analyzer=analyzer) for name in TEXT_COLUMNS},
    )
    started = time.perf_counter()
    ix = index.create_in(str(out), schema)
    writer = ix.writer()
    count = 0
    for doc in documents(dirs):
        writer.add_document(**flat(doc))
        count += 1
    writer.commit()
    return {"seconds": time.perf_counter() - started, "documents": count}


class NaiveSearch:
    """Search the naive index the default way: parse with MultifieldParser, search_page."""

    def __init__(self, out: Path) -> None:
        import jieba
        from whoosh import index
        from whoosh.qparser import MultifieldParser

        jieba.initialize()
        self.ix = index.open_dir(str(out))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(list(TEXT_COLUMNS), schema=self.ix.schema)

    def search(self, q: str, filters: dict[str, str], page: int) -> int:
        """Run one query; return the total."""
        from whoosh import query as wq

        parsed = self.parser.parse(q) if q else wq.Every()
        flt = wq.And([wq.Term(k, v) for k, v in filters.items()]) if filters else None
        results = self.searcher.search_page(parsed, page, pagelen=PAGE_LENGTH, filter=flt)
        for hit in results:
            hit["title"]
        return results.total


# -- SQLite FTS5 ---------------------------------------------------------------------------------

def build_fts5(dirs: list[Path], out: Path) -> dict[str, Any]:
    """Build an FTS5 table over segmented text (segmentation time included)."""
    from indexer.analyzer import initialize

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    initialize()
    started = time.perf_counter()
    db = sqlite3.connect(out / "fts.db")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    columns = ", ".join([f"{c} UNINDEXED" for c in ("id", "case_number", *FILTER_COLUMNS)] + list(TEXT_COLUMNS))
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5({columns}, tokenize='unicode61')")
    count = 0
    rows = []
    for doc in documents(dirs):
        row = flat(doc)
        for name in TEXT_COLUMNS:
            row[name] = segmented(row[name])
        rows.append(tuple(row.values()))
        count += 1
        if len(rows) >= 5000:
            db.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * len(rows[0]))})", rows)
            rows.clear()
    if rows:
        db.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * len(rows[0]))})", rows)
    db.commit()
    db.execute("INSERT INTO docs(docs) VALUES('optimize')")
    db.commit()
    db.close()
    return {"seconds": time.perf_counter() - started, "documents": count}


def query_words(q: str) -> list[str]:
    """Return the query's words, cut the same way as the documents."""
    from indexer.analyzer import query_terms

    return [w for w in query_terms(q) if any(ch.isalnum() for ch in w)]


class Fts5Search:
    """Search the FTS5 table: all words (any word if none matches all), bm25 order, a count."""

    def __init__(self, out: Path) -> None:
        from indexer.analyzer import initialize

        initialize()
        self.db = sqlite3.connect(out / "fts.db", check_same_thread=False)

    def search(self, q: str, filters: dict[str, str], page: int) -> int:
        """Run one query; return the total."""
        words = query_words(q)
        where = " AND ".join(f"{k} = ?" for k in filters)
        args = list(filters.values())
        if not words:
            sql_where = f"WHERE {where}" if where else ""
            total = self.db.execute(f"SELECT count(*) FROM docs {sql_where}", args).fetchone()[0]
            self.db.execute(f"SELECT id, title FROM docs {sql_where} LIMIT ? OFFSET ?", [*args, PAGE_LENGTH, (page - 1) * PAGE_LENGTH]).fetchall()
            return total
        total = 0
        for joiner in (" ", " OR "):
            match = joiner.join('"' + w.replace('"', '""') + '"' for w in words)
            extra = f" AND {where}" if where else ""
            total = self.db.execute(f"SELECT count(*) FROM docs WHERE docs MATCH ?{extra}", [match, *args]).fetchone()[0]
            if total or len(words) == 1:
                break
        self.db.execute(f"SELECT id, title FROM docs WHERE docs MATCH ?{extra} ORDER BY rank LIMIT ? OFFSET ?",
                        [match, *args, PAGE_LENGTH, (page - 1) * PAGE_LENGTH]).fetchall()
        return total


# -- tantivy -------------------------------------------------------------------------------------

def tantivy_available() -> bool:
    """Return whether tantivy-py is installed."""
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def _tantivy_schema():  # type: ignore[no-untyped-def]
    import tantivy

    builder = tantivy.SchemaBuilder()
    for name in ("id", "case_number", *FILTER_COLUMNS):
        builder.add_text_field(name, stored=True, tokenizer_name="raw")
    for name in TEXT_COLUMNS:
        builder.add_text_field(name, stored=True, tokenizer_name="default")
    return builder.build()


def build_tantivy(dirs: list[Path], out: Path) -> dict[str, Any]:
    """Build a tantivy index over segmented text (segmentation time included), one writer thread."""
    import tantivy

    from indexer.analyzer import initialize

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    initialize()
    started = time.perf_counter()
    index = tantivy.Index(_tantivy_schema(), path=str(out))
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    count = 0
    for doc in documents(dirs):
        row = flat(doc)
        for name in TEXT_COLUMNS:
            row[name] = segmented(row[name])
        writer.add_document(tantivy.Document(**{k: [v] for k, v in row.items()}))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return {"seconds": time.perf_counter() - started, "documents": count}


class TantivySearch:
    """Search tantivy: every word must match in some text field (any word if none matches all)."""

    def __init__(self, out: Path) -> None:
        import tantivy

        from indexer.analyzer import initialize

        initialize()
        self.tantivy = tantivy
        self.index = tantivy.Index.open(str(out))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def _word(self, word: str):  # type: ignore[no-untyped-def]
        t = self.tantivy
        return t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self.schema, name, word)) for name in TEXT_COLUMNS])

    def search(self, q: str, filters: dict[str, str], page: int) -> int:
        """Run one query; return the total."""
        t = self.tantivy
        words = [w.lower() for w in query_words(q)]
        flt = [(t.Occur.Must, t.Query.term_query(self.schema, k, v)) for k, v in filters.items()]
        total = 0
        for occur in (t.Occur.Must, t.Occur.Should):
            if words:
                text = t.Query.boolean_query([(occur, self._word(w)) for w in words])
                query = t.Query.boolean_query([(t.Occur.Must, text), *flt])
            else:
                query = t.Query.boolean_query(flt) if flt else t.Query.all_query()
            result = self.searcher.search(query, limit=PAGE_LENGTH, count=True, offset=(page - 1) * PAGE_LENGTH)
            total = result.count or 0
            if total or len(words) < 2:
                break
        for _score, address in result.hits:
            self.searcher.doc(address)
        return total


# -- ours ----------------------------------------------------------------------------------------

def build_ours(dirs: list[Path], out: Path) -> dict[str, Any]:
    """Build the project's index (a clean full build)."""
    from indexer.analyzer import initialize, segmenter
    from indexer.build import build_index

    shutil.rmtree(out, ignore_errors=True)
    initialize()
    started = time.perf_counter()
    report = build_index(list(dirs), out, clean=True)
    return {"seconds": time.perf_counter() - started, "documents": report.documents, "entries": report.entries,
            "problems": len(report.problems), "segmenter": segmenter()}


class OursSearch:
    """Search with the app's SearchIndex (facets, highlights and query understanding included)."""

    def __init__(self, out: Path) -> None:
        from indexer.search import SearchIndex

        self.index = SearchIndex(out)

    def search(self, q: str, filters: dict[str, str], page: int) -> int:
        """Run one query; return the total."""
        return self.index.search(q, filters=filters, page=page).total


def _proposed(out: Path):  # type: ignore[no-untyped-def]
    from bench.proposals import ProposedSearch

    return ProposedSearch(out)


BUILDERS = {"ours": build_ours, "naive": build_naive, "fts5": build_fts5, "tantivy": build_tantivy}
SEARCHERS = {"ours": OursSearch, "naive": NaiveSearch, "fts5": Fts5Search, "tantivy": TantivySearch, "proposed": _proposed}
