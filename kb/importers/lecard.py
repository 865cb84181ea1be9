"""LeCaRD judgments (``judgments.tar.xz``: ``judgments/<id>.json``) as ruling entries.

Each judgment of the corpus (../shared/corpus/lecard-judgments, 9,088 real criminal judgments)
holds its case name (ajName), document name (writName), facts (ajjbqk), reasoning (cpfxgc),
judgment (pjjg) and full text (qw). Court, case number, date and procedure are read from the
full text and the document name; charges from the judgment (…犯XX罪); cited articles from the
reasoning. A value that cannot be read is left out, never guessed.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.casenumber import find_case_numbers
from kb.citations import chinese_to_int, extract_citations
from kb.entry import CORPUS_FILE
from kb.problems import Problem

CORPUS_NAME = "lecard-judgments"
ARCHIVE = "judgments.tar.xz"
ID_PREFIX = "lecard-"
FOLDER = "rulings/lecard"
# The court is the first word of the first line ending in 法院 (some texts open with the document name).
_COURT = re.compile(r"(?:^|\s)(\S{2,40}?法院)(?=\s|刑事)")
_YEAR_DIGITS = {"〇": "0", "○": "0", "零": "0", "O": "0", "Ｏ": "0", "0": "0", "一": "1", "二": "2", "三": "3",
                "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_YEAR_CHARS = "".join(_YEAR_DIGITS) + "123456789"
# The date of the decision is the last one written before the clerk (书记员) signs.
_DATE_BEFORE_CLERK = re.compile(
    rf"([{_YEAR_CHARS}]{{4}})\s*年\s*([一二三四五六七八九十0-9]{{1,3}})\s*月\s*([一二三四五六七八九十0-9]{{1,3}})\s*日"
    r"[^年]{0,40}?书\s*记\s*员"
)
_PROCEDURES = (("再审", "再审"), ("二审", "二审"), ("一审", "一审"))
# Case-type codes of criminal case numbers: 刑初 first instance, 刑终 appeal, 刑再 retrial.
_TYPE_PROCEDURE = {"刑初": "一审", "刑终": "二审", "刑再": "再审"}
# 犯 opens a charge, but not inside 侵犯 (侵犯著作权罪 is one charge).
_CHARGE_RUN = re.compile(r"(?<!侵)犯([^，。；：,;:（）()\s“”\"]{2,80})")
# A charge ends at its first 罪 that is not the 罪 of 犯罪 (掩饰、隐瞒犯罪所得罪); a list goes on after 、和及.
_CHARGE_END = re.compile(r"(?<!犯)罪")
_CHARGE_JOIN = re.compile(r"(?:、|和|及|与|以及)犯?")
_NOT_IN_CHARGE = ("被告", "判处", "判决", "本院", "数罪", "有期", "犯罪嫌疑", "定罪", "量刑", "部分")
_MAX_SUMMARY = 200


@dataclass
class ConvertedRuling:
    """One ruling entry made from one judgment of the corpus."""

    id: str
    path_in_dest: str
    text: str
    meta: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import converted, what it rejected and how long it took."""

    converted: list[ConvertedRuling]
    problems: list[Problem]
    seconds: float


def iter_judgments(archive: Path, only: set[str] | None = None, limit: int | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (document id, judgment) from ``judgments.tar.xz`` in archive order (the first ``limit`` if given)."""
    count = 0
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            if limit is not None and count >= limit:
                return
            name = member.name
            if not member.isfile() or not name.endswith(".json"):
                continue
            doc_id = Path(name).stem
            if only is not None and doc_id not in only:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            count += 1
            yield doc_id, json.loads(handle.read().decode("utf-8"))


def decided_on(full_text: str) -> str | None:
    """Return the decision date (YYYY-MM-DD) written before 书记员, e.g. 二〇一八年三月五日, or None."""
    found = list(_DATE_BEFORE_CLERK.finditer(full_text))
    if not found:
        return None
    year_text, month_text, day_text = found[-1].groups()
    try:
        year = int("".join(_YEAR_DIGITS.get(ch, ch) for ch in year_text))
        month, day = chinese_to_int(month_text), chinese_to_int(day_text)
        import datetime as dt

        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def court_of(full_text: str) -> str | None:
    """Return the court named on the first line of the full text, e.g. 湖北省应城市人民法院."""
    match = _COURT.search(full_text[:200])
    return match[1] if match else None


def case_number_of(full_text: str) -> str | None:
    """Return the normalised case number on the first line (the first 200 characters), or None."""
    found = find_case_numbers(full_text[:200])
    return found[0] if found else None


def procedure_of(writ_name: str, case_number: str | None) -> str | None:
    """Return 一审, 二审 or 再审 from the document name, else from the case number's type code."""
    for marker, procedure in _PROCEDURES:
        if marker in writ_name:
            return procedure
    if case_number:
        for code, procedure in _TYPE_PROCEDURE.items():
            if code in case_number:
                return procedure
    return None


def charges_in(text: str) -> list[str]:
    """Return the charges named as 犯XX罪 in ``text`` (盗窃罪, 掩饰、隐瞒犯罪所得罪), in order, no repeats."""
    found: list[str] = []
    for match in _CHARGE_RUN.finditer(text):
        run = match[1]
        while True:
            end = _CHARGE_END.search(run)
            if not end:
                break
            part = run[: end.end()].lstrip("犯")
            if 3 <= len(part) <= 40 and not any(w in part for w in _NOT_IN_CHARGE) and part not in found:
                found.append(part)
            rest = run[end.end():]
            join = _CHARGE_JOIN.match(rest)
            if not join:
                break
            run = rest[join.end():]
    return found


def charges_of(judgment: dict) -> list[str]:
    """Return the charges of the judgment: from the judgment part, else the case name (…犯XX罪一案)."""
    return charges_in(judgment.get("pjjg") or "") or charges_in(judgment.get("ajName") or "")


def statutes_of(reasoning: str) -> list[str]:
    """Return the articles the reasoning applies, normalised (《刑法》第一百三十三条之一), no repeats."""
    return list(dict.fromkeys(str(m.citation) for m in extract_citations(reasoning)))


def _section(text: str) -> str:
    """Return a section's text as Markdown paragraphs: the corpus separates paragraphs by spaces."""
    paragraphs = [p.strip() for p in re.split(r"\s{1,}(?=\S)", text.strip()) if p.strip()]
    # A '#' or '>' opening a paragraph would become a heading or quote: escape it.
    return "\n\n".join("\\" + p if p[0] in "#>-*+=|`" else p for p in paragraphs)


def convert_judgment(doc_id: str, judgment: dict) -> ConvertedRuling:
    """Return the ruling entry of one judgment."""
    full = (judgment.get("qw") or "").strip()
    writ_name = (judgment.get("writName") or "").strip()
    case_number = case_number_of(full)
    meta: dict[str, object] = {
        "id": f"{ID_PREFIX}{doc_id}",
        "type": "ruling",
        "title": (judgment.get("ajName") or writ_name or doc_id).strip(),
    }
    verdict = (judgment.get("pjjg") or "").strip()
    first = re.split(r"(?<=。)", verdict, maxsplit=1)[0].strip() if verdict else ""
    if first:
        meta["summary"] = first[:_MAX_SUMMARY]
    values = {
        "court": court_of(full),
        "case_number": case_number,
        "decided_on": decided_on(full),
        "procedure": procedure_of(writ_name, case_number),
    }
    meta.update({k: v for k, v in values.items() if v})
    charges = charges_of(judgment)
    if charges:
        meta["charges"] = charges
    statutes = statutes_of(judgment.get("cpfxgc") or "")
    if statutes:
        meta["statutes"] = statutes
    meta["sources"] = [f"{CORPUS_FILE} {CORPUS_NAME}/{ARCHIVE}#judgments/{doc_id}.json"]
    meta["status"] = "published"
    sections = [("案件基本情况", judgment.get("ajjbqk")), ("裁判分析过程", judgment.get("cpfxgc")),
                ("判决结果", judgment.get("pjjg")), ("全文", full)]
    body = "\n\n".join(f"## {name}\n\n{_section(text)}" for name, text in sections if text and text.strip())
    front = yaml.dump(meta, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=1_000_000)
    entry_id = str(meta["id"])
    return ConvertedRuling(entry_id, f"{entry_id}.md", f"---\n{front}---\n\n{body}\n", meta)


def import_judgments(src: Path, dest: Path, only: set[str] | None = None, limit: int | None = None,
                     charges: set[str] | None = None) -> ImportReport:
    """Convert the judgments of ``src`` (the corpus folder or its ``judgments.tar.xz``) into ``dest/<id>.md``.

    ``charges`` keeps the judgments that convict of one of them (as ``charges_of`` reads them).
    """
    started = time.perf_counter()
    src, dest = Path(src), Path(dest)
    archive = src / ARCHIVE if src.is_dir() else src
    converted: list[ConvertedRuling] = []
    problems: list[Problem] = []
    dest.mkdir(parents=True, exist_ok=True)
    for doc_id, judgment in iter_judgments(archive, only, limit):
        if charges is not None and not charges.intersection(charges_of(judgment)):
            continue
        if not (judgment.get("qw") or "").strip():
            problems.append(Problem(f"{ARCHIVE}#judgments/{doc_id}.json", 1, "qw", "the full text is empty.",
                                    "Skipped: a ruling entry needs its text."))
            continue
        entry = convert_judgment(doc_id, judgment)
        target = dest / entry.path_in_dest
        if not (target.exists() and target.read_text(encoding="utf-8") == entry.text):
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_text(entry.text, encoding="utf-8", newline="\n")
            os.replace(temporary, target)
        converted.append(entry)
    return ImportReport(converted, sorted(problems), time.perf_counter() - started)
