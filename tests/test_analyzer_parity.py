"""The fast segmenter (rjieba) gives exactly jieba's tokens: text, position, start and end.

Compared over a fixed random sample of real statute articles from the shared corpus and over
every file of content/, in index mode (with sub-words) and query mode, with the legal user
dictionaries loaded.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer import analyzer
from indexer.analyzer import ChineseAnalyzer, normalize
from tests.support import CONTENT, CORPUS

pytestmark = pytest.mark.skipif(analyzer.rjieba is None, reason="rjieba is not installed (setup.cfg requires it; KB_SEGMENTER=jieba runs without it); nothing to compare")

SAMPLE_FILES = 120
SEED = 20240505
# Text that takes rjieba's and jieba's different HMM paths for runs of letters, digits, '.', '_', '-'.
EDGE_CASES = [
    "short_title: 电子商务法", "2021-01-01施行", "1.2.3版", "x.y", "a_b", "ab--cd", "3.5%的", "50%以上",
    "c#语言", "iphone13手机", "刷单abc的", "abc&def", "a+b", "第5条", "（2019）京0491民初2547号", "ktv", "t恤",
    "中文short_title中文", "http://www.gov.cn/zhengce/2020-12/31/content_5575917.htm", "GB/T 35273-2020标准",
]


def corpus_paragraphs() -> list[str]:
    """Return the paragraphs of a fixed random sample of corpus files (a few hundred laws)."""
    files = sorted(p for p in CORPUS.rglob("*.md") if p.name.lower() != "readme.md")
    chosen = random.Random(SEED).sample(files, min(SAMPLE_FILES, len(files)))
    return [line for path in chosen for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def content_texts() -> list[str]:
    """Return every content/ file whole (front matter included) and split into paragraphs."""
    texts = []
    for path in sorted(CONTENT.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        texts.extend(line for line in text.splitlines() if line.strip())
    return texts


def tokens(texts: list[str], segmenter: str, mode: str) -> Iterator[tuple[str, list[tuple[str, int, int, int]]]]:
    """Yield each text with its Whoosh tokens (text, pos, start, end) from ``segmenter``."""
    previous = analyzer.set_segmenter(segmenter)
    try:
        analyze = ChineseAnalyzer()
        for text in texts:
            yield text, [(t.text, t.pos, t.startchar, t.endchar) for t in analyze(text, positions=True, chars=True, mode=mode)]
    finally:
        analyzer.set_segmenter(previous)


def assert_same_tokens(texts: list[str], mode: str) -> None:
    """Assert both segmenters give the same tokens for every text; show the first differences."""
    slow = dict(tokens(texts, "jieba", mode))
    differences = []
    for text, fast in tokens(texts, "rjieba", mode):
        if fast != slow[text]:
            only_fast = sorted(set(fast) - set(slow[text]), key=lambda t: t[2])[:4]
            only_slow = sorted(set(slow[text]) - set(fast), key=lambda t: t[2])[:4]
            differences.append(f"{text[:60]!r}: rjieba {only_fast} jieba {only_slow}")
    assert not differences, f"{len(differences)} of {len(texts)} texts differ:\n" + "\n".join(differences[:20])


@pytest.fixture(scope="module")
def sample() -> list[str]:
    if not CORPUS.is_dir():
        pytest.skip(f"the statute corpus is not at {CORPUS} (set KB_CORPUS to its folder)")
    paragraphs = corpus_paragraphs()
    assert len(paragraphs) > 3_000
    return paragraphs


@pytest.mark.parametrize("mode", ["index", "query"])
def test_corpus_sample_tokens_are_identical(sample: list[str], mode: str) -> None:
    assert_same_tokens(sample, mode)


@pytest.mark.parametrize("mode", ["index", "query"])
def test_content_tokens_are_identical(mode: str) -> None:
    texts = content_texts()
    assert texts
    assert_same_tokens(texts, mode)


@pytest.mark.parametrize("mode", ["index", "query"])
def test_edge_cases_are_identical(mode: str) -> None:
    assert_same_tokens(EDGE_CASES, mode)


def test_user_dictionary_reaches_the_fast_segmenter(tmp_path: Path) -> None:
    # A dictionary loaded after the fast segmenter was built must reach it (it is rebuilt).
    word = "网课退费纠纷"
    assert [w for w, *_ in analyzer.cut(word)] != [word]
    dictionary = tmp_path / "terms.txt"
    dictionary.write_text(f"{word} 50000\n", encoding="utf-8")
    analyzer.load_dictionary(dictionary)
    previous = analyzer.set_segmenter("rjieba")
    try:
        assert [w for w, *_ in analyzer.cut(f"关于{word}的意见")] == ["关于", word, "的", "意见"]
    finally:
        analyzer.set_segmenter(previous)
    assert_same_tokens([f"关于{word}的意见", "网课退费纠纷案件"], "index")


def test_normalize_keeps_length_for_every_character() -> None:
    text = "".join(chr(cp) for cp in range(0x20, 0x3000) if not 0xD800 <= cp <= 0xDFFF)
    folded = normalize(text)
    assert len(folded) == len(text)
    assert normalize("ＡＢＣ，１２３") == "abc,123"
