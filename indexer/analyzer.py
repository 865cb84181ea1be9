"""The Chinese analyzer: jieba with a legal user dictionary, positions that make phrases work.

``jieba.analyse.ChineseAnalyzer`` is not used: it stores character offsets as positions (so
phrase queries never match), sends overlapping search-mode sub-words into queries, drops
one-character non-Chinese tokens (the 5 of 第5条) and Porter-stems English. Here:

- text is normalised per character with NFKC (full-width to half-width, so offsets still match
  the stored text for highlighting) and lowercased;
- index mode emits jieba's accurate cut, one position per word, plus the dictionary sub-words
  of longer words at their parent word's position (so 刷单 finds 刷单炒信);
- query mode emits the accurate cut only;
- punctuation, spaces and stop words are dropped without renumbering.

The class lives at this stable module path because Whoosh pickles the analyzer into the index.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import jieba
from whoosh.analysis import Composable, Token

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_DICTIONARY = DATA_DIR / "legal_terms.txt"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"

jieba.setLogLevel(logging.WARNING)
_lock = threading.Lock()
_loaded_dictionaries: set[str] = set()


def cache_dir() -> Path:
    """Return the folder for jieba's dictionary cache: $KB_CACHE_DIR or ~/.cache/netcourt-kb."""
    base = os.environ.get("KB_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "netcourt-kb")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _make_tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.cache_file = str(cache_dir() / "jieba.cache")
    return tokenizer


TOKENIZER = _make_tokenizer()


def read_dictionary(path: Path) -> list[tuple[str, int | None]]:
    """Return (term, frequency) pairs of a user dictionary file; '#' starts a comment."""
    terms = []
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        terms.append((normalize(parts[0]), freq))
    return terms


def load_dictionary(path: Path | str) -> int:
    """Add a user dictionary's terms to the segmenter, once per file; return the terms added."""
    path = Path(path)
    key = str(path.resolve())
    with _lock:
        if key in _loaded_dictionaries or not path.is_file():
            return 0
        TOKENIZER.check_initialized()
        terms = read_dictionary(path)
        for term, freq in terms:
            TOKENIZER.add_word(term, freq)
        _loaded_dictionaries.add(key)
        _cached_cut.cache_clear()
        return len(terms)


def initialize() -> None:
    """Load jieba's main dictionary and the default legal dictionary now, not on the first query."""
    TOKENIZER.check_initialized()
    load_dictionary(DEFAULT_DICTIONARY)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Return the words never indexed nor required in queries."""
    words = set()
    for raw in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            words.add(line)
    return frozenset(words)


def normalize(text: str) -> str:
    """NFKC and lowercase ``text`` character by character, keeping its length (and offsets)."""
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def is_word(token: str) -> bool:
    """Return True for tokens worth indexing: not punctuation, not space."""
    for ch in token:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            return True
    return False


@lru_cache(maxsize=4096)
def _cached_cut(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(TOKENIZER.tokenize(text, mode="default", HMM=True))


def segment(text: str, *, subwords: bool) -> Iterator[tuple[str, int, int, int]]:
    """Yield (word, position, start, end) for normalised ``text``; sub-words share a position."""
    initialize()
    freq = TOKENIZER.FREQ
    stop = stopwords()
    position = 0
    cut = _cached_cut(text) if len(text) < 256 else TOKENIZER.tokenize(text, mode="default", HMM=True)
    for word, start, end in cut:
        if not is_word(word):
            continue
        if word not in stop:
            yield word, position, start, end
            if subwords and len(word) > 2 and not word.isascii():
                for n in range(2, len(word)):
                    for i in range(len(word) - n + 1):
                        sub = word[i:i + n]
                        if sub != word and freq.get(sub) and sub not in stop:
                            yield sub, position, start + i, start + i + n
        position += 1


def split_compound(word: str) -> list[str] | None:
    """Split a long word into shorter dictionary words that cover it (三倍赔偿 -> 三倍, 赔偿), or None."""
    if len(word) < 3 or word.isascii():
        return None
    initialize()
    freq = TOKENIZER.FREQ
    parts: list[str] = []
    i = 0
    while i < len(word):
        for n in range(min(len(word) - i, len(word) - 1), 1, -1):
            if freq.get(word[i:i + n]):
                parts.append(word[i:i + n])
                i += n
                break
        else:
            return None
    return parts if len(parts) > 1 else None


def query_terms(text: str) -> list[str]:
    """Return the meaningful terms of a query, in order, without repeats."""
    seen: dict[str, None] = {}
    for word, _pos, _start, _end in segment(normalize(text), subwords=False):
        seen.setdefault(word, None)
    return list(seen)


class ChineseAnalyzer(Composable):
    """Whoosh analyzer over :func:`segment`: index mode adds sub-words, query mode does not."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChineseAnalyzer)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: object) -> Iterator[Token]:
        """Yield Whoosh tokens for ``value``."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = normalize(value)
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        subwords = mode != "query"
        for word, pos, start, end in segment(normalize(value), subwords=subwords):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token
