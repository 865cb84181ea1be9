"""Tests for kb.citations: Chinese numerals, citations found in text and written by editors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.citations import (
    KNOWN_LAWS,
    Citation,
    CitationError,
    CitationMatch,
    article_label,
    chinese_to_int,
    extract_citations,
    int_to_chinese,
    law_name,
    normal_article_label,
    parse_article_label,
    parse_article_label_parts,
    parse_citation,
    short_title,
)

QUICK = settings(max_examples=200, deadline=None, database=None)


@pytest.mark.parametrize(
    ("number", "numeral"),
    [
        (1, "一"),
        (10, "十"),
        (17, "十七"),
        (20, "二十"),
        (103, "一百零三"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
        (1050, "一千零五十"),
        (1165, "一千一百六十五"),
        (1260, "一千二百六十"),
        (2000, "二千"),
        (9999, "九千九百九十九"),
    ],
)
def test_int_to_chinese(number: int, numeral: str) -> None:
    assert int_to_chinese(number) == numeral
    assert chinese_to_int(numeral) == number


@pytest.mark.parametrize(
    ("numeral", "number"),
    [("两百", 200), ("两千零一", 2001), ("一百十", 110), ("17", 17), ("１７", 17), (" 十七 ", 17), ("零", 0)],
)
def test_chinese_to_int_variants(numeral: str, number: int) -> None:
    assert chinese_to_int(numeral) == number


@pytest.mark.parametrize(
    ("numeral", "message"),
    [
        ("", "'' is not a number."),
        ("abc", "'abc' is not a number."),
        ("零三", "'零三' is not a number."),
        ("十十", "'十十' is not a number: '十' is out of place."),
        ("百千", "'百千' is not a number: '千' is out of place."),
        ("一二", "'一二' is not a number: two digits in a row."),
        ("一百零零三", "'一百零零三' is not a number: two digits in a row."),
        ("一百三", "'一百三' is not a number: write the last digit with its unit or after 零."),
        ("一百零", "'一百零' is not a number: write the last digit with its unit or after 零."),
    ],
)
def test_chinese_to_int_rejects(numeral: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        chinese_to_int(numeral)
    assert str(info.value) == message


def test_int_to_chinese_range() -> None:
    assert int_to_chinese(0) == "零"
    with pytest.raises(ValueError, match="10000 is outside 0..9999."):
        int_to_chinese(10000)


def test_article_labels() -> None:
    assert article_label(17) == "第十七条"
    assert article_label(1165) == "第一千一百六十五条"
    assert parse_article_label("第十七条") == 17
    assert parse_article_label("第17条") == 17
    assert parse_article_label("第 １７ 条") == 17
    assert parse_article_label("第一百二十条之一") == 120


@pytest.mark.parametrize("label", ["十七条", "第十七", "第零条", "第十十条", "第十七条第一款"])
def test_parse_article_label_rejects(label: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_article_label(label)
    assert str(info.value) == f"'{label}' is not an article label. Write 第, a number of 1 or more and 条, e.g. 第十七条."


@pytest.mark.parametrize(
    ("law", "title"),
    [
        ("中华人民共和国电子商务法", "电子商务法"),
        ("《中华人民共和国电子商务法》", "电子商务法"),
        (" 《 消费者权益保护法 》 ", "消费者权益保护法"),
        ("最高人民法院关于互联网法院审理案件若干问题的规定", "最高人民法院关于互联网法院审理案件若干问题的规定"),
        ("中华人民共和国", "中华人民共和国"),
    ],
)
def test_short_title(law: str, title: str) -> None:
    assert short_title(law) == title


def test_citation_str_and_label() -> None:
    assert str(Citation("电子商务法", 17)) == "《电子商务法》第十七条"
    assert Citation("电子商务法", 17).label == "第十七条"
    assert str(Citation("消费者权益保护法", 55, 1)) == "《消费者权益保护法》第五十五条第一款"
    assert str(Citation("著作权法", 24, 1, 12)) == "《著作权法》第二十四条第一款第十二项"
    assert str(Citation("合同法", 52, item=4)) == "《合同法》第五十二条第四项"


def test_citations_sort_with_missing_parts_first() -> None:
    citations = [
        Citation("民法典", 2),
        Citation("民法典", 1, 2),
        Citation("民法典", 1, None, 3),
        Citation("民法典", 1),
        Citation("刑法", 9),
    ]
    assert sorted(citations) == [
        Citation("刑法", 9),
        Citation("民法典", 1),
        Citation("民法典", 1, None, 3),
        Citation("民法典", 1, 2),
        Citation("民法典", 2),
    ]
    assert Citation("民法典", 1) <= Citation("民法典", 1) < Citation("民法典", 1, 1)


def found(text: str) -> list[tuple[str, str]]:
    """Return (citation, matched text) for every citation in ``text``."""
    return [(str(match.citation), match.text) for match in extract_citations(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("依据《中华人民共和国电子商务法》第十七条规定", [("《电子商务法》第十七条", "《中华人民共和国电子商务法》第十七条")]),
        (
            "《消费者权益保护法》第五十五条第一款",
            [("《消费者权益保护法》第五十五条第一款", "《消费者权益保护法》第五十五条第一款")],
        ),
        ("根据民法典第1165条，", [("《民法典》第一千一百六十五条", "民法典第1165条")]),
        ("消费者权益保护法第55条", [("《消费者权益保护法》第五十五条", "消费者权益保护法第55条")]),
        (
            "《反不正当竞争法》第八条、第二十条",
            [("《反不正当竞争法》第八条", "《反不正当竞争法》第八条"), ("《反不正当竞争法》第二十条", "第二十条")],
        ),
        (
            "《著作权法》第二十四条第一款第（十二）项",
            [("《著作权法》第二十四条第一款第十二项", "《著作权法》第二十四条第一款第（十二）项")],
        ),
        (
            "《著作权法》第二十四条第一款第十二项",
            [("《著作权法》第二十四条第一款第十二项", "《著作权法》第二十四条第一款第十二项")],
        ),
        (
            "《最高人民法院关于互联网法院审理案件若干问题的规定》第十一条",
            [
                (
                    "《最高人民法院关于互联网法院审理案件若干问题的规定》第十一条",
                    "《最高人民法院关于互联网法院审理案件若干问题的规定》第十一条",
                )
            ],
        ),
        ("《合同法》第五十二条第四项", [("《合同法》第五十二条第四项", "《合同法》第五十二条第四项")]),
        ("依《电子商务法》第8条第1款", [("《电子商务法》第八条第一款", "《电子商务法》第8条第1款")]),
        ("《民法典》第一千一百六十五条", [("《民法典》第一千一百六十五条", "《民法典》第一千一百六十五条")]),
        ("《电子商务法》 第 １７ 条", [("《电子商务法》第十七条", "《电子商务法》 第 １７ 条")]),
        (
            "违反了反不正当竞争法第八条和第九条第二款、第三款",
            [
                ("《反不正当竞争法》第八条", "反不正当竞争法第八条"),
                ("《反不正当竞争法》第九条第二款", "第九条第二款"),
                ("《反不正当竞争法》第九条第三款", "第三款"),
            ],
        ),
        (
            "违反网络交易监督管理办法第十条第一款第（二）项、第（三）项",
            [
                ("《网络交易监督管理办法》第十条第一款第二项", "网络交易监督管理办法第十条第一款第（二）项"),
                ("《网络交易监督管理办法》第十条第一款第三项", "第（三）项"),
            ],
        ),
        (
            "依照中华人民共和国种子法第十条和某某省网络直播管理条例第二条",
            [
                ("《种子法》第十条", "中华人民共和国种子法第十条"),
                ("《某某省网络直播管理条例》第二条", "某某省网络直播管理条例第二条"),
            ],
        ),
        (
            "根据最高人民法院关于审理信息网络传播权民事纠纷案件适用法律若干问题的规定第十一条",
            [
                (
                    "《最高人民法院关于审理信息网络传播权民事纠纷案件适用法律若干问题的规定》第十一条",
                    "最高人民法院关于审理信息网络传播权民事纠纷案件适用法律若干问题的规定第十一条",
                )
            ],
        ),
        (
            "《电子商务法》第十七条，《民法典》第五百条",
            [("《电子商务法》第十七条", "《电子商务法》第十七条"), ("《民法典》第五百条", "《民法典》第五百条")],
        ),
    ],
)
def test_extract_citations(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "本法第十条",
        "依照该法第十条",
        "此法第二条",
        "上述法第三条",
        "根据上述规定第三条",
        "符合有关规定第三条",
        "本条例第五条",
        "合同第三条",
        "第十七条",
        "《商标法》第十十条",
        "《商标法》第零条",
        "方法第一条",
        "《民法典》",
        "《民法典》十九条",
        "",
    ],
)
def test_extract_finds_nothing(text: str) -> None:
    assert extract_citations(text) == []


def test_match_positions() -> None:
    text = "法院认为，依据《反不正当竞争法》第八条、第二十条之规定"
    first, second = extract_citations(text)
    assert first == CitationMatch(Citation("反不正当竞争法", 8), 7, 19, "《反不正当竞争法》第八条")
    assert second == CitationMatch(Citation("反不正当竞争法", 20), 20, 24, "第二十条")
    assert all(text[match.start : match.end] == match.text for match in (first, second))


def test_known_laws_are_not_pronouns() -> None:
    for law in KNOWN_LAWS:
        assert [match.citation for match in extract_citations(f"根据{law}第一条")] == [Citation(law, 1)]


@pytest.mark.parametrize(
    ("text", "citation"),
    [
        ("《电子商务法》第十七条", Citation("电子商务法", 17)),
        ("《中华人民共和国电子商务法》第十七条", Citation("电子商务法", 17)),
        ("民法典第十九条", Citation("民法典", 19)),
        ("中华人民共和国电子商务法第17条", Citation("电子商务法", 17)),
        (" 《 电子商务法 》 第 １７ 条 ", Citation("电子商务法", 17)),
        ("《消费者权益保护法》第五十五条第一款", Citation("消费者权益保护法", 55, 1)),
        ("《著作权法》第二十四条第一款第（十二）项", Citation("著作权法", 24, 1, 12)),
        ("《著作权法》第二十四条第一款第(十二)项", Citation("著作权法", 24, 1, 12)),
        ("《合同法》第五十二条第四项", Citation("合同法", 52, None, 4)),
        ("刑法第二百八十七条", Citation("刑法", 287)),
    ],
)
def test_parse_citation(text: str, citation: Citation) -> None:
    assert parse_citation(text) == citation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is not a statute citation: it is empty. Write it like 《电子商务法》第十七条."),
        (
            "本法第十条",
            "'本法第十条' is not a statute citation: 本法 does not say which law; name it. Write it like 《电子商务法》第十七条.",
        ),
        ("第十七条", "'第十七条' is not a statute citation: it names no law. Write it like 《电子商务法》第十七条."),
        ("《》第一条", "'《》第一条' is not a statute citation: it names no law. Write it like 《电子商务法》第十七条."),
        (
            "《中华人民共和国电子商务法》",
            "'《中华人民共和国电子商务法》' is not a statute citation: it names no article. "
            "Add the article after the title, e.g. 《电子商务法》第十七条.",
        ),
        (
            "《电子商务法第十七条",
            "'《电子商务法第十七条' is not a statute citation: the law's title has no closing 》. Write it like 《电子商务法》第十七条.",
        ),
        (
            "电子商务第十七条",
            "'电子商务第十七条' is not a statute citation: '电子商务' is not a law's title; put the title in 《》. "
            "Write it like 《电子商务法》第十七条.",
        ),
        (
            "《民法典》十九条",
            "'《民法典》十九条' is not a statute citation: '十九条' is not an article; write 第, a number and 条. "
            "Write it like 《电子商务法》第十七条.",
        ),
        (
            "《电子商务法》第十十条",
            "'《电子商务法》第十十条' is not a statute citation: '十十' is not an article number of 1 or more. "
            "Write it like 《电子商务法》第十七条.",
        ),
        (
            "《电子商务法》第十七条规定",
            "'《电子商务法》第十七条规定' is not a statute citation: there is text after the citation, '规定'. "
            "Write it as 《电子商务法》第十七条.",
        ),
        (
            "《电子商务法》第十七条、第十八条",
            "'《电子商务法》第十七条、第十八条' is not a statute citation: it holds 2 citations. "
            "Give each as its own list item: 《电子商务法》第十七条, 《电子商务法》第十八条.",
        ),
    ],
)
def test_parse_citation_rejects(text: str, message: str) -> None:
    with pytest.raises(CitationError) as info:
        parse_citation(text)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


# Property tests.


@QUICK
@given(st.integers(1, 9999))
def test_numeral_round_trip(number: int) -> None:
    assert chinese_to_int(int_to_chinese(number)) == number
    assert parse_article_label(article_label(number)) == number


NOISY = st.text(
    st.sampled_from(
        list("《》〈〉第条款项之（）()一二三十百千零两0123456789１、和及本该法典条例办法规定解释中华人民共和国 \u3000\n")
    )
    | st.characters()
)


@QUICK
@given(st.text() | NOISY)
def test_extract_never_raises(text: str) -> None:
    for match in extract_citations(text):
        assert text[match.start : match.end] == match.text
        assert match.citation.article >= 1


@QUICK
@given(st.text() | NOISY)
def test_parse_citation_raises_only_citation_error(text: str) -> None:
    try:
        citation = parse_citation(text)
    except CitationError as error:
        assert str(error).startswith(f"'{text}' is not a statute citation: ")
    else:
        assert parse_citation(str(citation)) == citation


# Filler text never holds the characters that open or continue a citation.
filler = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(lambda c: c not in "第《》、和及与或"), max_size=15
)
law_names = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(lambda c: c not in "第《》"), min_size=1, max_size=12
).map(lambda name: name + "法")
numbers = st.integers(1, 9999)


@st.composite
def written_numbers(draw: st.DrawFn, number: int) -> str:
    """Write ``number`` in Chinese numerals or arabic digits."""
    return draw(st.sampled_from([int_to_chinese(number), str(number)]))


@QUICK
@given(st.data(), filler, filler, law_names, numbers, st.none() | st.integers(1, 20), st.none() | st.integers(1, 20))
def test_bracketed_citation_in_random_text(
    data: st.DataObject, before: str, after: str, law: str, article: int, paragraph: int | None, item: int | None
) -> None:
    text = f"第{data.draw(written_numbers(article))}条"
    if paragraph is not None:
        text += f"第{data.draw(written_numbers(paragraph))}款"
    if item is not None:
        text += data.draw(st.sampled_from(["第{}项", "第（{}）项"])).format(data.draw(written_numbers(item)))
    matches = extract_citations(f"{before}《{law}》{text}{after}")
    assert [match.citation for match in matches] == [Citation(short_title(law), article, paragraph, item)]
    assert matches[0].start == len(before)


@QUICK
@given(st.data(), filler, filler, st.sampled_from(KNOWN_LAWS), numbers)
def test_bare_known_law_in_random_text(data: st.DataObject, before: str, after: str, law: str, article: int) -> None:
    text = f"{before}{law}第{data.draw(written_numbers(article))}条{after}"
    assert [match.citation for match in extract_citations(text)] == [Citation(law, article)]


def test_inserted_articles_keep_their_sub_number() -> None:
    # 第一百三十三条之一 (危险驾驶) is an article of its own, never 第一百三十三条 (交通肇事).
    assert article_label(133, 1) == "第一百三十三条之一"
    assert parse_article_label_parts("第一百三十三条之一") == (133, 1)
    assert parse_article_label_parts("第287条之2") == (287, 2)
    assert parse_article_label_parts("第十七条") == (17, None)
    assert normal_article_label("第 287 条之二") == "第二百八十七条之二"
    text = "依照《中华人民共和国刑法》第一百三十三条之一第一款第（二）项、第二百八十七条之二、第六十七条之规定"
    assert [m.citation for m in extract_citations(text)] == [
        Citation("刑法", 133, 1, 2, sub=1),
        Citation("刑法", 287, sub=2),
        Citation("刑法", 67),
    ]
    assert [m.citation.label for m in extract_citations(text)] == ["第一百三十三条之一", "第二百八十七条之二", "第六十七条"]
    assert extract_citations("依照刑法第一百二十条之三的规定")[0].text == "刑法第一百二十条之三"


def test_parse_citation_keeps_sub_article() -> None:
    assert parse_citation("《刑法》第一百三十三条之一") == Citation("刑法", 133, sub=1)
    assert str(parse_citation("刑法第133条之1第一款")) == "《刑法》第一百三十三条之一第一款"
    assert parse_citation("《刑法》第一百三十三条之一") != parse_citation("《刑法》第一百三十三条")
    assert sorted([Citation("刑法", 134), Citation("刑法", 133, sub=1), Citation("刑法", 133)]) == [
        Citation("刑法", 133), Citation("刑法", 133, sub=1), Citation("刑法", 134)
    ]


@pytest.mark.parametrize(("law", "issuers", "name"), [
    # As the statute corpus titles them.
    ("最高人民法院、最高人民检察院关于办理盗窃刑事案件适用法律若干问题的解释", {"最高人民法院", "最高人民检察院"},
     "关于办理盗窃刑事案件适用法律若干问题的解释"),
    ("最高人民法院关于适用《刑事诉讼法》的解释", {"最高人民法院"}, "关于适用刑事诉讼法的解释"),
    # As judgments cite them: issuers run together, inside the title marks, or left out; 〈〉 < > ﹤﹥ inside.
    ("《最高人民法院最高人民检察院〈关于办理盗窃刑事案件适用法律若干问题的解释〉》", {"最高人民法院", "最高人民检察院"},
     "关于办理盗窃刑事案件适用法律若干问题的解释"),
    ("《关于办理盗窃刑事案件适用法律若干问题的解释》", set(), "关于办理盗窃刑事案件适用法律若干问题的解释"),
    ("《最高人民法院关于适用〈中华人民共和国刑事诉讼法〉的解释》", {"最高人民法院"}, "关于适用刑事诉讼法的解释"),
    ("最高人民法院关于适用﹤中华人民共和国刑事诉讼法﹥的解释", {"最高人民法院"}, "关于适用刑事诉讼法的解释"),
    ("最高人民法院、最高人民检察院、公安部关于办理醉酒驾驶机动车刑事案件适用法律若干问题的意见",
     {"最高人民法院", "最高人民检察院", "公安部"}, "关于办理醉酒驾驶机动车刑事案件适用法律若干问题的意见"),
    # Laws keep their short title; a misspelt title stays as it is.
    ("中华人民共和国刑法", set(), "刑法"),
    ("中国人民共和国刑法", set(), "中国人民共和国刑法"),
    ("最高人民法院、最高人民检察院", {"最高人民法院", "最高人民检察院"}, "最高人民法院、最高人民检察院"),
])
def test_law_name(law: str, issuers: set[str], name: str) -> None:
    assert law_name(law) == (frozenset(issuers), name)
