"""Typing help: "did you mean" for Chinese homophone typos, and autocomplete suggestions.

Chinese typos are mostly homophones typed through pinyin (举证责人 for 举证责任), so Whoosh's
edit-distance speller is no use. Here a query's Chinese runs are matched, syllable by syllable,
against the pinyin of known words: the legal dictionary the index was built with, the
editors' synonyms, tags, and the words of entry titles.

A build saves its vocabulary, with the pinyin of every word, in ``vocabulary.json``
(:func:`write_vocabulary`), so a server loads it in milliseconds instead of reading every entry
of the index and converting every word to pinyin (1.5 s at 150,000 documents) in each worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from indexer.analyzer import normalize, read_dictionary, segment
from kb.entry import Entry

VOCABULARY_FILE = "vocabulary.json"
VOCABULARY_FORMAT = 1

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
    """Return the toneless pinyin syllables of ``text`` (pypinyin is imported on first use: 0.35 s, 56 MB)."""
    from pypinyin import lazy_pinyin as convert

    return convert(text)


class Vocabulary:
    """Known words with their pinyin, and the strings offered for autocomplete."""

    def __init__(self, words: Iterable[str], suggestions: Iterable[Suggestion] = (),
                 pinyin: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """Index ``words`` by pinyin; ``pinyin`` holds syllables already known (from a saved vocabulary)."""
        known = pinyin or {}
        self.words = {w for w in words if MIN_WORD <= len(w) <= MAX_WORD and CJK_RUN.fullmatch(w)}
        self.pinyin: dict[str, tuple[str, ...]] = {}
        self.by_pinyin: dict[tuple[str, ...], str] = {}
        for word in sorted(self.words, key=lambda w: (-len(w), w)):
            syllables = known.get(word) or tuple(lazy_pinyin(word))
            self.pinyin[word] = syllables
            self.by_pinyin.setdefault(syllables, word)
        unique: dict[str, Suggestion] = {}
        for suggestion in suggestions:
            unique.setdefault(suggestion.text, suggestion)
        self.suggestions = list(unique.values())

    def save(self, path: Path, inputs: str = "") -> None:
        """Write the vocabulary to ``path`` (atomically: a reader sees the old file or the new one).

        ``inputs`` is a digest of what it was collected from, so a build can tell it is unchanged.
        """
        data = {
            "format": VOCABULARY_FORMAT,
            "inputs": inputs,
            "words": {word: " ".join(syllables) for word, syllables in self.pinyin.items()},
            "suggestions": [[s.text, s.kind, s.url] for s in self.suggestions],
        }
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Vocabulary | None:
        """Return the vocabulary saved in ``path``, or None if there is none (or it has another format)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != VOCABULARY_FORMAT:
                return None
            pinyin = {word: tuple(syllables.split(" ")) for word, syllables in data["words"].items()}
            suggestions = [Suggestion(text, kind, url) for text, kind, url in data["suggestions"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing or damaged: collect it again
            return None
        return cls(pinyin, suggestions, pinyin)

    @classmethod
    def from_build(cls, build: Path, titles: Iterable[tuple[str, str, str | None]], tags: Iterable[str],
                   thesaurus_words: Iterable[str], pinyin: Mapping[str, tuple[str, ...]] | None = None) -> Vocabulary:
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
        return cls(words, suggestions, pinyin)

    def correct(self, query: str) -> str | None:
        """Return the query with homophone typos replaced by known words, or None if nothing changed."""
        changed = False
        out = []
        last = 0
        for run in CJK_RUN.finditer(query):
            text = run.group()
            syllables: list[str] | None = None  # converted when a window is not a known word (pypinyin loads then)
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
                    if syllables is None:
                        syllables = lazy_pinyin(text)
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


def write_vocabulary(build: Path, entries: Iterable[Entry]) -> Vocabulary | None:
    """Save the vocabulary of a build in ``build/vocabulary.json``: call it after each full or incremental build.

    Returns the vocabulary, or None when what it is collected from has not changed since it was saved.

    ``entries`` are the entries the build indexed; the build's userdict.txt and synonyms.yaml are
    read from ``build``, as the server reads them. Words of the previous file keep their pinyin,
    so an incremental build converts only new words.
    """
    from indexer.query import Thesaurus
    from kb.render import entry_url

    titles: list[tuple[str, str, str | None]] = []
    tags: set[str] = set()
    for entry in entries:
        titles.append((entry.title, "statute" if entry.type == "statute" else "entry", entry_url(entry.id)))
        tags |= {t for t in ",".join(entry.tags).split(",") if t}  # split as the index's tags field is
    thesaurus = Thesaurus.load(build)
    thesaurus_words = set(thesaurus.synonyms) | {w for ws in thesaurus.synonyms.values() for w in ws}
    path = build / VOCABULARY_FILE
    dictionary = build / "userdict.txt"
    inputs = hashlib.sha256(json.dumps([titles, sorted(tags), sorted(thesaurus_words),
                                        dictionary.read_text(encoding="utf-8") if dictionary.is_file() else ""],
                                       ensure_ascii=False).encode()).hexdigest()
    if _saved_inputs(path) == inputs:
        return None  # no title, tag or word changed: segmenting every title again (7 s at scale c) is not needed
    previous = Vocabulary.load(path)
    vocabulary = Vocabulary.from_build(build, titles, tags, thesaurus_words, previous.pinyin if previous else None)
    vocabulary.save(path, inputs)  # the inputs differ from the saved ones, so the file does too
    return vocabulary


def _saved_inputs(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("inputs")
    except (OSError, ValueError, AttributeError):
        return None
