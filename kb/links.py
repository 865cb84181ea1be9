"""Links between entries: statute citations, ``[[wiki-links]]``, ``related`` ids and aliases.

Resolution happens at build time, where every entry is known; the index stores each entry's
resolved links so the web app never needs the content folder.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.citations import Citation, CitationError, extract_citations, law_name, parse_citation, short_title
from kb.entry import Entry
from kb.problems import Problem

WIKI_LINK = re.compile(r"\[\[([^\]\|#\n]+)(?:#([^\]\|\n]+))?(?:\|([^\]\n]+))?\]\]")


@dataclass(frozen=True)
class WikiLink:
    """A ``[[id#anchor|label]]`` link in an entry's body."""

    target: str
    anchor: str | None
    label: str | None
    line: int


def citation_key(citation: Citation) -> str:
    """Return the key that names the cited article, e.g. '电子商务法#第十七条'."""
    return f"{short_title(citation.law)}#{citation.label}"


def cited(entry: Entry) -> list[tuple[Citation, int]]:
    """Return the entry's citations (front matter first, then body) with their file lines, no repeats."""
    found: dict[str, tuple[Citation, int]] = {}
    for text in entry.statutes:
        try:
            citation = parse_citation(text)
        except CitationError:
            continue
        found.setdefault(citation_key(citation), (citation, entry.line_of("statutes")))
    if entry.type != "statute":
        for match in extract_citations(entry.body):
            line = entry.body_line + entry.body.count("\n", 0, match.start)
            found.setdefault(citation_key(match.citation), (match.citation, line))
    return list(found.values())


def citation_keys(entry: Entry) -> list[str]:
    """Return the keys of every article the entry cites."""
    return [citation_key(c) for c, _line in cited(entry)]


def wiki_links(entry: Entry) -> list[WikiLink]:
    """Return the ``[[...]]`` links in the entry's body."""
    links = []
    for match in WIKI_LINK.finditer(entry.body):
        line = entry.body_line + entry.body.count("\n", 0, match.start())
        target, anchor, label = (g.strip() if g else None for g in match.groups())
        links.append(WikiLink(target or "", anchor, label, line))
    return links


def load_repealed(content_dirs: Iterable[Path]) -> dict[str, dict]:
    """Return the repealed laws listed in ``_data/repealed.yaml``: short title -> details."""
    repealed: dict[str, dict] = {}
    for root in content_dirs:
        path = root / "_data" / "repealed.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for title, details in (data.get("repealed") or {}).items():
                repealed[short_title(str(title))] = details or {}
    return repealed


class StatuteResolver:
    """Find the statute entry and article a citation names: the version in force on the citing entry's date, else the nearest."""

    def __init__(self, entries: Iterable[Entry], repealed: dict[str, dict] | None = None) -> None:
        self.repealed = repealed or {}
        by_title: dict[str, list[Entry]] = defaultdict(list)
        self.labels: dict[str, frozenset[str]] = {}
        for entry in entries:
            if entry.type != "statute":
                continue
            by_title[short_title(entry.short_title or entry.title)].append(entry)
            self.labels[entry.id] = entry.article_labels  # computed once per entry, kept with it
        self.by_title = {t: sorted(es, key=lambda e: e.version_on or "", reverse=True) for t, es in by_title.items()}
        self.by_name: dict[str, list[tuple[frozenset[str], str]]] = defaultdict(list)
        for title in self.by_title:
            issuers, name = law_name(title)
            self.by_name[name].append((issuers, title))

    def versions(self, law: str) -> list[Entry]:
        """Return the imported versions of the law a citation names, newest first ([] if none or unsure).

        The title as written comes first; else the law's name (kb.citations.law_name), when every
        imported statute of that name that names its issuers names the same ones, and those include
        the issuers the citation names: 《关于办理盗窃刑事案件…的解释》 is the one the 最高人民法院 and
        最高人民检察院 issued, but a name two issuers both used resolves only with its issuer.
        """
        title = short_title(law)
        if title in self.by_title:
            return self.by_title[title]
        issuers, name = law_name(law)
        candidates = [(named, t) for named, t in self.by_name.get(name, ()) if issuers <= named or not named]
        if len({named for named, _t in candidates if named}) > 1:
            return []
        found = [e for _named, t in candidates for e in self.by_title[t]]
        return sorted(found, key=lambda e: e.version_on or "", reverse=True)

    def resolve(self, citation: Citation, on: str | None = None) -> str | None:
        """Return 'entry-id#第X条' for the cited article, or None if no imported statute has it.

        With ``on`` (the citing entry's date), the version in force then is tried first: a 2016
        judgment's 第二百四十一条 of the criminal-procedure interpretation is the 2012 text's, not the
        renumbered 2021 one's; then older versions, newest first; then later ones, oldest first (a
        ruling older than every imported version cites the text nearest its date, not the newest,
        which may have renumbered the article). Without ``on``, the newest version that has it.
        """
        versions = self.versions(citation.law)
        if on:
            later = [e for e in versions if (e.version_on or "") > on]
            versions = [e for e in versions if (e.version_on or "") <= on] + later[::-1]
        for entry in versions:
            if citation.label in self.labels[entry.id]:
                return f"{entry.id}#{citation.label}"
        return None

    def is_repealed(self, citation: Citation) -> bool:
        """Return True if the cited law is listed as repealed (cited by old rulings, no text kept)."""
        return short_title(citation.law) in self.repealed

    def links(self, entry: Entry) -> dict[str, str]:
        """Return citation key -> 'entry-id#第X条' for every resolvable citation of ``entry``."""
        result = {}
        for citation, _line in cited(entry):
            target = self.resolve(citation, entry.date)
            if target:
                result[citation_key(citation)] = target
        return result


def check_links(entries: list[Entry], content_dirs: Iterable[Path] = (),
                unreported: list[tuple[Entry, Citation]] | None = None) -> list[Problem]:
    """Report citations that do not resolve, broken links and ids, alias collisions, duplicate 案号.

    A corpus copy's citations that do not resolve are not problems; they go to ``unreported``, if given.
    """
    resolver = StatuteResolver(entries, load_repealed(content_dirs))
    ids = {e.id: e for e in entries}
    problems: list[Problem] = []
    owner_of_alias: dict[str, Entry] = {}
    case_numbers: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        for citation, line in cited(entry):
            # A corpus copy's citations are the court's words: linked where they resolve, but a
            # misspelt title or a document the statute corpus lacks is nothing an editor can fix.
            if resolver.resolve(citation, entry.date) or resolver.is_repealed(citation):
                continue
            if entry.is_corpus_copy:
                if unreported is not None:
                    unreported.append((entry, citation))
                continue
            if resolver.versions(citation.law):
                hint = f"Check the article number; the imported statute has no {citation.label}."
            else:
                hint = f"Import the statute: kb import lawrefbook ../shared/corpus/lawrefbook-laws content/statutes --only {short_title(citation.law)}"
            problems.append(Problem(entry.path, line, "statutes", f"citation {citation} does not resolve.", hint))
        for link in wiki_links(entry):
            target = ids.get(link.target)
            if target is None:
                problems.append(Problem(entry.path, link.line, "link", f"[[{link.target}]] names no entry.", _suggest(link.target, ids)))
            elif link.anchor and target.type == "statute" and link.anchor not in resolver.labels.get(target.id, set()) | target.heading_anchors:
                problems.append(Problem(entry.path, link.line, "link", f"[[{link.target}#{link.anchor}]]: {target.id} has no {link.anchor}.",
                                        "Check the article number."))
            elif link.anchor and target.type != "statute" and link.anchor not in target.heading_anchors:
                headings = ", ".join(sorted(target.heading_anchors)) or "none"
                problems.append(Problem(entry.path, link.line, "link", f"[[{link.target}#{link.anchor}]]: {target.id} has no heading {link.anchor}.",
                                        f"Link to one of its headings ({headings}), or to the entry without '#'."))
        for related in entry.related:
            if related not in ids:
                problems.append(Problem(entry.path, entry.line_of("related"), "related", f"'{related}' names no entry.", _suggest(related, ids)))
        for alias in entry.aliases:
            if alias in ids:
                problems.append(Problem(entry.path, entry.line_of("aliases"), "aliases", f"'{alias}' is the id of {ids[alias].path}.",
                                        "Remove the alias; an alias must not shadow an existing entry."))
            elif alias in owner_of_alias:
                problems.append(Problem(entry.path, entry.line_of("aliases"), "aliases", f"'{alias}' is also an alias of {owner_of_alias[alias].path}.",
                                        "Keep the alias on one entry only."))
            else:
                owner_of_alias[alias] = entry
        if entry.case_number:
            first = next((e for e in case_numbers[entry.case_number] if same_ruling(e, entry)), None)
            if first is not None:
                problems.append(Problem(entry.path, entry.line_of("case_number"), "case_number",
                                        f"{entry.case_number} is also the case number of {first.path}.",
                                        "One ruling, one entry: merge them, or correct the number."))
            case_numbers[entry.case_number].append(entry)
    return problems


def same_ruling(first: Entry, second: Entry) -> bool:
    """Return True if two entries with one case number stand for one ruling.

    Not when both name their courts and the courts differ: a number before 2016 abbreviates its
    court locally, so （2015）上刑初字第53号 is a number of 上街区 (Henan) and of 上犹县 (Jiangxi).
    Nor when both are copies of different files of a corpus: courts sometimes issue two
    documents under one number (co-defendants judged apart), and a corpus may hold one judgment
    twice; the corpus is the source, so no editor can merge them.
    """
    if first.court and second.court and first.court != second.court:
        return False
    return not (first.is_corpus_copy and second.is_corpus_copy and first.sources != second.sources)


def _suggest(name: str, ids: dict[str, Entry]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(ids), n=1, cutoff=0.6)
    return f"Did you mean '{close[0]}'?" if close else "Check the entry id (the file name without .md, or its 'id:')."
