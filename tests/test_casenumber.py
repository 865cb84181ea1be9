"""Tests for kb.casenumber: parsing, normalising and finding 案号."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.casenumber import (
    PROVINCES,
    CaseNumber,
    CaseNumberError,
    find_case_numbers,
    looks_like_case_number,
    normalize_case_number,
    parse_case_number,
)

QUICK = settings(max_examples=200, deadline=None, database=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("（2019）京0491民初2547号", CaseNumber(2019, "京0491", "", "民初", 2547)),
        ("（2021）京04民终407号", CaseNumber(2021, "京04", "", "民终", 407)),
        ("（2021）京73民终2496号", CaseNumber(2021, "京73", "", "民终", 2496)),
        ("（2018）京0491民初239号", CaseNumber(2018, "京0491", "", "民初", 239)),
        ("(2019)最高法民再152号", CaseNumber(2019, "最高法", "", "民再", 152)),
        ("（2019）最高法知民终1号", CaseNumber(2019, "最高法", "知", "民终", 1)),
        ("（2020）粤0703执恢12号", CaseNumber(2020, "粤0703", "", "执恢", 12)),
        ("（2020）京0105执异3号", CaseNumber(2020, "京0105", "", "执异", 3)),
        ("（2017）粤07刑终88号", CaseNumber(2017, "粤07", "", "刑终", 88)),
        ("（2020）兵01行初5号", CaseNumber(2020, "兵01", "", "行初", 5)),
        ("（2020）京执保1号", CaseNumber(2020, "京", "", "执保", 1)),
    ],
)
def test_parse_known_numbers(text: str, expected: CaseNumber) -> None:
    assert parse_case_number(text) == expected
    assert str(parse_case_number(text)) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "（2019）京0491民初2547号",
        "(2019)京0491民初2547号",
        "〔2019〕京0491民初2547号",
        "[2019]京0491民初2547号",
        "【2019】京0491民初2547号",
        "［2019］京0491民初2547号",
        "（２０１９）京０４９１民初２５４７号",
        "（2019） 京 0491 民初 2547 号",
        "\u3000(2019)京0491民初2547\n",
        "（2019）京0491民初2547",
    ],
)
def test_variants_share_one_normal_form(text: str) -> None:
    assert normalize_case_number(text) == "（2019）京0491民初2547号"
    assert looks_like_case_number(text)


@pytest.mark.parametrize(
    ("court", "level"),
    [("最高法", "最高"), ("京", "高级"), ("京04", "中级"), ("京73", "中级"), ("京0491", "基层"), ("粤0703", "基层")],
)
def test_court_level(court: str, level: str) -> None:
    assert parse_case_number(f"（2021）{court}民初1号").court_level == level


def test_is_appeal() -> None:
    assert parse_case_number("（2021）京04民终407号").is_appeal
    assert not parse_case_number("（2019）京0491民初2547号").is_appeal
    assert not parse_case_number("(2019)最高法民再152号").is_appeal


def test_legacy_number_keeps_its_form() -> None:
    number = parse_case_number(" (2007)民三终字第4号 ")
    assert number == CaseNumber(2007, "", "", "民三终", 4, is_legacy=True, raw_legacy="（2007）民三终字第4号")
    assert str(number) == "（2007）民三终字第4号"
    assert number.is_appeal
    assert number.court_level == ""


def test_legacy_number_with_bracketed_code() -> None:
    assert normalize_case_number("〔2010〕沪高民三(知)终字第１号") == "（2010）沪高民三（知）终字第1号"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2021京0491民初1号",
            "'2021京0491民初1号' is not a case number: the year must be in brackets. Write it as （2021）京0491民初1号.",
        ),
        (
            "(2019年)京0491民初1号",
            "'(2019年)京0491民初1号' is not a case number: the year in brackets takes only its four digits, "
            "without 年. Write it as （2019）京0491民初1号.",
        ),
        (
            "（2019）京0491民初第2547号",
            "'（2019）京0491民初第2547号' is not a case number: since 2016 there is no 第 before the sequence "
            "number. Write it as （2019）京0491民初2547号.",
        ),
        (
            "2019京0491民初第2547号",
            "'2019京0491民初第2547号' is not a case number: the year must be in brackets; since 2016 there is no 第 "
            "before the sequence number. Write it as （2019）京0491民初2547号.",
        ),
        (
            "案号：(2019)京0491民初1号。",
            "'案号：(2019)京0491民初1号。' is not a case number: there is other text around the case number. "
            "Write it as （2019）京0491民初1号.",
        ),
        ("", "'' is not a case number: it is empty. Write it like （2019）京0491民初2547号."),
        (
            "京0491民初1号",
            "'京0491民初1号' is not a case number: it must start with the year in brackets, such as （2019）. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(19)京0491民初1号",
            "'(19)京0491民初1号' is not a case number: the year must have four digits, not '19'. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(1900)京0491民初1号",
            "'(1900)京0491民初1号' is not a case number: the year 1900 is not between 1949 and 2100. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)X0491民初1号",
            "'(2019)X0491民初1号' is not a case number: there is no court code after the year (最高法, or a "
            "province abbreviation such as 京, 京04 or 京0491). Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京049民初1号",
            "'(2019)京049民初1号' is not a case number: the court code '京049' must have 2 digits (intermediate "
            "court) or 4 digits (basic court) after 京. Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)最高法01民初1号",
            "'(2019)最高法01民初1号' is not a case number: the court code '最高法01' must be just 最高法, without "
            "digits. Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491 2547号",
            "'(2019)京0491 2547号' is not a case number: the court code '京04912547' must have 2 digits "
            "(intermediate court) or 4 digits (basic court) after 京. Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491民事初审1号",
            "'(2019)京0491民事初审1号' is not a case number: '民事初审' is not a case type code, which has 1 to 3 "
            "characters, such as 民初 or 执. Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491民初号",
            "'(2019)京0491民初号' is not a case number: the sequence number after the case type code is missing. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491民初0号",
            "'(2019)京0491民初0号' is not a case number: the sequence number must be 1 or more. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491民初1号之一",
            "'(2019)京0491民初1号之一' is not a case number: there is text after the case number, '之一'. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2019)京0491民初1号、(2019)京0491民初2号",
            "'(2019)京0491民初1号、(2019)京0491民初2号' is not a case number: it holds 2 case numbers, not one. "
            "Write it like （2019）京0491民初2547号.",
        ),
        (
            "(2007)民三终字第号",
            "'(2007)民三终字第号' is not a case number: a case number from before 2016 ends in 字第, a number "
            "and 号. Write it like （2007）民三终字第4号.",
        ),
    ],
)
def test_rejections_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CaseNumberError) as info:
        parse_case_number(text)
    assert str(info.value) == message


def test_error_exposes_its_parts() -> None:
    with pytest.raises(CaseNumberError) as info:
        parse_case_number("2021京0491民初1号")
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.text, error.reason, error.fix) == ("2021京0491民初1号", "the year must be in brackets", "（2021）京0491民初1号")
    assert error.hint == "Write it as （2021）京0491民初1号."


def test_find_in_running_text() -> None:
    text = (
        "本院（2019）京0491民初2547号判决，二审(2021)京04民终407号维持；又见（2019）京0491民初2547号。"
        "早年(2007)民三终字第4号，以及查询 2019 京0491 民初 1 与 （２０２１）京７３民终２４９６。"
    )
    assert find_case_numbers(text) == [
        "（2019）京0491民初2547号",
        "（2021）京04民终407号",
        "（2007）民三终字第4号",
        "（2019）京0491民初1号",
        "（2021）京73民终2496号",
    ]


@pytest.mark.parametrize(
    "text",
    ["", "北京互联网法院", "（2019）京东公司3名员工", "(1900)京0491民初1号", "（2019）年第3号", "2019年京0491"],
)
def test_find_nothing(text: str) -> None:
    assert find_case_numbers(text) == []


def test_find_in_search_query() -> None:
    assert find_case_numbers("(2019) 京0491 民初 2547 刷单") == ["（2019）京0491民初2547号"]
    assert find_case_numbers("2019京0491民初2547 12019京0491民初1") == ["（2019）京0491民初2547号"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(2019) 京0491 民初 2547", True),
        ("2019 京0491 民初 2547", True),
        ("（2019年）京0491民初2547号", True),
        ("（2019）京0491民初第2547号", True),
        ("(2019) 京0491 民初 2547 刷单", False),
        ("案号：(2019)京0491民初1号", False),
        ("(2019)京0491民初1号之一", False),
        ("0123", False),
        ("刷单", False),
        ("", False),
    ],
)
def test_looks_like_accepts_certain_fixes(text: str, expected: bool) -> None:
    assert looks_like_case_number(text) is expected


# Property tests: generated valid numbers, written the ways editors and users write them.

TYPE_CODES = ("民初", "民终", "民申", "民再", "刑初", "刑终", "行初", "行终", "执", "执异", "执恢", "执保", "民辖终")
type_chars = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(lambda c: c not in "第字号知")
courts = st.one_of(
    st.just("最高法"),
    st.builds(
        lambda province, digits: province + digits,
        st.sampled_from(PROVINCES),
        st.sampled_from(["", "01", "04", "73"]) | st.from_regex(r"[0-9]{2}|[0-9]{4}", fullmatch=True),
    ),
)
case_numbers = st.builds(
    CaseNumber,
    year=st.integers(1949, 2100),
    court_code=courts,
    special_code=st.sampled_from(["", "知"]),
    type_code=st.sampled_from(TYPE_CODES) | st.text(type_chars, min_size=1, max_size=3),
    sequence=st.integers(1, 10**6),
)
BRACKETS = ("（）", "()", "〔〕", "[]", "【】", "［］")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@QUICK
@given(case_numbers)
def test_round_trip(number: CaseNumber) -> None:
    assert parse_case_number(str(number)) == number
    assert str(parse_case_number(str(number))) == str(number)


@st.composite
def written(draw: st.DrawFn, number: CaseNumber, split_digits: bool = True) -> str:
    """Write ``number`` with any brackets, digit widths and stray spaces (inside digit runs too)."""
    brackets = draw(st.sampled_from(BRACKETS))
    body = str(number)[6:]
    if draw(st.booleans()):
        body = body.removesuffix("号")
    text = f"{brackets[0]}{number.year}{brackets[1]}{body}"
    chars = [ch.translate(FULL_WIDTH) if draw(st.booleans()) else ch for ch in text]
    spaces = st.sampled_from(["", "", " ", "\u3000", "\t"])
    return "".join(
        ch if not split_digits and ch.isdigit() and after.isdigit() else ch + draw(spaces)
        for ch, after in zip(chars, [*chars[1:], ""], strict=True)
    )


@QUICK
@given(st.data(), case_numbers)
def test_variants_parse_to_the_normal_form(data: st.DataObject, number: CaseNumber) -> None:
    text = data.draw(written(number))
    assert normalize_case_number(text) == str(number)
    assert looks_like_case_number(text)


@QUICK
@given(st.data(), case_numbers.filter(lambda n: n.type_code[0] in "民刑行执"), st.text(max_size=20), st.text(max_size=20))
def test_found_inside_running_text(data: st.DataObject, number: CaseNumber, before: str, after: str) -> None:
    text = data.draw(written(number, split_digits=False))
    assert str(number) in find_case_numbers(f"{before}，{text}。{after}")


NOISY = st.text(
    st.sampled_from(list("()（）〔〕[]【】0123456789２０京沪粤兵最高法知民刑执初终字第号之 \u3000")) | st.characters()
)


@QUICK
@given(st.text() | NOISY)
def test_arbitrary_text_raises_only_case_number_error(text: str) -> None:
    try:
        number = parse_case_number(text)
    except CaseNumberError as error:
        assert str(error).startswith(f"'{text}' is not a case number: ")
        repairable = bool(error.fix) and error.reason != "there is other text around the case number"
        assert looks_like_case_number(text) is repairable
    else:
        assert looks_like_case_number(text)
        assert normalize_case_number(str(number)) == str(number)


@QUICK
@given(st.text() | NOISY)
def test_found_numbers_are_normal(text: str) -> None:
    found = find_case_numbers(text)
    assert len(found) == len(set(found))
    assert all(normalize_case_number(number) == number for number in found)


def test_guizhou_court_code_is_qian() -> None:
    # 98 LeCaRD judgments come from Guizhou, whose court code is 黔; 贵 is no court code.
    number = parse_case_number("（2018）黔0102刑初1024号")
    assert (number.court_code, number.court_level, str(number)) == ("黔0102", "基层", "（2018）黔0102刑初1024号")
    with pytest.raises(CaseNumberError):
        parse_case_number("（2018）贵0102刑初1024号")
