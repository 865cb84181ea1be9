"""Statute citations (《电子商务法》第十七条) found in running text or written by editors.

A citation names a law and an article, optionally a paragraph (款) and an item (项). The law is
either in 《》 or written bare right before 第…条 (民法典第1165条); a bare name must end in
法典, 法, 条例, 办法, 规定 or 解释, and pronouns such as 本法 and 该法 are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

EXAMPLE = "《电子商务法》第十七条"
PRC = "中华人民共和国"
LAW_SUFFIXES = ("法典", "法", "条例", "办法", "规定", "解释")
# Titles recognised bare inside running text, where nothing marks where the name starts
# (违反了反不正当竞争法第八条): the longest title the text ends with wins.
# fmt: off
KNOWN_LAWS = (
    "宪法", "民法典", "民法通则", "民法总则", "合同法",
    "侵权责任法", "物权法", "担保法", "婚姻法", "继承法", "收养法",
    "民事诉讼法", "刑事诉讼法", "行政诉讼法", "刑法", "行政处罚法",
    "行政许可法", "行政复议法", "国家赔偿法", "著作权法", "专利法",
    "商标法", "反不正当竞争法", "反垄断法", "电子商务法",
    "消费者权益保护法", "产品质量法", "食品安全法", "广告法", "价格法",
    "网络安全法", "数据安全法", "个人信息保护法", "电子签名法",
    "未成年人保护法", "预防未成年人犯罪法", "妇女权益保障法",
    "老年人权益保障法", "残疾人保障法", "公司法", "合伙企业法",
    "证券法", "保险法", "票据法", "商业银行法", "劳动法",
    "劳动合同法", "劳动争议调解仲裁法", "仲裁法", "招标投标法",
    "治安管理处罚法", "涉外民事关系法律适用法", "英雄烈士保护法", "慈善法",
    "著作权法实施条例", "商标法实施条例", "计算机软件保护条例",
    "信息网络传播权保护条例", "互联网信息服务管理办法", "网络交易监督管理办法",
    "网络信息内容生态治理规定",
)
# fmt: on
# Words that end a bare run of text before the law name starts (根据民法典, 违反了商标法).
# fmt: off
_LEAD_WORDS = (
    "根据", "依据", "依照", "按照", "遵照", "参照", "对照",
    "结合", "违反", "援引", "引用", "主张", "认为", "属于",
    "符合", "构成", "应当", "可以", "不得", "适用", "我国",
    "现行", "了", "即", "是", "和", "及", "与", "或",
    "的",
)
# fmt: on
_ISSUERS = (PRC, "最高人民法院", "最高人民检察院", "国务院")
_PRONOUN = re.compile(
    r"(?:本|该|此|上述|前述|上列|下列|以下|相关|有关|这部|那部|这|那|前款|上款)(?:法典|法律|法|条例|办法|规定|解释)$"
)
_NUM = r"[0-9０-９]+|[零〇一二两三四五六七八九十百千]+"
_S = r"[ \t\u3000]*"
# 第一百三十三条之一 is an article of its own (危险驾驶), inserted after 第一百三十三条 (交通肇事).
_SUB = rf"之(?P<sub>{_NUM})"
_ARTICLE = re.compile(rf"第{_S}(?P<n>{_NUM}){_S}条(?:{_S}{_SUB})?")
_PARAGRAPH = re.compile(rf"{_S}第{_S}(?P<n>{_NUM}){_S}款")
_ITEM = re.compile(rf"{_S}第{_S}[（(]?{_S}(?P<n>{_NUM}){_S}[）)]?{_S}项")
_REFERENCE_IN_RUN = re.compile(rf"第(?:{_NUM})(?:条(?:之(?:{_NUM}))?|[款项])")
_SEPARATOR = re.compile(rf"{_S}(?:、|以及|或者|和|及|与|或){_S}(?=第)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERALS = "零一二三四五六七八九"
_MAX_NAME = 80


class CitationError(ValueError):
    """A string that is not a citation; str says what is wrong and shows the right form."""

    def __init__(self, text: str, reason: str, fix: str = "", hint: str = "") -> None:
        self.text = text
        self.reason = reason
        self.fix = fix
        self.hint = hint or (f"Write it as {fix}." if fix else f"Write it like {EXAMPLE}.")
        super().__init__(f"'{text}' is not a statute citation: {reason}. {self.hint}")

    def __reduce__(self) -> tuple[type[CitationError], tuple[str, str, str, str]]:
        return type(self), (self.text, self.reason, self.fix, self.hint)


def chinese_to_int(s: str) -> int:
    """Return the value of a Chinese numeral up to 9999 (十七, 一百零三, 两百), or of digits."""
    text = unicodedata.normalize("NFKC", s).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text) or (len(text) > 1 and text[0] in "零〇"):
        raise ValueError(f"'{s}' is not a number.")
    total, digit, last_unit = 0, None, 10000
    for ch in text:
        if ch in _DIGITS:
            if digit is not None and (digit != 0 or _DIGITS[ch] == 0):
                raise ValueError(f"'{s}' is not a number: two digits in a row.")
            digit = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        if unit >= last_unit or digit == 0:
            raise ValueError(f"'{s}' is not a number: '{ch}' is out of place.")
        # A bare 十 counts as 一十, as in 十七 and 一百十.
        total += (1 if digit is None else digit) * unit
        digit, last_unit = None, unit
    if digit is None:
        return total
    if len(text) > 1 and (digit == 0 or (text[-2] != "零" and last_unit != 10)):
        # 一百零 and 零三 are malformed; 一百三 and 五千五 mean 130 and 5500 in speech, never in statutes.
        raise ValueError(f"'{s}' is not a number: write the last digit with its unit or after 零.")
    return total + digit


def int_to_chinese(n: int) -> str:
    """Return ``n`` (0..9999) in Chinese numerals as statutes write it: 十七, 一百一十, 一千零五."""
    if not 0 <= n <= 9999:
        raise ValueError(f"{n} is outside 0..9999.")
    if n == 0:
        return "零"
    parts: list[str] = []
    gap = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            gap = bool(parts)
            continue
        if gap:
            parts.append("零")
            gap = False
        if not (unit == "十" and digit == 1 and not parts):
            parts.append(_NUMERALS[digit])
        parts.append(unit)
    return "".join(parts)


def article_label(n: int, sub: int | None = None) -> str:
    """Return the label of article ``n``, e.g. 第十七条, or 第一百三十三条之一 with ``sub`` 1."""
    return f"第{int_to_chinese(n)}条" + (f"之{int_to_chinese(sub)}" if sub else "")


def parse_article_label(label: str) -> int:
    """Return the number of an article label such as 第十七条, 第17条 or 第一百二十条之一 (120)."""
    return parse_article_label_parts(label)[0]


def parse_article_label_parts(label: str) -> tuple[int, int | None]:
    """Return (number, sub-number) of an article label: 第一百二十条之一 gives (120, 1), 第十七条 (17, None)."""
    match = re.fullmatch(rf"{_S}第{_S}({_NUM}){_S}条(?:{_S}之({_NUM}))?{_S}", label)
    number = _number(match[1]) if match else None
    sub = _number(match[2]) if match and match[2] else None
    if number is None or (match and match[2] and sub is None):
        raise ValueError(f"'{label}' is not an article label. Write 第, a number of 1 or more and 条, e.g. 第十七条.")
    return number, sub


def normal_article_label(label: str) -> str:
    """Return an article label in its normal form (第17条之1 -> 第十七条之一); ValueError if it is none."""
    return article_label(*parse_article_label_parts(label))


def short_title(law: str) -> str:
    """Return a law's title without 《》, whitespace or the 中华人民共和国 prefix."""
    title = "".join(law.split()).strip("《》")
    return title.removeprefix(PRC) or title


# Who issues judicial interpretations and joint opinions, as their titles open (最高人民法院、最高人民检察院关于…).
INTERPRETATION_ISSUERS = ("最高人民法院", "最高人民检察院", "公安部", "司法部", "国家安全部")
_ISSUER_RUN = re.compile(rf"^(?:(?:{'|'.join(INTERPRETATION_ISSUERS)})[、，,]?)+")
# Title marks inside a title (《关于适用〈中华人民共和国刑事诉讼法〉的解释》), in the forms judgments use.
_INNER_TITLE_MARKS = re.compile(r"[《》〈〉<>﹤﹥＜＞]")


def law_name(law: str) -> tuple[frozenset[str], str]:
    """Return (issuers, name): how a law is known, whichever way a text writes its title.

    Judgments cite one judicial interpretation as 《最高人民法院、最高人民检察院关于办理贪污贿赂刑事
    案件适用法律若干问题的解释》, 《最高人民法院最高人民检察院〈关于办理…的解释〉》 or
    《关于办理…的解释》, and the statute corpus titles 《最高人民法院关于适用〈中华人民共和国刑事诉讼法〉
    的解释》 as 最高人民法院关于适用《刑事诉讼法》的解释. The name drops the issuers at the start
    (returned apart, so a citation that names them can be told from another issuer's document),
    the title marks inside and 中华人民共和国; nothing else is changed, so a misspelt title stays
    unknown.
    """
    title = _INNER_TITLE_MARKS.sub("", short_title(law)).replace(PRC, "")
    issuers = _ISSUER_RUN.match(title)
    if not issuers:
        return frozenset(), title
    named = frozenset(i for i in INTERPRETATION_ISSUERS if i in issuers[0])
    return named, title[issuers.end():] or title


@dataclass(frozen=True)
class Citation:
    """One cited article (with paragraph and item when given) of one law, by short title.

    ``sub`` numbers an inserted article: 第一百三十三条之一 is article 133, sub 1, an article of its
    own, never 第一百三十三条. Citations sort by law, article, sub, paragraph and item, a missing
    part first.
    """

    law: str
    article: int
    paragraph: int | None = None
    item: int | None = None
    sub: int | None = None

    def __str__(self) -> str:
        text = f"《{self.law}》{self.label}"
        if self.paragraph is not None:
            text += f"第{int_to_chinese(self.paragraph)}款"
        if self.item is not None:
            text += f"第{int_to_chinese(self.item)}项"
        return text

    @property
    def label(self) -> str:
        """Return the article label, e.g. 第十七条 or 第一百三十三条之一."""
        return article_label(self.article, self.sub)

    # Ordering is written out instead of order=True, which compares None with int and raises.
    def _key(self) -> tuple[str, int, int, int, int]:
        """Return the sort key, with -1 for a missing sub-article, paragraph or item."""
        return (
            self.law,
            self.article,
            -1 if self.sub is None else self.sub,
            -1 if self.paragraph is None else self.paragraph,
            -1 if self.item is None else self.item,
        )

    def __lt__(self, other: object) -> bool:
        return self._key() < other._key() if isinstance(other, Citation) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self._key() <= other._key() if isinstance(other, Citation) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self._key() > other._key() if isinstance(other, Citation) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self._key() >= other._key() if isinstance(other, Citation) else NotImplemented


@dataclass(frozen=True)
class CitationMatch:
    """A citation found in text; ``text[start:end]`` is the part of the text that cites it.

    The first citation of a list covers the law name and its own article
    (《反不正当竞争法》第八条); the ones after it cover only their own reference (第二十条).
    """

    citation: Citation
    start: int
    end: int
    text: str


def _number(numeral: str) -> int | None:
    """Return the value of an article, paragraph or item number, or None if it is not 1 or more."""
    try:
        value = chinese_to_int(numeral)
    except ValueError:
        return None
    return value if value >= 1 else None


def _references(text: str, pos: int, law: str) -> Iterator[tuple[Citation, int, int]]:
    """Yield (citation, start, end) for 第…条[第…款][第…项] at ``pos`` and the list after it.

    After a separator (、和及与或) a 第…条 starts a new article, a 第…款 a new paragraph of the
    same article and a 第…项 a new item of the same paragraph; a bad number ends the list.
    """
    article: int | None = None
    sub: int | None = None
    paragraph: int | None = None
    item: int | None = None
    while True:
        start = pos
        if match := _ARTICLE.match(text, pos):
            article, paragraph, item = _number(match["n"]), None, None
            sub = _number(match["sub"]) if match["sub"] else None
            pos = match.end()
            if article is None or (match["sub"] and sub is None):
                return
        if article is None:
            return  # the list must open with an article
        if match := _PARAGRAPH.match(text, pos):
            paragraph, item = _number(match["n"]), None
            pos = match.end()
            if paragraph is None:
                return
        if match := _ITEM.match(text, pos):
            item = _number(match["n"])
            pos = match.end()
            if item is None:
                return
        if pos == start:
            return
        yield Citation(law, article, paragraph, item, sub), start, pos
        separator = _SEPARATOR.match(text, pos)
        if not separator:
            return
        pos = separator.end()


def _bare_law(run: str) -> str:
    """Return the law named at the end of ``run`` (CJK text right before 第…条), or ''."""
    if _PRONOUN.search(run):
        return ""
    known = [law for law in KNOWN_LAWS if run.endswith(law)]
    if known:
        name = max(known, key=len)
        return PRC + name if run.endswith(PRC + name) else name
    if not run.endswith(LAW_SUFFIXES):
        return ""
    # The name starts after the last citation in the run (…第一条和Y办法), at its issuer
    # (中华人民共和国, 最高人民法院), or else after the last word that leads up to it (根据, 违反).
    cut = max((m.end() for m in _REFERENCE_IN_RUN.finditer(run)), default=0)
    issuers = [run.rfind(issuer, cut) for issuer in _ISSUERS]
    if max(issuers) >= 0:
        cut = max(issuers)
    else:
        cut = max((run.rfind(word) + len(word) for word in _LEAD_WORDS if run.rfind(word, cut) >= 0), default=cut)
    name = run[cut:]
    return name if len(name) >= 3 else ""


def _law_before(text: str, pos: int) -> tuple[str, int] | None:
    """Return (law name, start) of the law named right before ``pos``, or None."""
    end = pos
    while end > 0 and text[end - 1] in " \t\u3000":
        end -= 1
    if end == 0:
        return None
    if text[end - 1] == "》":
        start = text.rfind("《", max(0, end - _MAX_NAME), end)
        if start < 0 or "》" in text[start : end - 1]:
            return None
        name = text[start + 1 : end - 1]
        return (name, start) if name.strip() else None
    start = end
    while start > max(0, end - _MAX_NAME) and _CJK.match(text[start - 1]):
        start -= 1
    name = _bare_law(text[start:end])
    return (name, end - len(name)) if name else None


def extract_citations(text: str) -> list[CitationMatch]:
    """Return every statute citation in ``text``, in order; a list (第八条、第二十条) gives one each."""
    found: list[CitationMatch] = []
    done = 0
    for article in _ARTICLE.finditer(text):
        if article.start() < done:
            continue
        law = _law_before(text, article.start())
        if not law:
            continue
        name, law_start = law
        for index, (citation, start, end) in enumerate(_references(text, article.start(), short_title(name))):
            start = law_start if index == 0 else start
            found.append(CitationMatch(citation, start, end, text[start:end]))
            done = end
    return found


def parse_citation(text: str) -> Citation:
    """Parse one citation as editors write it, e.g. 《电子商务法》第十七条 or 民法典第十九条."""
    # NFKC folds full-width digits and （）; the brackets go back to full width for 第（十二）项.
    compact = "".join(unicodedata.normalize("NFKC", text).split()).replace("(", "（").replace(")", "）")
    if not compact:
        raise CitationError(text, "it is empty")
    if compact.startswith("《"):
        close = compact.find("》")
        if close < 0:
            raise CitationError(text, "the law's title has no closing 》")
        law, rest = compact[1:close], compact[close + 1 :]
    else:
        first = compact.find("第")
        law, rest = (compact, "") if first < 0 else (compact[:first], compact[first:])
        if _PRONOUN.fullmatch(law):
            raise CitationError(text, f"{law} does not say which law; name it")
        if law and not law.endswith(LAW_SUFFIXES) and law not in KNOWN_LAWS:
            raise CitationError(text, f"'{law}' is not a law's title; put the title in 《》")
    if not law:
        raise CitationError(text, "it names no law")
    title = short_title(law)
    if not rest:
        raise CitationError(text, "it names no article", hint=f"Add the article after the title, e.g. 《{title}》第十七条.")
    article = _ARTICLE.match(rest)
    if not article:
        raise CitationError(text, f"'{rest}' is not an article; write 第, a number and 条")
    references = list(_references(rest, 0, title))
    if not references:
        raise CitationError(text, f"'{article['n']}' is not an article number of 1 or more")
    if len(references) > 1:
        each = ", ".join(str(citation) for citation, _, _ in references)
        raise CitationError(text, f"it holds {len(references)} citations", hint=f"Give each as its own list item: {each}.")
    citation, _, end = references[0]
    if end != len(rest):
        raise CitationError(text, f"there is text after the citation, '{rest[end:]}'", str(citation))
    return citation
