"""Similar rulings and the retrieval report (类案检索报告, 法发〔2020〕24号).

- ``POST /api/similar`` ``{"text": "...", "limit": 30}`` or ``{"id": "...", "limit": 30}``: similar
  rulings, each with why it matched; ``GET/POST /similar`` is the page for pasted facts; the entry
  page shows a ruling's similar rulings through the template global ``similar_rulings``.
- ``GET /report`` builds the report from what the browser kept (static/report.js keeps the selected
  rulings and every search in localStorage); ``POST /report/export`` renders it as Markdown or as
  a print-ready HTML page with every part art. 8 lists. Case facts come from the index, never
  from the browser: the browser sends ids, notes, the dispute focus and the searches it ran.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from indexer import QueryError, SearchIndex
from indexer.hits import hit_properties
from indexer.schema import FILTER_FIELDS
from indexer.similar import (
    MAX_LIMIT,
    MAX_TEXT,
    MIN_TEXT,
    SimilarHit,
    SimilarResult,
    check_limit,
    search_similar,
    statute_label,
)
from kb import __version__
from kb.precedent import CONSULT, FOLLOW, is_recent, reference, tier_name, tier_rank
from kb.render import entry_url, render_markdown
from webapp import public_url, search_index
from webapp.limits import parse_json

bp = Blueprint("report", __name__)

ENTRY_SIMILAR = 8
MAX_CASES = 50
MAX_NOTE = 4000
MAX_SEARCHES = 100
MAX_FIELD = 1000
BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")
FILTER_NAMES = (*FILTER_FIELDS, "sort")  # what a recorded search keeps: the filters of /api/search and the order

# For webapp.openapi.SCHEMAS: a similar ruling is a hit (its snippet moved into the explanation) and why it matched.
TEXTS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
SIMILAR_HIT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "title", "url", "score", "follow", "tier", "explanation"],
    "properties": {**{k: v for k, v in hit_properties().items() if k != "snippet"}, "explanation": {
        "type": "object",
        "description": "Why it matched: the causes, charges and cited articles it shares with the facts, the same laws, the shared terms.",
        "properties": {"causes": TEXTS, "charges": TEXTS, "statutes": TEXTS, "same_law": TEXTS, "terms": TEXTS,
                       "snippet": {"type": "string", "description": "HTML: the passage holding the most shared terms, in <mark>."},
                       "scores": {"type": "object", "additionalProperties": {"type": "number"}}},
    }},
}

# For webapp.openapi.PATHS["/api/similar"] (the lead's file): the POST operation.
SIMILAR_OPENAPI: dict[str, Any] = {
    "post": {
        "summary": "Similar rulings for a fact description or a ruling, each explained (shared cause, statutes, terms).",
        "operationId": "similar",
        "tags": ["api"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "minLength": MIN_TEXT, "maxLength": MAX_TEXT, "description": "Facts of the pending case."},
                "id": {"type": "string", "minLength": 1, "description": "A ruling's id (instead of text)."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 30},
                "order": {"type": "string", "enum": ["similarity", "precedent"], "default": "similarity"},
            },
        }}}},
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["ok", "results"],
                "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/SimilarHit"}}}}}}},
            "400": {"description": "Not JSON, text too short or long, limit out of range, both or neither of text and id.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "404": {"description": "No entry has this id.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    },
}


# -- similar rulings ----------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
    message = 'the body must be a JSON object, e.g. {"text": "案情……", "limit": 30}.'
    if not request.is_json:
        raise BadRequest(message)
    data = parse_json(request.get_data(cache=False), "the body", invalid=message)
    if not isinstance(data, dict):
        raise BadRequest(message)
    return data


@bp.post("/api/similar")
def api_similar():  # type: ignore[no-untyped-def]
    """Return the rulings most similar to ``text`` (facts) or to the ruling ``id``, each explained."""
    data = _json_body()
    unknown = sorted(set(data) - {"text", "id", "limit", "order"})
    if unknown:
        raise QueryError(f"unknown field(s) {', '.join(unknown)}. Send text or id, and optionally limit and order.")
    text, entry_id = data.get("text"), data.get("id")
    if (text is None) == (entry_id is None):
        raise QueryError("send either text (the facts, 20 to 20,000 characters) or id (a ruling), not both.")
    limit = check_limit(data.get("limit", 30))
    order = data.get("order", "similarity")
    if not isinstance(order, str):
        raise QueryError("order must be similarity or precedent.")
    index = search_index(current_app)
    if entry_id is not None:
        if not isinstance(entry_id, str) or not entry_id:
            raise QueryError("id must be a non-empty string.")
        if index.get_entry(entry_id) is None:
            abort(404, description=f"no entry '{entry_id[:100]}'.")
    result = search_similar(index, text=text, entry_id=entry_id, limit=limit, order=order)
    return jsonify(result.to_dict())


@bp.app_template_global()
def similar_rulings(entry_id: str, limit: int = ENTRY_SIMILAR) -> list[SimilarHit]:
    """Return the rulings similar to ``entry_id``, for the entry page (empty if there are none)."""
    index = search_index(current_app)
    try:
        return search_similar(index, entry_id=entry_id, limit=limit).hits
    except QueryError:
        return []


@bp.app_template_global()
def statute_text(key: str) -> str:
    """Return a citation key as people write it: 《消费者权益保护法》第五十五条."""
    return statute_label(key)


@bp.app_template_global()
def precedent_label(value: str | None) -> str:
    """Return the translated name of an authority tier or of 应当参照 / 可以参考."""
    labels = {
        "指导性案例": _("指导性案例"), "典型案例": _("典型案例"), "参考案例": _("参考案例"), "其他": _("其他"),
        FOLLOW: _("应当参照"), CONSULT: _("可以参考"),
    }
    return labels.get(value or "其他", value or "")


@bp.route("/similar", methods=["GET", "POST"])
def similar_page():  # type: ignore[no-untyped-def]
    """Show the form for a pasted fact description and, after POST, the similar rulings."""
    result: SimilarResult | None = None
    text = ""
    error = None
    if request.method == "POST":
        text = request.form.get("text", "")
        try:
            result = search_similar(search_index(current_app), text=text, limit=30)
        except QueryError:
            error = _("请输入 %(min)s 至 %(max)s 字的案情。", min=MIN_TEXT, max=MAX_TEXT)
    return render_template("report_similar.html", result=result, text=text, error=error,
                           min_text=MIN_TEXT, max_text=MAX_TEXT), (400 if error else 200)


# -- the retrieval report -----------------------------------------------------------------------


@bp.get("/report")
def report_page():  # type: ignore[no-untyped-def]
    """Show the report builder; static/report.js fills in the selected rulings and the searches."""
    return render_template("report.html")


def _clip(value: Any, limit: int = MAX_FIELD) -> str:
    return str(value)[:limit].strip() if value is not None else ""


def _parse_time(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(BEIJING)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the last datetime in Beijing time
        raise BadRequest(f"searches: time '{value}' is out of range.") from None


def parse_searches(raw: str) -> list[dict[str, Any]]:
    """Return the searches the browser recorded, checked and clipped; raise BadRequest if not a JSON list."""
    if not raw.strip():
        return []
    items = parse_json(raw, "searches", invalid="searches must be a JSON list.")
    if not isinstance(items, list):
        raise BadRequest("searches must be a JSON list.")
    searches = []
    for item in items[-MAX_SEARCHES:]:
        if not isinstance(item, dict):
            continue
        when = _parse_time(_clip(item.get("time"), 40))
        filters = item.get("filters") if isinstance(item.get("filters"), dict) else {}
        filters = {k: _filter_value(v) for k, v in filters.items() if k in FILTER_NAMES and v not in (None, "", [])}
        total = item.get("total")
        searches.append({
            "time": when,
            "kind": "similar" if item.get("kind") == "similar" else "search",
            "query": _clip(item.get("query")),
            "filters": filters,
            "total": total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
        })
    return searches


def report_cases(index: SearchIndex, ids: list[str], notes: Mapping[str, str]) -> list[dict[str, Any]]:
    """Return the selected rulings with what the report shows of each, in the order of art. 4."""
    if len(ids) > MAX_CASES:
        raise BadRequest(f"a report holds at most {MAX_CASES} rulings.")
    today = dt.date.today()
    cases = []
    missing = []
    for position, entry_id in enumerate(dict.fromkeys(ids)):
        stored = index.get_entry(entry_id)
        if stored is None or stored.get("type") != "ruling":
            missing.append(entry_id[:100])
            continue
        meta = stored["meta"]
        authority = tier_name(meta.get("authority"))
        cases.append({
            "id": entry_id, "title": stored["title"], "url": entry_url(entry_id), "position": position,
            "case_number": meta.get("case_number"), "court": meta.get("court"), "date": meta.get("decided_on"),
            "cause": meta.get("cause"), "charges": "、".join(meta.get("charges") or []),
            "procedure": meta.get("procedure"), "gist": _gist(meta), "tier": authority, "treatment": meta.get("treatment"),
            "follow": reference(authority),
            "statutes": [statute_label(k) for k in (stored.get("statutes") or "").split(",") if k],
            "note": _clip(notes.get(entry_id), MAX_NOTE), "recent": is_recent(meta.get("decided_on"), today),
        })
    if missing:
        raise BadRequest(f"not rulings in this index: {', '.join(missing)}.")
    cases.sort(key=lambda c: (tier_rank(c["tier"]), not c["recent"], c["position"]))
    for number, case in enumerate(cases, 1):
        case["number"] = number
    return cases


def _gist(meta: Mapping[str, Any]) -> tuple[str, str | None]:
    """Return what the report's section 6 says of a ruling: (label, text).

    Its holding (裁判要点) when an editor wrote one; else its outcome (裁判结果: the summary, which
    for an imported judgment is the court's own 判决结果); else the holding, marked as not given.
    """
    if meta.get("holding"):
        return _("裁判要点"), meta["holding"]
    if meta.get("summary"):
        return _("裁判结果"), meta["summary"]
    return _("裁判要点"), None


def build_report(index: SearchIndex, form: Mapping[str, Any], ids: list[str]) -> dict[str, Any]:
    """Return everything the report shows (art. 8): who, when, where, how, results, holdings, focus, use."""
    notes = {key[5:]: value for key, value in form.items() if key.startswith("note:")}
    cases = report_cases(index, ids, notes)
    searches = parse_searches(str(form.get("searches") or ""))
    now = dt.datetime.now(BEIJING)
    times = [s["time"] for s in searches if s["time"]]
    return {
        "title": _("类案检索报告"),
        "generated": now,
        "searcher": _clip(form.get("searcher"), 200),
        "unit": _clip(form.get("unit"), 200),
        "pending": _clip(form.get("pending"), 200),
        "facts": _clip(form.get("facts"), MAX_TEXT),
        "dispute": _clip(form.get("dispute"), MAX_NOTE),
        "conclusion": _clip(form.get("conclusion"), MAX_NOTE),
        # The site and its version, as a reader of the report can name them; not the internal build id,
        # and never the client's Host header.
        "platform": {"name": current_app.config["SITE_NAME"], "url": public_url("/") if "://" in public_url("/") else "",
                     "version": __version__, "documents": index.count()},
        "searches": searches,
        "first": min(times) if times else None,
        "last": max(times) if times else None,
        "cases": cases,
        "follow": [c for c in cases if c["follow"] == FOLLOW],
        "consult": [c for c in cases if c["follow"] == CONSULT],
    }


def _search_text(s: Mapping[str, Any], quote: Callable[[str], str] = lambda text: text) -> str:
    """Return one recorded search as the report's method section lists it (``quote`` escapes for Markdown)."""
    kind = _("类案检索") if s["kind"] == "similar" else _("关键词检索")
    parts = [f"{_time_text(s['time'])} {kind}：{quote(s['query']) or _('（无关键词）')}"]
    if s["filters"]:
        parts.append(f"{_('筛选')}：{quote(_filters_text(s['filters']))}")
    if s["total"] is not None:
        parts.append(_("结果 %(n)s 件", n=s["total"]))
    return "；".join(parts)


def _filters_text(filters: Mapping[str, str]) -> str:
    from webapp.pages import FILTER_LABELS

    labels = dict(FILTER_LABELS, sort=_("排序"))
    return "；".join(f"{labels.get(k, k)}={v}" for k, v in filters.items())


def _filter_value(value: Any) -> str:
    """Return a recorded filter as text: one value, or several of one facet (type=ruling&type=guideline)."""
    return "、".join(_clip(v, 200) for v in value[:20]) if isinstance(value, list) else _clip(value, 200)


def _time_text(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _md_escape(text: str) -> str:
    """Return one-line user text safe inside a Markdown list item or table cell."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", " ".join(text.split()))


def _md_block(text: str) -> str:
    """Return multi-line user text with its Markdown kept but no raw HTML (``<`` and ``>`` escaped)."""
    return re.sub(r"([\\<>])", r"\\\1", text)


def report_markdown(report: dict[str, Any]) -> str:
    """Return the report as Markdown."""
    none = _("（未填写）")
    lines = [f"# {report['title']}", ""]
    lines += [f"## {_('一、检索主体')}", "",
              f"- {_('检索人')}：{_md_escape(report['searcher']) or none}",
              f"- {_('所在部门')}：{_md_escape(report['unit']) or none}",
              f"- {_('待决案件')}：{_md_escape(report['pending']) or none}", ""]
    lines += [f"## {_('二、检索时间')}", ""]
    if report["first"]:
        lines.append(f"- {_('检索时段')}：{_time_text(report['first'])} — {_time_text(report['last'])}（{_('北京时间')}）")
    lines += [f"- {_('报告生成')}：{_time_text(report['generated'])}（{_('北京时间')}）", ""]
    platform = report["platform"]
    lines += [f"## {_('三、检索平台')}", "",
              f"- {platform['name']}" + (f"（{platform['url']}）" if platform["url"] else ""),
              f"- {_('版本')}：{platform['version']}；{_('文档数')}：{platform['documents']}", ""]
    lines += [f"## {_('四、检索方法')}", ""]
    if report["searches"]:
        for s in report["searches"]:
            lines.append("- " + _search_text(s, _md_escape))
    else:
        lines.append(f"- {_('本次报告未记录检索操作。')}")
    lines += ["", f"## {_('五、检索结果')}", "",
              _("共选取类案 %(n)s 件，按《最高人民法院关于统一法律适用加强类案检索的指导意见（试行）》第四条排序：指导性案例、典型案例、参考案例、其他，近三年优先。",
                n=len(report["cases"])), ""]
    lines += [f"## {_('六、类案裁判要点')}", ""]
    for case in report["cases"]:
        lines += [f"### {case['number']}. {_md_escape(case['title'])}", "",
                  f"- {_('案号')}：{_md_escape(case['case_number'] or '') or none}",
                  f"- {_('法院')}：{_md_escape(case['court'] or '') or none}",
                  f"- {_('裁判日期')}：{case['date'] or none}",
                  *([f"- {_('罪名')}：{_md_escape(case['charges'])}"] if case["charges"] else []),
                  f"- {_('权威层级')}：{precedent_label(case['tier'])}",
                  f"- {_('参照或参考')}：{precedent_label(case['follow'])}"]
        if case["statutes"]:
            lines.append(f"- {_('引用法条')}：{_md_escape('、'.join(case['statutes']))}")
        label, gist = case["gist"]
        lines.append(f"- {label}：{_md_escape(gist or '') or none}")
        if case["note"]:
            lines += [f"- {_('检索人意见')}：", "", *("  " + line for line in _md_block(case["note"]).splitlines())]
        lines.append("")
    lines += [f"## {_('七、待决案件争议焦点')}", ""]
    if report["facts"]:
        lines += [f"{_('基本案情')}：", "", _md_block(report["facts"]), ""]
    lines += [f"{_('争议焦点')}：", "", _md_block(report["dispute"]) or none, ""]
    lines += [f"## {_('八、类案运用情况')}", ""]
    follow = "、".join(f"{c['number']}" for c in report["follow"])
    consult = "、".join(f"{c['number']}" for c in report["consult"])
    lines.append(f"- {_('应当参照')}（{_('指导性案例')}）：{follow or _('无')}")
    lines.append(f"- {_('可以参考')}：{consult or _('无')}")
    if report["conclusion"]:
        lines += ["", _md_block(report["conclusion"])]
    lines.append("")
    return "\n".join(lines)


def report_docx(report: dict[str, Any]) -> bytes:
    """Return the report as a Word document (courts file .docx): the same eight sections of art. 8 as the HTML and PDF."""
    import io

    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    none = _("（未填写）")
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = section.right_margin = Cm(2)
    section.left_margin = Cm(2.5)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = document.styles[name]
        style.font.name = "SimSun"
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    document.styles["Normal"].font.size = Pt(11)

    def facts_table(rows: list[tuple[str, str]]) -> None:
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
            cells[0].width, cells[1].width = Cm(3.5), Cm(13)

    def paragraphs(text: str) -> None:
        for block in re.split(r"\n\s*\n", text.strip()):
            document.add_paragraph(" ".join(block.split()))

    def labelled(label: str, text: str) -> None:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}：").bold = True
        paragraph.add_run(text)

    title = document.add_heading(report["title"], level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading(_("一、检索主体"), level=1)
    facts_table([(_("检索人"), report["searcher"] or none), (_("所在部门"), report["unit"] or none),
                 (_("待决案件"), report["pending"] or none)])

    document.add_heading(_("二、检索时间"), level=1)
    rows = []
    if report["first"]:
        rows.append((_("检索时段"), f"{_time_text(report['first'])} — {_time_text(report['last'])}（{_('北京时间')}）"))
    rows.append((_("报告生成"), f"{_time_text(report['generated'])}（{_('北京时间')}）"))
    facts_table(rows)

    platform = report["platform"]
    document.add_heading(_("三、检索平台"), level=1)
    document.add_paragraph(f"{platform['name']}" + (f"（{platform['url']}）" if platform["url"] else "")
                           + f"；{_('版本')}：{platform['version']}；{_('文档数')}：{platform['documents']}")

    document.add_heading(_("四、检索方法"), level=1)
    for s in report["searches"]:
        document.add_paragraph(_search_text(s), style="List Number")
    if not report["searches"]:
        document.add_paragraph(_("本次报告未记录检索操作。"))

    document.add_heading(_("五、检索结果"), level=1)
    document.add_paragraph(_("共选取类案 %(n)s 件，按《最高人民法院关于统一法律适用加强类案检索的指导意见（试行）》第四条排序：指导性案例、典型案例、参考案例、其他，近三年优先。",
                             n=len(report["cases"])))
    headers = ["#", _("案件"), _("案号"), _("法院"), _("裁判日期"), _("权威层级"), _("参照或参考")]
    widths = [Cm(0.9), Cm(4.6), Cm(3.3), Cm(2.8), Cm(2.1), Cm(1.9), Cm(1.9)]  # the court's name on one or two lines
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for cell, header, width in zip(table.rows[0].cells, headers, widths):
        cell.text, cell.width = header, width
    for case in report["cases"]:
        values = [str(case["number"]), case["title"], case["case_number"] or none, case["court"] or none, case["date"] or none,
                  precedent_label(case["tier"]), precedent_label(case["follow"])]
        for cell, value, width in zip(table.add_row().cells, values, widths):
            cell.text, cell.width = value, width

    document.add_heading(_("六、类案裁判要点"), level=1)
    for case in report["cases"]:
        document.add_heading(f"{case['number']}. {case['title']}", level=2)
        document.add_paragraph(" · ".join(x for x in [case["court"], case["case_number"], case["date"], case["cause"], case["charges"],
                                                        precedent_label(case["tier"]), precedent_label(case["follow"])] if x))
        labelled(case["gist"][0], case["gist"][1] or none)
        if case["statutes"]:
            labelled(_("引用法条"), "、".join(case["statutes"]))
        if case["note"]:
            labelled(_("检索人意见"), "")
            paragraphs(case["note"])

    document.add_heading(_("七、待决案件争议焦点"), level=1)
    if report["facts"]:
        labelled(_("基本案情"), "")
        paragraphs(report["facts"])
    labelled(_("争议焦点"), "")
    paragraphs(report["dispute"] or none)

    document.add_heading(_("八、类案运用情况"), level=1)
    follow = "；".join(f"{c['number']}. {c['title']}" for c in report["follow"]) or _("无")
    consult = "；".join(f"{c['number']}. {c['title']}" for c in report["consult"]) or _("无")
    document.add_paragraph(f"{_('应当参照')}（{_('指导性案例')}）：{follow}", style="List Bullet")
    document.add_paragraph(f"{_('可以参考')}：{consult}", style="List Bullet")
    if report["conclusion"]:
        paragraphs(report["conclusion"])

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _filename(report: dict[str, Any], extension: str) -> str:
    return f"{_('类案检索报告')}-{report['generated'].strftime('%Y%m%d-%H%M')}.{extension}"


@bp.post("/report/export")
def export():  # type: ignore[no-untyped-def]
    """Return the report as Markdown (format=md), Word (format=docx) or a print-ready HTML page (format=html)."""
    form = request.form
    fmt = form.get("format", "html")
    if fmt not in ("md", "html", "docx"):
        raise BadRequest("format must be md, docx or html.")
    ids = [i for i in form.getlist("id") if i]
    if not ids:
        raise BadRequest(_("请先把至少一件裁判加入检索报告。"))
    report = build_report(search_index(current_app), form, ids)
    if fmt == "md":
        body = report_markdown(report)
        response = Response(body, mimetype="text/markdown")
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = f"attachment; filename=\"report.md\"; filename*=UTF-8''{quote(_filename(report, 'md'))}"
        return response
    if fmt == "docx":
        response = Response(report_docx(report), mimetype=DOCX_MIMETYPE)
        response.headers["Content-Disposition"] = f"attachment; filename=\"report.docx\"; filename*=UTF-8''{quote(_filename(report, 'docx'))}"
        return response

    def markdown(text: str) -> str:
        return render_markdown(text) if text else ""

    return render_template("report_print.html", report=report, markdown=markdown, filters_text=_filters_text,
                           time_text=_time_text)
