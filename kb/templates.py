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


def new_entry_id(entry_type: str, title: str, case_number: str | None = None) -> str:
    """Return the id (and file name) for a new entry: from the case number if given, else the title."""
    if case_number:
        try:
            cn = parse_case_number(case_number)
            return f"{cn.year}-{cn.court_code}{cn.special_code}{cn.type_code}{cn.sequence}"
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
