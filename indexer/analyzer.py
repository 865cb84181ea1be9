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

The cut itself runs in rjieba (jieba-rs) when it is installed: about 15x faster, fed with the very
dictionary jieba holds (main dictionary, legal user dictionaries, frequencies and total), so its
tokens are identical to jieba's (tests/test_analyzer_parity.py proves it on the statute corpus).
``KB_SEGMENTER=jieba`` or :func:`set_segmenter` forces pure jieba.

The class lives at this stable module path because Whoosh pickles the analyzer into the index.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import marshal
import os
import re
import sys
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from whoosh.analysis import Composable, StemmingAnalyzer, Token


def _import_jieba() -> ModuleType:
    """Import jieba without pkg_resources, which it imports only to open its own data files.

    Without it jieba opens the same files by path; the import saves 0.1 s and setuptools'
    deprecation warning.
    """
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` raise ImportError
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


def _import_rjieba() -> ModuleType | None:
    """Return rjieba's extension module (which holds ``Jieba``), or None if rjieba is not installed.

    ``import rjieba`` also builds ``rjieba._DEFAULT_JIEBA`` with jieba-rs's own dictionary, which
    is never used here: 0.14 s and 30 MB per process. The extension is loaded by itself and
    registered as ``rjieba.rjieba``, so a later ``import rjieba`` still works.
    """
    if "rjieba" in sys.modules:
        return sys.modules["rjieba"]
    try:
        spec = importlib.util.find_spec("rjieba")
    except (ImportError, ValueError):  # pragma: no cover - depends on the environment
        spec = None
    if spec is None:
        return None
    try:
        for folder in spec.submodule_search_locations or ():
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, "rjieba" + suffix)
                if os.path.isfile(path):
                    loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", path)
                    module_spec = importlib.util.spec_from_file_location("rjieba.rjieba", path, loader=loader)
                    module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
                    loader.exec_module(module)
                    sys.modules["rjieba.rjieba"] = module
                    return module
    except (ImportError, OSError):  # pragma: no cover - an unusual layout: the plain import below
        pass
    try:
        import rjieba
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return rjieba


jieba = _import_jieba()
rjieba = _import_rjieba()  # the fast path; pure jieba gives the same tokens, only slower

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_DICTIONARY = DATA_DIR / "legal_terms.txt"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"

jieba.setLogLevel(logging.WARNING)
_lock = threading.Lock()
_loaded_dictionaries: set[str] = set()
_user_terms: dict[str, int] = {}  # term -> frequency, for every term a user dictionary added
_initialized = False
# A word made of private-use characters, never in a Chinese block, that carries the part of
# jieba's frequency total no single word holds (jieba adds a re-added word's frequency again).
_TOTAL_PAD = "\U000F0000\U000F0001"
SEGMENTERS = ("rjieba", "jieba")


def cache_dir() -> Path:
    """Return the folder for jieba's dictionary cache: $KB_CACHE_DIR or ~/.cache/netcourt-kb."""
    base = os.environ.get("KB_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "netcourt-kb")
    path = Path(base)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: jieba builds its dictionary without a cache (slower, same words)
        pass
    return path


def _make_tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.cache_file = str(cache_dir() / "jieba.cache")
    return tokenizer


TOKENIZER = _make_tokenizer()


def _load_main_dictionary() -> None:
    """Load jieba's main dictionary into TOKENIZER: from the cache when it is newer than dict.txt.

    jieba reads its cache with ``marshal.load(file)``, which goes through a Python-level read for
    each of its 500,000 strings: 1.4 s. ``marshal.loads`` of the whole file takes 0.4 s. When the
    cache is missing, unreadable or older than jieba's dict.txt, the dictionary is built from
    dict.txt as jieba builds it and the cache is written again (atomically).
    """
    tokenizer = TOKENIZER
    if tokenizer.initialized:
        return
    with tokenizer.lock:
        if tokenizer.initialized:
            return
        cache = Path(tokenizer.cache_file)
        source = Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME
        loaded = None
        try:
            if tokenizer.dictionary == jieba.DEFAULT_DICT and cache.stat().st_mtime > source.stat().st_mtime:
                loaded = marshal.loads(cache.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):  # missing or damaged: build it again
            loaded = None
        if not (isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[0], dict) and isinstance(loaded[1], int)):
            loaded = None
        if loaded is None:
            loaded = tokenizer.gen_pfdict(tokenizer.get_dict_file())
            _write_cache(cache, loaded)
        tokenizer.FREQ, tokenizer.total = loaded
        tokenizer.initialized = True


def _write_cache(path: Path, value: object) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps(value))
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    except OSError:  # no cache this time; the next start builds the dictionary again
        tmp.unlink(missing_ok=True)


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
        _load_main_dictionary()
        terms = read_dictionary(path)
        changed = False
        for term, freq in terms:
            # A term an earlier user dictionary already gave the same frequency is not added again:
            # jieba would add its frequency to the total once more, so a server that loads the
            # build's userdict.txt (the default terms again) would cut with another total than
            # the build did, and the fast segmenter would have to be rebuilt in every worker.
            if term in _user_terms and (freq is None or _user_terms[term] == freq):
                continue
            TOKENIZER.add_word(term, freq)
            _user_terms[term] = TOKENIZER.FREQ[term]
            changed = True
        _loaded_dictionaries.add(key)
        if changed:
            _dictionary_changed()
        return len(terms)


def _dictionary_changed() -> None:
    global _fast
    _fast = None
    _cached_cut.cache_clear()
    _jieba_cut.cache_clear()
    _word_info.clear()


def initialize() -> None:
    """Load jieba's main dictionary, the default legal dictionary and the fast segmenter now."""
    global _initialized
    if _initialized:
        return
    _load_main_dictionary()
    load_dictionary(DEFAULT_DICTIONARY)
    if _segmenter == "rjieba":
        _fast_tokenizer()
    _initialized = True


def _default_segmenter() -> str:
    wanted = os.environ.get("KB_SEGMENTER", "").strip().lower()
    if wanted == "jieba" or rjieba is None:
        return "jieba"
    return "rjieba"


_segmenter = _default_segmenter()
_fast = None  # the rjieba.Jieba holding jieba's current dictionary, built on demand


def segmenter() -> str:
    """Return the segmenter in use: 'rjieba' (fast, same tokens) or 'jieba'."""
    return _segmenter


def set_segmenter(name: str) -> str:
    """Use ``name`` ('rjieba' or 'jieba') for every cut from now on; return the previous one."""
    global _segmenter
    if name not in SEGMENTERS:
        raise ValueError(f"unknown segmenter '{name}'. Use one of: {', '.join(SEGMENTERS)}.")
    if name == "rjieba" and rjieba is None:
        raise RuntimeError("rjieba is not installed. Install it with: pip install rjieba")
    previous, _segmenter = _segmenter, name
    _cached_cut.cache_clear()
    return previous


def _fast_tokenizer():  # type: ignore[no-untyped-def]
    """Return an rjieba segmenter loaded with exactly jieba's dictionary (built once per change)."""
    global _fast
    fast = _fast
    if fast is not None:
        return fast
    with _lock:
        if _fast is None:
            _load_main_dictionary()
            # Build a new one rather than mutate the live one: a reader never sees a half-load.
            fast = rjieba.Jieba.empty()
            add = fast.add_word
            held = 0
            for word, freq in TOKENIZER.FREQ.items():
                if freq:  # jieba keeps every prefix with frequency 0; jieba-rs needs no prefixes
                    add(word, freq, None)
                    held += freq
            if TOKENIZER.total > held:
                add(_TOTAL_PAD, TOKENIZER.total - held, None)
            _fast = fast
        return _fast


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Return the words never indexed nor required in queries."""
    words = set()
    for raw in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            words.add(line)
    return frozenset(words)


class _FoldTable(dict):
    """Code point -> its NFKC, lowercased form when that is one character; filled as met."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch).lower()
        value = folded if len(folded) == 1 else ch
        self[code] = value
        return value


_FOLD = _FoldTable()


def normalize(text: str) -> str:
    """NFKC and lowercase ``text`` character by character, keeping its length (and offsets)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def is_word(token: str) -> bool:
    """Return True for tokens worth indexing: not punctuation, not space."""
    for ch in token:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            return True
    return False


# Besides Chinese characters, jieba's blocks hold these; rjieba's HMM step groups runs of them
# differently (it keeps short_title, 2021-01-01, 1.2.3 whole where jieba's finalseg splits them
# with [a-zA-Z0-9]+(?:\.\d+)?%?), so such runs are cut again by jieba itself.
_ASCII_BLOCK = re.compile(r"[a-zA-Z0-9+#&._%\-]")
_ASCII_WORD = re.compile(r"[a-zA-Z0-9+#&._%\-]+")


def cut(text: str) -> list[tuple[str, int, int]]:
    """Return jieba's accurate cut (HMM on) of ``text`` as (word, start, end), from the segmenter in use."""
    initialize()
    if _segmenter == "jieba":
        return list(TOKENIZER.tokenize(text, mode="default", HMM=True))
    tokens = _fast_tokenizer().tokenize(text, "default", True)
    if not _ASCII_BLOCK.search(text):
        return tokens
    out: list[tuple[str, int, int]] = []
    i, count = 0, len(tokens)
    is_ascii_word = _ASCII_WORD.fullmatch
    while i < count:
        word, start, end = tokens[i]
        if not is_ascii_word(word):
            out.append(tokens[i])
            i += 1
            continue
        j = i + 1
        while j < count and tokens[j][1] == end and is_ascii_word(tokens[j][0]):
            end = tokens[j][2]
            j += 1
        if end - start == 1:
            out.append(tokens[i])
        else:
            out.extend((w, start + a, start + b) for w, a, b in _jieba_cut(text[start:end]))
        i = j
    return out


@lru_cache(maxsize=65536)
def _jieba_cut(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(TOKENIZER.tokenize(text, mode="default", HMM=True))


@lru_cache(maxsize=4096)
def _cached_cut(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(cut(text))


# word -> (kind, sub-words): kind 0 is not a word (punctuation, space: no position), 1 a stop
# word (takes a position, not indexed), 2 a word; sub-words are (sub, offset, length).
_word_info: dict[str, tuple[int, tuple[tuple[str, int, int], ...]]] = {}
_WORD_INFO_MAX = 1_000_000


def _describe(word: str) -> tuple[int, tuple[tuple[str, int, int], ...]]:
    stop = stopwords()
    if not is_word(word):
        info: tuple[int, tuple[tuple[str, int, int], ...]] = (0, ())
    elif word in stop:
        info = (1, ())
    else:
        subs = []
        if len(word) > 2 and not word.isascii():
            freq = TOKENIZER.FREQ
            for n in range(2, len(word)):
                for i in range(len(word) - n + 1):
                    sub = word[i:i + n]
                    if freq.get(sub) and sub not in stop:
                        subs.append((sub, i, n))
        info = (2, tuple(subs))
    if len(_word_info) >= _WORD_INFO_MAX:
        _word_info.clear()
    _word_info[word] = info
    return info


def segment(text: str, *, subwords: bool) -> Iterator[tuple[str, int, int, int]]:
    """Yield (word, position, start, end) for normalised ``text``; sub-words share a position."""
    initialize()
    info = _word_info
    position = 0
    for word, start, end in (_cached_cut(text) if len(text) < 256 else cut(text)):
        described = info.get(word) or _describe(word)
        kind = described[0]
        if not kind:
            continue
        if kind == 2:
            yield word, position, start, end
            if subwords:
                for sub, i, n in described[1]:
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


_ENGLISH = StemmingAnalyzer()  # the english field's analyzer (indexer/schema.py): lower case, stop words out, Porter stems


def english_words(text: str) -> list[str]:
    """Return the English field's words of ``text`` (apple -> appl), as the index holds them."""
    return [token.text for token in _ENGLISH(text)]


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
