"""Front-matter fields: which entry types take them, what they hold, and how they are checked.

Every field is declared once here; the loader, ``kb new`` templates and the README table all
follow this list.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.entry import CORPUS_FILE

ENTRY_TYPES = ("ruling", "guideline", "statute")
ALL = frozenset(ENTRY_TYPES)
CITING = frozenset({"ruling", "guideline"})
ID_PATTERN = re.compile(r"^[\w\-.（）]+$")
PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class FieldError(ValueError):
    """A value that does not fit its field; str is 'what is wrong.' and ``hint`` how to fix."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class FieldSpec:
    """One front-matter field."""

    name: str
    types: frozenset[str]
    convert: Callable[[Any], Any]
    help: str
    required: bool = False  # needed to index at all
    strict: bool = False  # needed by `kb check --strict`


def to_text(value: Any) -> str:
    """Return a one-line string value."""
    if not isinstance(value, str):
        raise FieldError("must be text, not a list or mapping.", "Write it on one line after the colon.")
    return value.strip()


def to_nonempty_text(value: Any) -> str:
    """Return a string value that is not blank."""
    text = to_text(value)
    if not text:
        raise FieldError("is empty.", "Write a value after the colon.")
    return text


def to_list(value: Any) -> tuple[str, ...]:
    """Return a list of strings; a single string or a comma-separated line becomes a list."""
    if isinstance(value, str):
        items = [part for part in re.split(r"[,，、]", value)] if value.strip() else []
    elif isinstance(value, list):
        items = value
    else:
        raise FieldError("must be a list.", "Write one '- item' per line below the field.")
    result = []
    for item in items:
        if not isinstance(item, str):
            raise FieldError("must be a list of plain values.", "Write one '- item' per line below the field.")
        if item.strip():
            result.append(item.strip())
    return tuple(result)


def to_date(value: Any) -> str:
    """Return a date as 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY' after checking it exists."""
    text = to_text(value)
    match = PARTIAL_DATE.match(text)
    if not match:
        raise FieldError(f"'{text}' is not a date.", "Use YYYY-MM-DD, e.g. 2021-03-01.")
    year, month, day = match.groups()
    try:
        if day:
            return dt.date(int(year), int(month), int(day)).isoformat()
        if month:
            return dt.date(int(year), int(month), 1).strftime("%Y-%m")
        return f"{int(year):04d}"
    except ValueError:
        raise FieldError(f"'{text}' is not a date.", "Use YYYY-MM-DD, e.g. 2021-03-01.") from None


# The scripts an id may use: ASCII letters and digits, '-', '_', '.', the full-width brackets of
# case numbers, and CJK ideographs. \w alone would let a Cyrillic 'а' (U+0430) make
# 'alibaba-v-jiаnshi-shuadan' look like an existing entry while being another.
ID_CHARACTER = re.compile(r"[A-Za-z0-9_\-.（）\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def to_id(value: Any) -> str:
    """Return an entry id that is safe in URLs and file names, in the scripts ids may use."""
    text = to_nonempty_text(value)
    if not ID_PATTERN.match(text) or text.startswith(".") or ".." in text:
        raise FieldError(
            f"'{text}' is not a valid id.",
            "Use letters, digits, Chinese characters, '-', '_' and '.', with no '/' or '..', e.g. bic-2019-anshua-liuliang.",
        )
    odd = next((char for char in text if not ID_CHARACTER.fullmatch(char)), None)
    if odd is not None:
        name = unicodedata.name(odd, "an unnamed character")
        looks = ", not a Latin letter" if name.startswith(("CYRILLIC", "GREEK")) else ", which ids may not hold"
        raise FieldError(
            f"'{text}' is not a valid id: '{odd}' is U+{ord(odd):04X} {name}{looks}.",
            "Use ASCII letters and digits, Chinese characters, '-', '_' and '.'; retype the id on an English keyboard.",
        )
    return text


def to_id_list(value: Any) -> tuple[str, ...]:
    """Return a list of entry ids."""
    return tuple(to_id(item) for item in to_list(value))


def to_sources(value: Any) -> tuple[str, ...]:
    """Return source references: URLs, 'statute text: <corpus path>' or 'corpus file: <corpus>/<file>'."""
    items = to_list(value) if not isinstance(value, str) else (value.strip(),) if value.strip() else ()
    for item in items:
        if not (item.startswith(("http://", "https://", "statute text:", CORPUS_FILE))):
            raise FieldError(
                f"'{item}' is not a source.",
                "Give a URL (https://...), 'statute text: lawrefbook-laws/<path>' or 'corpus file: <corpus>/<file>'.",
            )
    return items


def choice(*allowed: str) -> Callable[[Any], str]:
    """Return a converter that accepts one of ``allowed``, suggesting the closest on a miss."""

    def convert(value: Any) -> str:
        text = to_text(value)
        if text not in allowed:
            close = difflib.get_close_matches(text, allowed, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else "Use one of: " + ", ".join(allowed) + "."
            raise FieldError(f"'{text}' is not allowed.", hint)
        return text

    convert.__doc__ = "Accept one of: " + ", ".join(allowed)
    return convert


def to_case_number(value: Any) -> str:
    """Return a 案号 in its normal form."""
    from kb.casenumber import CaseNumberError, normalize_case_number

    text = to_nonempty_text(value)
    try:
        return normalize_case_number(text)
    except CaseNumberError as exc:
        raise FieldError(f"'{text}' is not a case number: {exc.reason}.", exc.hint) from None


def to_citations(value: Any) -> tuple[str, ...]:
    """Return statute citations in their normal form, e.g. 《电子商务法》第十七条."""
    from kb.citations import CitationError, parse_citation

    result = []
    for item in to_list(value) if not isinstance(value, str) else (value,):
        try:
            result.append(str(parse_citation(item)))
        except CitationError as exc:
            raise FieldError(f"'{item}' is not a statute citation: {exc.reason}.", exc.hint) from None
    return tuple(result)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", ALL, to_id, "unique id; defaults to the file name without .md"),
    FieldSpec("type", ALL, choice(*ENTRY_TYPES), "ruling, guideline or statute", required=True),
    FieldSpec("title", ALL, to_nonempty_text, "Chinese title", required=True),
    FieldSpec("title_en", ALL, to_nonempty_text, "English title"),
    FieldSpec("summary", ALL, to_nonempty_text, "one-paragraph Chinese summary", strict=True),
    FieldSpec("summary_en", ALL, to_nonempty_text, "one-paragraph English summary"),
    FieldSpec("tags", ALL, to_list, "list of keywords"),
    FieldSpec("sources", ALL, to_sources, "list of URLs the facts come from", strict=True),
    FieldSpec("status", ALL, choice("published", "draft"), "published (default) or draft"),
    FieldSpec("related", ALL, to_id_list, "list of related entry ids"),
    FieldSpec("aliases", ALL, to_id_list, "old ids that redirect here"),
    FieldSpec("statutes", CITING, to_citations, "cited articles, e.g. 《电子商务法》第十七条"),
    FieldSpec("court", frozenset({"ruling"}), to_nonempty_text, "court name, e.g. 北京互联网法院"),
    FieldSpec("case_number", frozenset({"ruling"}), to_case_number, "案号, e.g. （2019）京0491民初2547号"),
    FieldSpec("decided_on", frozenset({"ruling"}), to_date, "date of decision, YYYY-MM-DD (or YYYY-MM, YYYY)"),
    FieldSpec("cause", frozenset({"ruling"}), to_nonempty_text, "案由, e.g. 网络服务合同纠纷"),
    FieldSpec("charges", frozenset({"ruling"}), to_list, "罪名 of a criminal judgment, e.g. 危险驾驶罪"),
    FieldSpec("procedure", frozenset({"ruling"}), choice("一审", "二审", "再审"), "一审, 二审 or 再审"),
    FieldSpec("authority", frozenset({"ruling"}), choice("指导性案例", "典型案例", "参考案例", "其他"),
              "指导性案例, 典型案例, 参考案例 or 其他"),
    FieldSpec("treatment", frozenset({"ruling"}), choice("overturned", "superseded"),
              "overturned or superseded, when a later decision displaced it"),
    FieldSpec("holding", frozenset({"ruling"}), to_nonempty_text, "裁判要点: the rule the ruling stands for"),
    FieldSpec("issued_by", frozenset({"guideline"}), to_nonempty_text, "who issued or wrote it"),
    FieldSpec("issued_on", frozenset({"guideline"}), to_date, "date issued, YYYY-MM-DD"),
    FieldSpec("short_title", frozenset({"statute"}), to_nonempty_text, "title without 中华人民共和国"),
    FieldSpec("part", frozenset({"statute"}), to_nonempty_text, "编 of a code, e.g. 总则编"),
    FieldSpec("category", frozenset({"statute"}), to_nonempty_text, "corpus folder, e.g. 民法商法"),
    FieldSpec("level", frozenset({"statute"}), choice("法律", "行政法规", "司法解释", "部门规章", "地方性法规"),
              "法律, 行政法规, 司法解释, 部门规章 or 地方性法规"),
    FieldSpec("version_on", frozenset({"statute"}), to_date, "version date, from the corpus file name"),
    FieldSpec("version_note", frozenset({"statute"}), to_nonempty_text, "which version this is, when there are several"),
    FieldSpec("effective_on", frozenset({"statute"}), to_date, "date it took effect"),
    FieldSpec("history", frozenset({"statute"}), to_list, "adoption and amendment lines from the source"),
    FieldSpec("source_file", frozenset({"statute"}), to_nonempty_text, "path relative to the corpus root"),
)
FIELDS_BY_NAME = {spec.name: spec for spec in FIELDS}
