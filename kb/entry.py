"""Entries: one Markdown file each, a ruling, a guideline or a statute."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# A source that names the corpus file an imported entry was made from: corpus file: <corpus>/<file>.
CORPUS_FILE = "corpus file:"
ARTICLE_START = re.compile(r"^(第[一二三四五六七八九十百千零〇两\d]+条(?:之[一二三四五六七八九十]+)?)[ \u3000]")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
ANCHORED_HEADING = re.compile(r"^#{2,4}[ \t]+(.+?)[ \t#]*$", re.M)  # h2-h4 keep their id through the sanitiser


def heading_anchor(text: str, separator: str = "-") -> str:
    """Return the anchor of a heading: its text, with spaces as '-' (## 举证 清单 -> #举证-清单)."""
    return re.sub(r"\s+", separator, text.strip())


@dataclass(frozen=True)
class Article:
    """One article (条) of a statute: its label, number, heading path and text."""

    label: str
    number: int
    text: str
    chapter: str = ""


@dataclass(frozen=True)
class Entry:
    """A validated entry. Field values are already converted; absent fields are None or ()."""

    id: str
    type: str
    title: str
    path: str
    body: str = ""
    body_line: int = 1
    content_hash: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    title_en: str | None = None
    summary: str | None = None
    summary_en: str | None = None
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    status: str = "published"
    related: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    statutes: tuple[str, ...] = ()
    court: str | None = None
    case_number: str | None = None
    decided_on: str | None = None
    cause: str | None = None
    charges: tuple[str, ...] = ()
    procedure: str | None = None
    authority: str | None = None
    treatment: str | None = None
    holding: str | None = None
    issued_by: str | None = None
    issued_on: str | None = None
    short_title: str | None = None
    part: str | None = None
    category: str | None = None
    level: str | None = None
    version_on: str | None = None
    version_note: str | None = None
    effective_on: str | None = None
    history: tuple[str, ...] = ()
    source_file: str | None = None

    @property
    def date(self) -> str | None:
        """Return the date that places the entry in time: decided, issued or version date."""
        return self.decided_on or self.issued_on or self.version_on or self.effective_on

    @property
    def year(self) -> int | None:
        """Return the year of ``date``."""
        return int(self.date[:4]) if self.date else None

    @property
    def is_corpus_copy(self) -> bool:
        """Return True for an entry whose text is a corpus file's, kept as it is (its sources are all
        ``corpus file:``): an imported judgment. Its citations and case number are the court's own
        words, which no editor can correct in the entry (kb.links.check_links)."""
        return bool(self.sources) and all(s.startswith(CORPUS_FILE) for s in self.sources)

    @property
    def is_draft(self) -> bool:
        """Return True for entries not yet published."""
        return self.status == "draft"

    @property
    def articles(self) -> list[Article]:
        """Return the statute's articles, in order (empty for other types)."""
        return list(self._articles)

    @cached_property
    def _articles(self) -> tuple[Article, ...]:
        # Split once per entry: the body never changes, and a statute corpus holds 150,000 articles.
        return tuple(split_articles(self.body)) if self.type == "statute" else ()

    @cached_property
    def article_labels(self) -> frozenset[str]:
        """Return the labels of the statute's articles (第一条, 第十七条之一, ...)."""
        return frozenset(a.label for a in self._articles)

    @property
    def heading_anchors(self) -> frozenset[str]:
        """Return the anchors of the body's level 2-4 headings, as the entry page renders them."""
        body = re.sub(r"```.*?```", "", self.body, flags=re.S)
        return frozenset(heading_anchor(re.sub(r"[*_`]", "", m.group(1))) for m in ANCHORED_HEADING.finditer(body))

    def __getstate__(self) -> dict[str, Any]:
        # Pickle the fields and the small cached labels; the articles are split again on demand.
        return {k: v for k, v in self.__dict__.items() if k != "_articles"}

    def line_of(self, name: str) -> int:
        """Return the file line of front-matter field ``name`` (1 if it is absent)."""
        return self.lines.get(name, 1)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry's fields as plain JSON-ready values (no body, no lines)."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name in ("lines", "body", "body_line", "content_hash"):
                continue
            value = getattr(self, name)
            if value is None or value == ():
                continue
            data[name] = list(value) if isinstance(value, tuple) else value
        return data


def split_articles(body: str) -> list[Article]:
    """Split a statute body into articles: a paragraph starting 第X条 opens one."""
    from kb.citations import parse_article_label

    articles: list[Article] = []
    chapter = ""
    current: list[str] | None = None
    label = ""

    def close() -> None:
        if current is not None:
            articles.append(Article(label, parse_article_label(label), "\n\n".join(current).strip(), chapter))

    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        heading = HEADING.match(paragraph)
        if heading:
            close()
            current = None
            chapter = heading.group(2).strip()
            continue
        start = ARTICLE_START.match(paragraph + " ")
        if start:
            close()
            label = start.group(1)
            current = [paragraph]
        elif current is not None:
            current.append(paragraph)
    close()
    return articles
