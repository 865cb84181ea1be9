"""Chinese case numbers (案号): parse, normalise and find them in text.

Since 2016 a case number is written （收案年度）法院代字[专门审判代字]类型代字案件编号号, e.g.
（2019）京0491民初2547号: the year in brackets, the court code (最高法, a province abbreviation
for a high court, plus 2 digits for an intermediate court or 4 for a basic court), an optional
one-character specialised-trial code (知), a type code of 1 to 3 characters (民初, 执异) and a
positive sequence number. Older numbers such as （2007）民三终字第4号 are kept as legacy numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

EXAMPLE = "（2019）京0491民初2547号"
LEGACY_EXAMPLE = "（2007）民三终字第4号"
MIN_YEAR = 1949
MAX_YEAR = 2100
SUPREME_COURT = "最高法"
# Guizhou's court code is 黔 (贵 is no court code).
PROVINCES = "京沪津渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川黔云陕甘青台内桂藏宁新港澳军兵"
SPECIAL_CODES = "知"
COURT_LEVELS = {0: "高级", 2: "中级", 4: "基层"}
# First characters of the case types in the 2016 rules (民初, 刑终, 行初, 执异, 赔, 司惩, 财保, 认港,
# 请台送, 协外认, 民他, 破申, 强清 ...): running text is only searched for these, so that
# （2019）京东公司3名员工 is not taken for a case number.
TYPE_INITIALS = "民刑行执赔委法司财证认请协他破强"

# NFKC already folds （）［］﹝﹞ into ()[]〔〕; the other variants are mapped by hand.
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "[": "(", "]": ")", "【": "(", "】": ")", "〖": "(", "〗": ")"})
# A type-code character: any CJK ideograph but 第, 字 and 号, which belong to the frame.
_TYPE_CHAR = r"(?:(?![第字号])[\u4e00-\u9fff])"
_COURT = rf"(?:{SUPREME_COURT}|[{PROVINCES}](?:[0-9]{{4}}|[0-9]{{2}})?)"
_MODERN = re.compile(
    rf"\((?P<year>[0-9]{{4}})\)(?P<court>{_COURT})(?P<special>[{SPECIAL_CODES}])?"
    rf"(?P<type>{_TYPE_CHAR}{{1,3}})(?P<seq>[0-9]+)号?"
)
# The legacy middle part may hold digits and a bracketed code, as in 沪高民三(知)终字.
_LEGACY_MIDDLE = rf"(?:{_TYPE_CHAR}|[0-9]|\({_TYPE_CHAR}{{1,3}}\)){{1,20}}?"
_LEGACY = re.compile(rf"\((?P<year>[0-9]{{4}})\)(?P<middle>{_LEGACY_MIDDLE})字第(?P<seq>[0-9]+)号?")
_S = r"\s*"
_FIND_MODERN = (
    rf"(?:{_S.join(SUPREME_COURT)}|[{PROVINCES}](?:{_S}[0-9]{{4}}|{_S}[0-9]{{2}})?){_S}(?:[{SPECIAL_CODES}]{_S})?"
    rf"[{TYPE_INITIALS}]{_S}(?:{_TYPE_CHAR}{_S}){{0,2}}[0-9]+(?:{_S}号)?"
)
_FIND_LEGACY = rf"(?:(?:{_TYPE_CHAR}|[0-9]|\({_TYPE_CHAR}{{1,3}}\)){_S}){{1,20}}?字{_S}第{_S}[0-9]+{_S}号"
# Search queries often leave out the brackets (2019京0491民初2547): accept that for modern numbers.
_FIND = re.compile(rf"\({_S}[0-9]{{4}}{_S}\){_S}(?:{_FIND_MODERN}|{_FIND_LEGACY})|(?<![0-9])[0-9]{{4}}{_S}{_FIND_MODERN}")
# Mistakes whose fix is certain enough to offer: (pattern, replacement, what was wrong).
_REPAIRS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^\(([0-9]{4})年\)"), r"(\1)", "the year in brackets takes only its four digits, without 年"),
    (re.compile(r"^\(?([0-9]{4})\)?(?=[^0-9])"), r"(\1)", "the year must be in brackets"),
    (re.compile(r"^(\([0-9]{4}\)(?:(?!字).)*?)第([0-9]+号?)$"), r"\1\2", "since 2016 there is no 第 before the sequence number"),
)


class CaseNumberError(ValueError):
    """A string that is not a case number; str says what is wrong and how to write it."""

    def __init__(self, text: str, reason: str, fix: str = "", example: str = EXAMPLE) -> None:
        self.text = text
        self.reason = reason
        self.fix = fix
        self.example = example
        self.hint = f"Write it as {fix}." if fix else f"Write it like {example}."
        super().__init__(f"'{text}' is not a case number: {reason}. {self.hint}")

    def __reduce__(self) -> tuple[type[CaseNumberError], tuple[str, str, str, str]]:
        return type(self), (self.text, self.reason, self.fix, self.example)


@dataclass(frozen=True)
class CaseNumber:
    """A parsed case number; ``str()`` gives the normal form （2019）京0491民初2547号.

    A legacy (pre-2016) number keeps its middle part, e.g. 民三终 of （2007）民三终字第4号, in
    ``type_code``, an empty ``court_code`` and its normal form in ``raw_legacy``.
    """

    year: int
    court_code: str
    special_code: str
    type_code: str
    sequence: int
    is_legacy: bool = False
    raw_legacy: str = ""

    def __str__(self) -> str:
        if self.is_legacy:
            return self.raw_legacy or f"（{self.year}）{self.type_code}字第{self.sequence}号"
        return f"（{self.year}）{self.court_code}{self.special_code}{self.type_code}{self.sequence}号"

    @property
    def court_level(self) -> str:
        """Return '最高', '高级', '中级' or '基层'; '' for a legacy number, whose court is unknown."""
        if self.court_code == SUPREME_COURT:
            return "最高"
        if self.is_legacy or not self.court_code:
            return ""
        return COURT_LEVELS.get(len(self.court_code) - 1, "")

    @property
    def is_appeal(self) -> bool:
        """Return True for a second-instance case (type code ending in 终)."""
        return self.type_code.endswith("终")


def _compact(text: str) -> str:
    """Return ``text`` with half-width digits, ASCII brackets and no whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return "".join(text.split())


def _year_ok(year: str) -> bool:
    """Return True if ``year`` lies in the accepted range."""
    return MIN_YEAR <= int(year) <= MAX_YEAR


def _match(compact: str) -> CaseNumber | None:
    """Return the case number spelled exactly by ``compact``, or None."""
    modern = _MODERN.fullmatch(compact)
    if modern and _year_ok(modern["year"]) and int(modern["seq"]) > 0:
        return CaseNumber(
            year=int(modern["year"]),
            court_code=modern["court"],
            special_code=modern["special"] or "",
            type_code=modern["type"],
            sequence=int(modern["seq"]),
        )
    legacy = _LEGACY.fullmatch(compact)
    if legacy and _year_ok(legacy["year"]) and int(legacy["seq"]) > 0:
        middle = legacy["middle"].replace("(", "（").replace(")", "）")
        year, seq = int(legacy["year"]), int(legacy["seq"])
        return CaseNumber(
            year=year,
            court_code="",
            special_code="",
            type_code=middle,
            sequence=seq,
            is_legacy=True,
            raw_legacy=f"（{year}）{middle}字第{seq}号",
        )
    return None


def _repair(compact: str) -> tuple[str, CaseNumber] | None:
    """Return (what was wrong, fixed number) when known repairs turn ``compact`` into a number."""
    reasons = []
    for pattern, replacement, reason in _REPAIRS:
        repaired = pattern.sub(replacement, compact, count=1)
        if repaired != compact:
            compact = repaired
            reasons.append(reason)
    fixed = _match(compact)
    return ("; ".join(reasons), fixed) if reasons and fixed else None


def _prefix(pattern: str, text: str) -> str:
    """Return the part of ``text`` that ``pattern`` matches at its start ('' if none)."""
    match = re.match(pattern, text)
    return match[0] if match else ""


def _explain(compact: str) -> str:
    """Return what is wrong with ``compact``, which is not a case number."""
    if not compact:
        return "it is empty"
    year = re.match(r"\(([0-9]+)\)", compact)
    if not year:
        if re.match(r"[0-9]{4}", compact):
            return "the year must be in brackets"
        return "it must start with the year in brackets, such as （2019）"
    if len(year[1]) != 4:
        return f"the year must have four digits, not '{year[1]}'"
    if not _year_ok(year[1]):
        return f"the year {year[1]} is not between {MIN_YEAR} and {MAX_YEAR}"
    rest = compact[year.end() :]
    court = re.match(rf"{SUPREME_COURT}|[{PROVINCES}]", rest)
    if not court:
        return "there is no court code after the year (最高法, or a province abbreviation such as 京, 京04 or 京0491)"
    digits = _prefix(r"[0-9]*", rest[court.end() :])
    code = court[0] + digits
    if court[0] == SUPREME_COURT and digits:
        return f"the court code '{code}' must be just 最高法, without digits"
    if len(digits) not in COURT_LEVELS:
        return f"the court code '{code}' must have 2 digits (intermediate court) or 4 digits (basic court) after {court[0]}"
    rest = rest[len(code) :]
    type_code = _prefix(r"(?:(?!号)[\u4e00-\u9fff])*", rest)
    if type_code[:1] in SPECIAL_CODES and len(type_code) > 1:
        type_code = type_code[1:]
        rest = rest[1:]
    if not type_code:
        return "the case type code, such as 民初, is missing after the court code"
    if len(type_code) > 3:
        return f"'{type_code}' is not a case type code, which has 1 to 3 characters, such as 民初 or 执"
    rest = rest[len(type_code) :]
    sequence = _prefix(r"[0-9]*", rest)
    if not sequence:
        return "the sequence number after the case type code is missing"
    if int(sequence) == 0:
        return "the sequence number must be 1 or more"
    tail = rest[len(sequence) :].removeprefix("号")
    if tail:
        return f"there is text after the case number, '{tail}'"
    return "it does not follow the pattern （year）court code, type code, number号"


def parse_case_number(text: str) -> CaseNumber:
    """Parse a case number written with any brackets, digit width or stray spaces."""
    compact = _compact(text)
    number = _match(compact)
    if number:
        return number
    repaired = _repair(compact)
    if repaired:
        reason, fixed = repaired
        raise CaseNumberError(text, reason, str(fixed))
    found = find_case_numbers(text)
    # Offer the number found inside as the fix only if nothing but punctuation follows it:
    # dropping a label before it (案号：) is safe, dropping 之一 or -2 after it is not.
    inside = _FIND.search(compact)
    if len(found) == 1 and inside and not re.search(r"\w", compact[inside.end() :]):
        raise CaseNumberError(text, "there is other text around the case number", found[0])
    if len(found) > 1:
        raise CaseNumberError(text, f"it holds {len(found)} case numbers, not one")
    if "字第" in compact:
        raise CaseNumberError(text, "a case number from before 2016 ends in 字第, a number and 号", example=LEGACY_EXAMPLE)
    raise CaseNumberError(text, _explain(compact))


def normalize_case_number(text: str) -> str:
    """Return the normal form of a case number, e.g. （2019）京0491民初2547号."""
    return str(parse_case_number(text))


def find_case_numbers(text: str) -> list[str]:
    """Return every case number in running text, normalised, in order, without duplicates."""
    prepared = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    found: list[str] = []
    for match in _FIND.finditer(prepared):
        compact = _compact(match[0])
        number = _match(compact if compact.startswith("(") else f"({compact[:4]}){compact[4:]}")
        if number and str(number) not in found:
            found.append(str(number))
    return found


def without_case_numbers(text: str) -> str:
    """Return ``text`` (NFKC-normalised) with every case number :func:`find_case_numbers` finds cut out."""
    prepared = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return _FIND.sub(" ", prepared)


def looks_like_case_number(text: str) -> bool:
    """Return True if the whole of ``text`` is a case number, or one with a certain fix (2019京0491民初1)."""
    compact = _compact(text)
    return _match(compact) is not None or _repair(compact) is not None
