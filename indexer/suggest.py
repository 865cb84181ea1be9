"""Typing help: "did you mean" for Chinese homophone typos, and autocomplete suggestions.

Chinese typos are mostly homophones typed through pinyin (举证责人 for 举证责任), so Whoosh's
edit-distance speller is no use. Here a query's Chinese runs are matched, syllable by syllable,
against the pinyin of known words: the legal dictionary the index was built with, the
editors' synonyms, tags, and the words of entry titles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from indexer.analyzer import normalize, read_dictionary, segment

CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
MIN_WORD, MAX_WORD = 2, 8


@dataclass(frozen=True)
class Suggestion:
    """One autocomplete suggestion."""

    text: str
    kind: str  # "entry", "statute", "tag" or "term"
    url: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the suggestion as JSON-ready values."""
        return {k: v for k, v in {"text": self.text, "kind": self.kind, "url": self.url}.items() if v}


def lazy_pinyin(text: str) -> list[str]:
    """Return the toneless pinyin syllables of ``text`` (pypinyin is imported on first use: 0.9 s)."""
    from pypinyin import lazy_pinyin as convert

    return convert(text)


class Vocabulary:
    """Known words with their pinyin, and the strings offered for autocomplete."""

    def __init__(self, words: Iterable[str], suggestions: Iterable[Suggestion] = ()) -> None:
        self.words = {w for w in words if MIN_WORD <= len(w) <= MAX_WORD and CJK_RUN.fullmatch(w)}
        self.by_pinyin: dict[tuple[str, ...], str] = {}
        for word in sorted(self.words, key=lambda w: (-len(w), w)):
            self.by_pinyin.setdefault(tuple(lazy_pinyin(word)), word)
        unique: dict[str, Suggestion] = {}
        for suggestion in suggestions:
            unique.setdefault(suggestion.text, suggestion)
        self.suggestions = list(unique.values())

    @classmethod
    def from_build(cls, build: Path, titles: Iterable[tuple[str, str, str | None]], tags: Iterable[str],
                   thesaurus_words: Iterable[str]) -> Vocabulary:
        """Collect the vocabulary of a build: its dictionary, titles (text, kind, url), tags and synonyms."""
        words: set[str] = set(thesaurus_words) | set(tags)
        dictionary = build / "userdict.txt"
        if dictionary.is_file():
            words |= {term for term, _freq in read_dictionary(dictionary)}
        suggestions: list[Suggestion] = []
        for text, kind, url in titles:
            suggestions.append(Suggestion(text, kind, url))
            words |= {w for w, *_rest in segment(normalize(text), subwords=False)}
        suggestions += [Suggestion(t, "tag") for t in sorted(set(tags))]
        suggestions += [Suggestion(w, "term") for w in sorted(words) if CJK_RUN.fullmatch(w)]
        return cls(words, suggestions)

    def correct(self, query: str) -> str | None:
        """Return the query with homophone typos replaced by known words, or None if nothing changed."""
        changed = False
        out = []
        last = 0
        for run in CJK_RUN.finditer(query):
            text = run.group()
            syllables = lazy_pinyin(text)
            i = 0
            fixed = []
            while i < len(text):
                replaced = False
                for n in range(min(MAX_WORD, len(text) - i), MIN_WORD - 1, -1):
                    window = text[i:i + n]
                    if window in self.words:
                        fixed.append(window)
                        i += n
                        replaced = True
                        break
                    known = self.by_pinyin.get(tuple(syllables[i:i + n]))
                    if known and known != window and not self._covered_by_words(window):
                        fixed.append(known)
                        i += n
                        replaced = changed = True
                        break
                if not replaced:
                    fixed.append(text[i])
                    i += 1
            out.append(query[last:run.start()])
            out.append("".join(fixed))
            last = run.end()
        out.append(query[last:])
        return "".join(out) if changed else None

    def _covered_by_words(self, window: str) -> bool:
        """Return True if ``window`` splits into known words (then it is not a typo)."""
        if window in self.words:
            return True
        return any(window[:k] in self.words and self._covered_by_words(window[k:]) for k in range(MIN_WORD, len(window) - 1))

    def complete(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Return suggestions that start with ``prefix``, then those that contain it."""
        prefix = normalize(prefix.strip())
        if not prefix:
            return []
        starts = [s for s in self.suggestions if normalize(s.text).startswith(prefix)]
        contains = [s for s in self.suggestions if prefix in normalize(s.text) and s not in starts]
        ranked = sorted(starts, key=lambda s: (len(s.text), s.kind != "entry")) + sorted(contains, key=lambda s: len(s.text))
        return ranked[:limit]
