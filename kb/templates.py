"""Templates for new entries: every field of the type, each with a comment on what it takes."""

from __future__ import annotations

import datetime as dt
import re

from kb.casenumber import CaseNumberError, parse_case_number
from kb.fields import FIELDS
from kb.loader import id_from_file_name

FOLDERS = {"ruling": "rulings", "guideline": "guidelines", "statute": "statutes"}
BODIES = {
    "ruling": "## 案情\n\n\n## 裁判要点\n\n\n## 法律依据\n\n\n## 相关\n\n",
    "guideline": "## 适用范围\n\n\n## 要点\n\n| 待证事实 | 举证方 | 常见证据 | 依据 |\n|---|---|---|---|\n|  |  |  |  |\n\n## 清单\n\n1. \n",
    "statute": "## 第一章 总则\n\n第一条 \n",
}
LIST_FIELDS = {"tags", "sources", "related", "aliases", "statutes", "history"}


# pypinyin reads 藏 as cang (to hide); as the court code of Tibet it is zang.
PINYIN_OVERRIDES = {"藏": "zang"}


def _pinyin(text: str) -> str:
    """Return ``text`` in toneless pinyin, lowercase ASCII letters and digits only."""
    from pypinyin import lazy_pinyin

    spelled = "".join(PINYIN_OVERRIDES.get(char) or "".join(lazy_pinyin(char)) for char in text)
    return re.sub(r"[^a-z0-9]", "", spelled.lower())


def case_number_id(case_number: str) -> str:
    """Return the id a ruling gets from its 案号: year, court code, type code and number in pinyin.

    （2021）京0491民初1号 gives 2021-jing0491-minchu-1, （2021）京73知民终2496号 2021-jing73-zhiminzhong-2496,
    （2007）民三终字第4号 2007-minsanzhong-4: ASCII like the other ids in content/rulings/, and the
    same number always gives the same name. Raise CaseNumberError if it is not a case number.
    """
    cn = parse_case_number(case_number)
    parts = [str(cn.year), _pinyin(cn.court_code), _pinyin(cn.special_code + cn.type_code), str(cn.sequence)]
    return "-".join(part for part in parts if part)


def new_entry_id(entry_type: str, title: str, case_number: str | None = None) -> str:
    """Return the id (and file name) for a new entry: from the case number if given, else the title."""
    if case_number:
        try:
            return case_number_id(case_number)
        except CaseNumberError:
            pass
    return id_from_file_name(re.sub(r"\s+", "-", title.strip()))[:80] or entry_type


def render_template(entry_type: str, title: str, case_number: str | None = None) -> str:
    """Return the text of a new entry file of ``entry_type`` with every field present."""
    lines = ["---"]
    for spec in FIELDS:
        if entry_type not in spec.types:
            continue
        need = "required" if spec.required else ("required by --strict" if spec.strict else "optional")
        value = {"id": new_entry_id(entry_type, title, case_number), "type": entry_type, "title": title,
                 "status": "draft"}.get(spec.name, "")
        if spec.name == "case_number" and case_number:
            try:
                value = str(parse_case_number(case_number))
            except CaseNumberError:
                value = case_number
        if spec.name == "decided_on" or spec.name == "issued_on":
            value = ""
        comment = f"# {spec.help} ({need})"
        if spec.name in LIST_FIELDS and not value:
            lines.append(f"{spec.name}: []  {comment}")
        elif value:
            lines.append(f"{spec.name}: {_quote(value)}  {comment}")
        else:
            lines.append(f"# {spec.name}:  {comment[2:]}")
    lines.append("---")
    lines.append(BODIES[entry_type])
    return "\n".join(lines).replace("{today}", dt.date.today().isoformat())


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if re.search(r"[:#\[\]{}&*!|>'\"%@`,]|^\s|\s$", value) else value
