"""Tests for the lawrefbook-laws importer (kb.importers.lawrefbook)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kb.importers.lawrefbook import ConvertedStatute, LawrefbookError, convert_file, import_corpus
from tests.support import CORPUS

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"lawrefbook-laws corpus not found at {CORPUS} (set KB_CORPUS)")

ARTICLE_BODY = "<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 为了测试，制定本法。\n"


def split(entry: ConvertedStatute) -> tuple[dict, str]:
    """Return the front matter (read as the loader does, all strings) and the body."""
    assert entry.text.startswith("---\n")
    front, body = entry.text[4:].split("\n---\n", 1)
    return yaml.load(front, Loader=yaml.BaseLoader), body


def write_corpus(root: Path, files: dict[str, bytes | str]) -> Path:
    """Write a small corpus under ``root`` from {relative path: content}."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    return root


@needs_corpus
def test_convert_ecommerce_law() -> None:
    entry = convert_file(CORPUS, CORPUS / "民法商法" / "电子商务法(2018-08-31).md")
    meta, body = split(entry)
    expected = {
        "id": "电子商务法-2018-08-31",
        "type": "statute",
        "title": "中华人民共和国电子商务法",
        "short_title": "电子商务法",
        "category": "民法商法",
        "level": "法律",
        "version_on": "2018-08-31",
        "history": ["2018年8月31日 第十三届全国人民代表大会常务委员会第五次会议通过"],
        "source_file": "民法商法/电子商务法(2018-08-31).md",
        "sources": ["statute text: lawrefbook-laws/民法商法/电子商务法(2018-08-31).md"],
        "summary": "中华人民共和国电子商务法，共89条。2018-08-31版本。",
        "tags": ["民法商法", "法律"],
        "status": "published",
    }
    assert (meta, list(meta)) == (expected, list(expected))
    assert (entry.id, entry.path_in_dest, entry.article_count) == (
        "电子商务法-2018-08-31",
        "民法商法/电子商务法-2018-08-31.md",
        89,
    )
    assert (entry.title, entry.short_title, entry.version_on) == ("中华人民共和国电子商务法", "电子商务法", "2018-08-31")
    assert body.startswith("\n## 第一章 总则\n\n第一条 为了保障电子商务各方主体的合法权益")
    assert body.endswith("第八十九条 本法自2019年1月1日起施行。\n")


@needs_corpus
def test_convert_civil_code_part() -> None:
    entry = convert_file(CORPUS, CORPUS / "民法典" / "合同编.md")
    meta, body = split(entry)
    expected = {
        "id": "民法典-合同编",
        "type": "statute",
        "title": "中华人民共和国民法典·合同编",
        "short_title": "民法典",
        "part": "合同编",
        "category": "民法典",
        "level": "法律",
        "effective_on": "2021-01-01",
        "history": ["2020年5月28日 第十三届全国人民代表大会第三次会议通过", "2021年1月1日 施行"],
        "source_file": "民法典/合同编.md",
        "sources": ["statute text: lawrefbook-laws/民法典/合同编.md"],
        "summary": "中华人民共和国民法典·合同编，共526条。",
        "tags": ["民法典", "法律"],
        "status": "published",
    }
    assert (meta, list(meta)) == (expected, list(expected))
    assert (entry.path_in_dest, entry.version_on, entry.article_count) == ("民法典/民法典-合同编.md", None, 526)
    # The corpus separates these heading words with U+2002; headings are kept as they are.
    assert body.startswith("\n## 第一分编\u2002\u2002通则\n\n### 第一章\u2002\u2002一般规定\n\n第四百六十三条 本编调整")


@needs_corpus
def test_civil_code_part_name_is_taken_from_the_file() -> None:
    meta, _ = split(convert_file(CORPUS, CORPUS / "民法典" / "总则.md"))
    assert (meta["id"], meta["title"], meta["part"]) == ("民法典-总则", "中华人民共和国民法典·总则", "总则")


@needs_corpus
def test_convert_judicial_interpretation_uses_the_file_name_as_short_title() -> None:
    path = CORPUS / "司法解释" / "最高人民法院关于适用《民事诉讼法》的解释(2022-04-02).md"
    meta, _ = split(convert_file(CORPUS, path))
    assert meta["title"] == "最高人民法院关于适用《中华人民共和国民事诉讼法》的解释"
    assert meta["short_title"] == "最高人民法院关于适用《民事诉讼法》的解释"
    assert meta["id"] == "最高人民法院关于适用-民事诉讼法-的解释-2022-04-02"
    assert (meta["level"], meta["tags"], meta["effective_on"]) == ("司法解释", ["司法解释"], "2022-04-10")


def test_articles_get_one_ascii_space_and_lose_trailing_ideographic_spaces(tmp_path: Path) -> None:
    write_corpus(
        tmp_path,
        {
            "民法商法/示例法(2020-01-01).md": (
                "# 中华人民共和国示例法\n\n"
                "2020年1月1日 第十三届全国人民代表大会常务委员会第十五次会议通过\u3000\n\n"
                "自2020年7月1日起施行\n\n"
                "<!-- INFO END -->\n\n"
                "## 第一章\u3000总则\n\n"
                "第一条\u3000为了示例，制定本法。\u3000\u3000\n\n"
                "第二条 \u3000本法所称示例。\n\n"
                "第二条之一  补充条文。\n\n"
                "本法第一条\u3000的规定不受影响。\n"
            )
        },
    )
    entry = convert_file(tmp_path, tmp_path / "民法商法" / "示例法(2020-01-01).md")
    meta, body = split(entry)
    assert body == (
        "\n## 第一章\u3000总则\n\n"
        "第一条 为了示例，制定本法。\n\n"
        "第二条 本法所称示例。\n\n"
        "第二条之一 补充条文。\n\n"
        "本法第一条\u3000的规定不受影响。\n"
    )
    assert entry.article_count == 3
    assert meta["history"] == ["2020年1月1日 第十三届全国人民代表大会常务委员会第十五次会议通过", "自2020年7月1日起施行"]
    assert meta["effective_on"] == "2020-07-01"
    assert meta["summary"] == "中华人民共和国示例法，共3条。2020-01-01版本。"


def test_local_regulation_takes_the_province_folder_as_category(tmp_path: Path) -> None:
    rel = "DLC/北京地方法规/地方性法规/北京/北京市示例条例.md"
    write_corpus(tmp_path, {rel: "# 北京市示例条例\n\n２０１２年２月２９日 施行\n\n" + ARTICLE_BODY})
    meta, _ = split(convert_file(tmp_path, tmp_path / rel))
    assert (meta["id"], meta["category"], meta["level"]) == ("北京市示例条例", "北京地方法规", "地方性法规")
    assert (meta["tags"], meta["effective_on"], meta["summary"]) == (
        ["北京地方法规", "地方性法规"],
        "2012-02-29",
        "北京市示例条例，共1条。",
    )
    assert "version_on" not in meta


BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "no_title": (
        "2020年1月1日 通过\n\n" + ARTICLE_BODY,
        "民法商法/no_title.md:1: file: no title: the first line is not '# <title>'. "
        "Add a line '# <full title>' at the top, e.g. '# 中华人民共和国电子商务法'.",
    ),
    "no_info_end": (
        "# 中华人民共和国示例法\n\n第一条 为了测试，制定本法。\n",
        "民法商法/no_info_end.md:1: file: no '<!-- INFO END -->' line. "
        "Add a line '<!-- INFO END -->' between the metadata lines and the first article.",
    ),
    "no_articles": (
        "# 全国人民代表大会常务委员会关于示例的决定\n\n<!-- INFO END -->\n\n一、为了测试，作如下决定。\n",
        "民法商法/no_articles.md:3: file: no article: no paragraph starts with '第X条'. "
        "A statute entry needs one article per paragraph ('第一条 …'); leave this file out.",
    ),
    "latin1": (
        "# 中华人民共和国示例法\n\n<!-- INFO END -->\n\n第一条 ".encode() + "café\n".encode("latin-1"),
        "民法商法/latin1.md:5: file: not UTF-8: invalid byte 0xE9 at line 5. Re-save the file as UTF-8.",
    ),
    "empty": (
        "\n \n",
        "民法商法/empty.md:1: file: empty file. Delete it, or add a '# <title>' line, metadata and articles.",
    ),
    "bad_date(2021-13-01)": (
        "# 中华人民共和国示例法\n\n" + ARTICLE_BODY,
        "民法商法/bad_date(2021-13-01).md:1: file: file name date '2021-13-01' is not a date. "
        "Name the file <short title>(YYYY-MM-DD).md, e.g. 电子商务法(2018-08-31).md.",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_reported_and_skipped(tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    src = write_corpus(
        tmp_path / "src",
        {
            f"民法商法/{name}.md": content,
            "民法商法/good.md": "# 中华人民共和国好法\n\n" + ARTICLE_BODY,
        },
    )
    report = import_corpus(src, tmp_path / "dest")
    assert [str(p) for p in report.problems] == [expected]
    assert [c.id for c in report.converted] == ["good"]
    assert sorted(p.relative_to(tmp_path / "dest").as_posix() for p in (tmp_path / "dest").rglob("*.md")) == ["民法商法/good.md"]


def test_convert_file_raises_with_line_and_hint(tmp_path: Path) -> None:
    content, _ = BAD_FILES["no_articles"]
    write_corpus(tmp_path, {"民法商法/决定.md": content})
    with pytest.raises(LawrefbookError) as info:
        convert_file(tmp_path, tmp_path / "民法商法" / "决定.md")
    assert (str(info.value), info.value.line) == ("no article: no paragraph starts with '第X条'.", 3)
    assert isinstance(info.value, ValueError)


def test_files_outside_known_folders_are_rejected(tmp_path: Path) -> None:
    good = "# 中华人民共和国示例法\n\n" + ARTICLE_BODY
    src = write_corpus(
        tmp_path / "src",
        {
            "示例法.md": good,
            "未知/示例法.md": good,
            "README.md": "# not a law\n",
            "DLC/README.md": "x",
        },
    )
    report = import_corpus(src, tmp_path / "dest")
    assert [str(p) for p in report.problems] == [
        "未知/示例法.md:1: file: unknown category folder '未知'. Use one of 宪法, 宪法相关法, 民法典, 民法商法, "
        "行政法, 经济法, 社会法, 刑法, 诉讼与非诉讼程序法, 其他, 行政法规, 司法解释, 部门规章 or DLC/<省>地方法规; "
        "or add it to LEVELS.",
        "示例法.md:1: file: not inside a category folder. Move it into a folder such as 民法商法/.",
    ]
    assert report.converted == []


def test_byte_duplicates_keep_the_first_copy(tmp_path: Path) -> None:
    text = "# 中华人民共和国居民身份证法\n\n" + ARTICLE_BODY
    src = write_corpus(
        tmp_path / "src",
        {
            "行政法/居民身份证法(2011-10-29).md": text,
            "宪法相关法/居民身份证法(2011-10-29).md": text,
        },
    )
    report = import_corpus(src, tmp_path / "dest")
    assert [c.path_in_dest for c in report.converted] == ["宪法相关法/居民身份证法-2011-10-29.md"]
    assert [str(p) for p in report.problems] == [
        "行政法/居民身份证法(2011-10-29).md:1: file: same text as '宪法相关法/居民身份证法(2011-10-29).md'. "
        "Skipped: the corpus holds this file twice; the first copy was imported."
    ]


def test_same_id_in_two_categories_gets_the_category_appended(tmp_path: Path) -> None:
    src = write_corpus(
        tmp_path / "src",
        {
            "经济法/广告法(2021-04-29).md": "# 中华人民共和国广告法\n\n" + ARTICLE_BODY,
            "行政法/广告法(2021-04-29).md": "# 中华人民共和国广告法\n\n2015年9月1日 施行\n\n" + ARTICLE_BODY,
            "司法解释/甲、乙关于示例的解释.md": "# 甲、乙关于示例的解释\n\n" + ARTICLE_BODY,
            "司法解释/甲  乙关于示例的解释.md": "# 甲 乙关于示例的解释\n\n" + ARTICLE_BODY,
        },
    )
    report = import_corpus(src, tmp_path / "dest")
    assert report.problems == []
    assert sorted(c.id for c in report.converted) == [
        "广告法-2021-04-29-经济法",
        "广告法-2021-04-29-行政法",
        "甲-乙关于示例的解释",
        "甲-乙关于示例的解释-2",
    ]


def test_only_picks_the_latest_version_and_notes_the_others(tmp_path: Path) -> None:
    def law(day: str) -> str:
        return f"# 中华人民共和国民事诉讼法\n\n{day} 通过\n\n" + ARTICLE_BODY

    src = write_corpus(
        tmp_path / "src",
        {
            "诉讼与非诉讼程序法/民事诉讼法(2021-12-24).md": law("2021年12月24日"),
            "诉讼与非诉讼程序法/民事诉讼法(2023-09-01).md": law("2023年9月1日"),
            "诉讼与非诉讼程序法/民事诉讼法(2024-01-01).md": "# 中华人民共和国民事诉讼法（修正草案）\n\n" + ARTICLE_BODY,
            "民法典/合同编.md": "# 中华人民共和国民法典\n\n# 合同编\n\n" + ARTICLE_BODY,
            "民法典/物权编.md": "# 中华人民共和国民法典\n\n# 物权编\n\n" + ARTICLE_BODY,
            "民法商法/电子商务法(2018-08-31).md": "# 中华人民共和国电子商务法\n\n" + ARTICLE_BODY,
            "民法商法/坏法.md": "# 坏法\n\n<!-- INFO END -->\n\n没有条文。\n",
        },
    )
    dest = tmp_path / "dest"
    report = import_corpus(src, dest, only=["民事诉讼法", "民法典·合同编", "电子商务法(2018-08-31)", "坏法", "电子商务"])
    assert [c.path_in_dest for c in report.converted] == [
        "民法典/民法典-合同编.md",
        "民法商法/电子商务法-2018-08-31.md",
        "诉讼与非诉讼程序法/民事诉讼法-2023-09-01.md",
    ]
    meta, _ = split(report.converted[-1])
    assert meta["version_note"] == "语料中另有 2021-12-24、2024-01-01 版本；此处取最新版本（草案除外）。"
    assert [str(p) for p in report.problems] == [
        f"{src.as_posix()}:1: only: '电子商务' matches no file in the corpus. "
        "Use a short title such as 电子商务法 or a file stem such as 电子商务法(2018-08-31).",
        "民法商法/坏法.md:3: file: no article: no paragraph starts with '第X条'. "
        "A statute entry needs one article per paragraph ('第一条 …'); leave this file out.",
    ]
    assert (dest / "诉讼与非诉讼程序法" / "民事诉讼法-2023-09-01.md").read_text(encoding="utf-8") == report.converted[-1].text

    older = import_corpus(src, dest, only=["民事诉讼法(2021-12-24)"]).converted
    assert split(older[0])[0]["version_note"] == (
        "语料中另有 2023-09-01、2024-01-01 版本；此处为较早版本，最新为 2023-09-01 版本。"
    )


def test_overwrite_false_keeps_edited_files(tmp_path: Path) -> None:
    src = write_corpus(tmp_path / "src", {"民法商法/示例法.md": "# 中华人民共和国示例法\n\n" + ARTICLE_BODY})
    dest = tmp_path / "dest"
    assert len(import_corpus(src, dest).converted) == 1
    assert len(import_corpus(src, dest, overwrite=False).converted) == 1  # unchanged: nothing to overwrite
    target = dest / "民法商法" / "示例法.md"
    target.write_text("edited\n", encoding="utf-8")
    report = import_corpus(src, dest, overwrite=False)
    assert (report.converted, [str(p) for p in report.problems]) == (
        [],
        [
            "民法商法/示例法.md:1: file: '民法商法/示例法.md' already exists in the destination. "
            "Pass overwrite=True to replace it."
        ],
    )
    assert target.read_text(encoding="utf-8") == "edited\n"
    assert len(import_corpus(src, dest).converted) == 1
    assert target.read_text(encoding="utf-8").startswith("---\nid: 示例法\n")


@needs_corpus
@pytest.mark.slow
def test_whole_corpus_converts_without_crashing(tmp_path: Path) -> None:
    files = [p for p in CORPUS.rglob("*.md") if p.name != "README.md"]
    report = import_corpus(CORPUS, tmp_path)
    rejected = [p for p in report.problems if p.field == "file"]
    assert len(report.converted) + len(rejected) == len(files)
    assert len(rejected) == len({p.path for p in rejected})
    ids = [c.id for c in report.converted]
    assert len(ids) == len(set(ids))
    assert sum(1 for _ in tmp_path.rglob("*.md")) == len(report.converted)
    for entry in report.converted:
        meta, _ = split(entry)
        assert meta["id"] == entry.id and entry.article_count > 0
        assert all(isinstance(v, str) or all(isinstance(x, str) for x in v) for v in meta.values())
    print(f"\n{len(report.converted)} converted, {len(rejected)} rejected in {report.seconds:.1f} s")


def test_inserted_articles_get_their_own_key_and_resolve(tmp_path: Path) -> None:
    from kb.citations import parse_citation
    from kb.links import StatuteResolver
    from kb.loader import load_entry

    write_corpus(
        tmp_path / "src",
        {
            "刑法/示例刑法(2020-12-26).md": (
                "# 中华人民共和国示例刑法\n\n2020年12月26日 通过\n\n<!-- INFO END -->\n\n"
                "第二百八十七条 利用计算机实施犯罪的，依照本法有关规定定罪处罚。\n\n"
                "第二百八十七条之一 利用信息网络设立网站的，处三年以下有期徒刑。\n\n"
                "第二百八十七条之二 明知他人利用信息网络实施犯罪，为其提供帮助的，处三年以下有期徒刑。\n"
            )
        },
    )
    converted = convert_file(tmp_path / "src", tmp_path / "src" / "刑法" / "示例刑法(2020-12-26).md")
    assert converted.article_count == 3
    path = tmp_path / "statute.md"
    path.write_text(converted.text, encoding="utf-8")
    entry, problems = load_entry(path)
    assert not problems and entry is not None
    assert [a.label for a in entry.articles] == ["第二百八十七条", "第二百八十七条之一", "第二百八十七条之二"]
    resolver = StatuteResolver([entry])
    assert resolver.resolve(parse_citation("《示例刑法》第二百八十七条之二")) == f"{entry.id}#第二百八十七条之二"
    assert resolver.resolve(parse_citation("《示例刑法》第二百八十七条")) == f"{entry.id}#第二百八十七条"
    assert resolver.resolve(parse_citation("《示例刑法》第二百八十七条之三")) is None
