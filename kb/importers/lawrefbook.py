"""Convert the lawrefbook-laws corpus (LawRefBook/Laws Markdown) into statute entries.

A corpus file is ``# <title>``, metadata lines (``2021年11月1日 施行``), the marker
``<!-- INFO END -->`` and the body, with one article per paragraph (``第一条 …``). The file
name gives the short title and, when it ends in ``(YYYY-MM-DD)``, the version date. See the
corpus README for the details this module relies on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

import yaml

from kb.problems import Problem
from kb.progress import Progress

CORPUS_NAME = "lawrefbook-laws"
INFO_END = "<!-- INFO END -->"
PRC_PREFIX = "中华人民共和国"
DLC_FOLDER = "DLC"
LOCAL_LEVEL = "地方性法规"
DRAFT_MARKERS = ("草案", "征求意见稿")

# Top folder -> level (效力级别). DLC/<省>地方法规/ folders are local regulations.
LEVELS: dict[str, str] = {
    "宪法": "法律",
    "宪法相关法": "法律",
    "民法典": "法律",
    "民法商法": "法律",
    "行政法": "法律",
    "经济法": "法律",
    "社会法": "法律",
    "刑法": "法律",
    "诉讼与非诉讼程序法": "法律",
    "其他": "法律",
    "行政法规": "行政法规",
    "司法解释": "司法解释",
    "部门规章": "部门规章",
}

_NUMERAL = "〇零一二三四五六七八九十百千万两0-9"
_ARTICLE = re.compile(rf"^(第[{_NUMERAL}]+条(?:之[{_NUMERAL}]+)?)[ \u3000]+(?=\S)")
_DATED_STEM = re.compile(r"^(?P<name>.+)\((?P<date>\d{4}-\d{2}-\d{2})\)$")
_CN_DATE = r"([0-9０-９]{4})年([0-9０-９]{1,2})月([0-9０-９]{1,2})日"
_EFFECTIVE = (
    re.compile(rf"^{_CN_DATE}\s*施行"),
    re.compile(rf"自{_CN_DATE}起?施行"),
)
_ID_UNSAFE = re.compile(r"[^\w\-.（）]")
_ID_DASHES = re.compile(r"-{2,}")


class LawrefbookError(ValueError):
    """A corpus file that cannot be converted, with the line and a hint for the editor."""

    def __init__(self, message: str, line: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


@dataclass
class ConvertedStatute:
    """One statute entry made from one corpus file."""

    id: str
    path_in_dest: str
    text: str
    title: str
    short_title: str
    version_on: str | None
    article_count: int
    source_file: str = ""


@dataclass
class ImportReport:
    """What an import converted, what it rejected and how long it took."""

    converted: list[ConvertedStatute]
    problems: list[Problem]
    seconds: float


@dataclass
class _Parsed:
    """The facts read from one corpus file, before the id and version note are known."""

    source_file: str
    stem: str
    category: str
    level: str
    title: str
    short_title: str
    part: str | None
    version_on: str | None
    effective_on: str | None
    history: list[str]
    body: str
    article_count: int

    @property
    def display_title(self) -> str:
        """Return the title without the 中华人民共和国 prefix, e.g. ``民法典·合同编``."""
        return self.title.removeprefix(PRC_PREFIX)

    @property
    def is_draft(self) -> bool:
        """Return whether the title marks a draft (草案, 征求意见稿)."""
        return any(marker in self.title for marker in DRAFT_MARKERS)

    @property
    def version_key(self) -> tuple[str, str, str]:
        """Return the key shared by all versions of one law."""
        scope = self.category if self.level == LOCAL_LEVEL else self.level
        return (self.short_title, self.part or "", scope)


def convert_file(corpus_root: Path, path: Path) -> ConvertedStatute:
    """Convert one corpus file into a statute entry; raise LawrefbookError if it cannot be."""
    corpus_root = Path(corpus_root)
    rel = _relative(corpus_root, Path(path))
    full = corpus_root / rel
    try:
        data = full.read_bytes()
    except OSError as exc:
        raise LawrefbookError(
            f"cannot read the file: {exc.strerror or exc}.", hint="Check that it exists and is readable."
        ) from exc
    parsed = _parse(rel, data)
    return _render(parsed, _base_id(parsed), None)


def import_corpus(src: Path, dest: Path, only: list[str] | None = None, overwrite: bool = True,
                  progress: Progress | None = None) -> ImportReport:
    """Convert the corpus under ``src`` into entries under ``dest/<category>/<id>.md``.

    ``progress`` is told of files read, then of entries written (kb.progress).
    ``only`` keeps the files whose short title (``电子商务法``), title without the
    中华人民共和国 prefix (``民法典·合同编``) or file stem (``电子商务法(2018-08-31)``) is listed.
    A short title or title selects the version in force (the latest dated version that is not a
    draft); a file stem selects exactly that file. Ids are computed over the whole corpus, so an
    entry gets the same id whether or not ``only`` is given.
    """
    started = time.perf_counter()
    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise NotADirectoryError(f"corpus folder not found: {src}")

    parsed: list[_Parsed] = []
    rejected: list[tuple[str, Problem]] = []  # (file stem, problem)
    first_with_digest: dict[bytes, str] = {}  # digest -> first converted file with that text
    files = list(_corpus_files(src))
    for done, path in enumerate(files, start=1):
        if progress is not None:
            progress("files read", done, len(files))
        rel = path.relative_to(src).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            problem = _problem(
                rel, LawrefbookError(f"cannot read the file: {exc.strerror or exc}.", hint="Check that it is readable.")
            )
            rejected.append((path.stem, problem))
            continue
        digest = hashlib.sha1(data).digest()
        if digest in first_with_digest:
            problem = Problem(
                rel,
                1,
                "file",
                f"same text as '{first_with_digest[digest]}'.",
                "Skipped: the corpus holds this file twice; the first copy was imported.",
            )
            rejected.append((path.stem, problem))
            continue
        try:
            parsed.append(_parse(rel, data))
        except LawrefbookError as exc:
            rejected.append((path.stem, _problem(rel, exc)))
        else:
            first_with_digest[digest] = rel

    ids = _assign_ids(parsed)
    groups: dict[tuple[str, str, str], list[_Parsed]] = defaultdict(list)
    for item in parsed:
        groups[item.version_key].append(item)
    chosen = {key: _pick_version(group) for key, group in groups.items()}

    problems: list[Problem] = []
    if only is None:
        selected = parsed
        problems.extend(problem for _, problem in rejected)
    else:
        selected, unmatched = _select(parsed, chosen, only)
        names = {name.strip() for name in only}
        for stem, problem in rejected:
            if stem in names or _undated(stem) in names:
                problems.append(problem)
                unmatched.discard(stem)
                unmatched.discard(_undated(stem))
        for name in sorted(unmatched):
            problems.append(
                Problem(
                    src.as_posix(),
                    1,
                    "only",
                    f"'{name}' matches no file in the corpus.",
                    "Use a short title such as 电子商务法 or a file stem such as 电子商务法(2018-08-31).",
                )
            )

    converted: list[ConvertedStatute] = []
    for done, item in enumerate(selected, start=1):
        if progress is not None:
            progress("entries written", done, len(selected))
        group = groups[item.version_key]
        note = _version_note(item, group, chosen[item.version_key])
        entry = _render(item, ids[item.source_file], note)
        target = dest / entry.path_in_dest
        if target.exists():
            if target.read_text(encoding="utf-8") == entry.text:
                converted.append(entry)
                continue
            if not overwrite:
                problems.append(
                    Problem(
                        item.source_file,
                        1,
                        "file",
                        f"'{entry.path_in_dest}' already exists in the destination.",
                        "Pass overwrite=True to replace it.",
                    )
                )
                continue
        _write_atomically(target, entry.text)
        converted.append(entry)

    problems.sort()
    return ImportReport(converted, problems, time.perf_counter() - started)


def _corpus_files(src: Path) -> Iterator[Path]:
    """Yield the corpus's Markdown files in path order, leaving out READMEs and dot folders."""
    files = []
    for path in src.rglob("*.md"):
        rel = path.relative_to(src)
        if path.name.lower() == "readme.md" or any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            files.append((rel.as_posix(), path))
    for _, path in sorted(files):
        yield path


def _relative(corpus_root: Path, path: Path) -> str:
    """Return ``path`` relative to ``corpus_root`` (posix); a relative path may be either."""
    for root, candidate in ((corpus_root, path), (corpus_root.resolve(), path.resolve())):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            pass
    if not path.is_absolute():
        return path.as_posix()
    raise LawrefbookError(
        f"not inside the corpus folder '{corpus_root.as_posix()}'.",
        hint="Pass a file below the corpus root.",
    )


def _parse(rel: str, data: bytes) -> _Parsed:
    """Read the facts of one corpus file; raise LawrefbookError when it is not a statute."""
    parts = PurePosixPath(rel).parts
    category, level = _category(parts)
    stem = PurePosixPath(rel).stem
    match = _DATED_STEM.match(stem)
    version_on = None
    name = stem
    if match:
        name, version_on = match["name"], match["date"]
        try:
            date.fromisoformat(version_on)
        except ValueError:
            raise LawrefbookError(
                f"file name date '{version_on}' is not a date.",
                hint="Name the file <short title>(YYYY-MM-DD).md, e.g. 电子商务法(2018-08-31).md.",
            ) from None

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = data.count(b"\n", 0, exc.start) + 1
        raise LawrefbookError(
            f"not UTF-8: invalid byte 0x{data[exc.start]:02X} at line {line_number}.",
            line=line_number,
            hint="Re-save the file as UTF-8.",
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LawrefbookError("empty file.", hint="Delete it, or add a '# <title>' line, metadata and articles.")

    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    title = lines[first][2:].strip() if lines[first].startswith("# ") else ""
    if not title:
        raise LawrefbookError(
            "no title: the first line is not '# <title>'.",
            line=first + 1,
            hint="Add a line '# <full title>' at the top, e.g. '# 中华人民共和国电子商务法'.",
        )
    marker = next((i for i, line in enumerate(lines) if line.strip() == INFO_END), None)
    if marker is None:
        raise LawrefbookError(
            f"no '{INFO_END}' line.",
            hint=f"Add a line '{INFO_END}' between the metadata lines and the first article.",
        )

    headings: list[str] = []
    history: list[str] = []
    for line in lines[first + 1 : marker]:
        if line.startswith("# ") and line[2:].strip():
            headings.append(line[2:].strip())
        elif line.strip():
            history.append(line.strip())

    body_lines: list[str] = []
    article_count = 0
    for line in lines[marker + 1 :]:
        line = line.rstrip("\u3000")
        if line.startswith("第"):
            line, found = _ARTICLE.subn(r"\1 ", line, count=1)
            article_count += found
        body_lines.append(line)
    if not article_count:
        raise LawrefbookError(
            "no article: no paragraph starts with '第X条'.",
            line=marker + 1,
            hint="A statute entry needs one article per paragraph ('第一条 …'); leave this file out.",
        )
    while body_lines and not body_lines[0].strip():
        body_lines.pop(0)
    while body_lines and not body_lines[-1].strip():
        body_lines.pop()

    part = headings[0] if headings else None
    if part:
        short_title = title.removeprefix(PRC_PREFIX)
        title = f"{title}·{part}"
    else:
        short_title = name.strip()
    return _Parsed(
        source_file=rel,
        stem=stem,
        category=category,
        level=level,
        title=title,
        short_title=short_title,
        part=part,
        version_on=version_on,
        effective_on=_effective_on(history),
        history=history,
        body="\n".join(body_lines) + "\n",
        article_count=article_count,
    )


def _category(parts: tuple[str, ...]) -> tuple[str, str]:
    """Return (category, level) for a file's path parts."""
    if len(parts) < 2:
        raise LawrefbookError("not inside a category folder.", hint="Move it into a folder such as 民法商法/.")
    top = parts[0]
    if top == DLC_FOLDER:
        if len(parts) < 3:
            raise LawrefbookError(
                "not inside a province folder of DLC/.",
                hint="Move it into a folder such as DLC/北京地方法规/.",
            )
        return parts[1], LOCAL_LEVEL
    if top not in LEVELS:
        raise LawrefbookError(
            f"unknown category folder '{top}'.",
            hint=f"Use one of {', '.join(LEVELS)} or DLC/<省>地方法规; or add it to LEVELS.",
        )
    return top, LEVELS[top]


def _effective_on(history: list[str]) -> str | None:
    """Return the latest date a metadata line says the text takes effect (施行), if any."""
    found: list[str] = []
    for line in history:
        for pattern in _EFFECTIVE:
            for match in pattern.finditer(line):
                with contextlib.suppress(ValueError):  # 2月30日 and the like: no date
                    # int() reads the full-width digits some files use (２０１２年).
                    found.append(date(*(int(g) for g in match.groups())).isoformat())
    return max(found) if found else None


def _slug(text: str) -> str:
    """Replace what an id may not hold with '-', one dash per run, none at the ends."""
    return _ID_DASHES.sub("-", _ID_UNSAFE.sub("-", text)).strip("-")


def _base_id(item: _Parsed) -> str:
    """Return the id a file gets unless another file claims the same one."""
    name = f"{item.short_title}-{item.part}" if item.part else item.short_title
    slug = _slug(name) or "statute"
    return f"{slug}-{item.version_on}" if item.version_on else slug


def _assign_ids(parsed: list[_Parsed]) -> dict[str, str]:
    """Return source_file -> id, unique across the corpus.

    Files that share an id and sit in different categories get '-<category>'; files that share
    both keep path order: the first keeps the id, the others get '-2', '-3' ...
    """
    by_id: dict[str, list[_Parsed]] = defaultdict(list)
    for item in parsed:
        by_id[_base_id(item)].append(item)
    wanted = {}
    for base, group in by_id.items():
        categories = [item.category for item in group]
        for item in group:
            unique_category = len(group) > 1 and categories.count(item.category) == 1
            wanted[item.source_file] = f"{base}-{_slug(item.category)}" if unique_category else base
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for item in parsed:  # path order, so a last-resort counter is stable
        entry_id = wanted[item.source_file]
        number = 2
        while entry_id in taken:
            entry_id = f"{wanted[item.source_file]}-{number}"
            number += 1
        taken.add(entry_id)
        ids[item.source_file] = entry_id
    return ids


def _pick_version(group: list[_Parsed]) -> _Parsed:
    """Return the version in force: the latest dated one that is not a draft (ties: path order)."""
    candidates = [item for item in group if not item.is_draft] or group
    dated = [item for item in candidates if item.version_on]
    return max(dated, key=lambda item: item.version_on or "") if dated else candidates[0]


def _version_note(item: _Parsed, group: list[_Parsed], chosen: _Parsed) -> str | None:
    """Say which other versions the corpus holds, and whether this one is the latest."""
    others = [other for other in group if other is not item]
    if not others:
        return None
    dated = []
    for other in others:
        if other.version_on == item.version_on and item.version_on:
            dated.append(f"{other.version_on}（{other.source_file}）")
        elif other.version_on:
            dated.append(other.version_on)
    kinds = [f"{'、'.join(dated)} 版本"] if dated else []
    if any(not other.version_on for other in others):
        kinds.append("未标日期的版本")
    space = " " if dated else ""
    listed = f"语料中另有{space}{'及'.join(kinds)}；"
    if item is chosen:
        if not item.version_on:
            return listed + "此处取路径排序第一的版本。"
        drafts = any(other.is_draft for other in others)
        return listed + ("此处取最新版本（草案除外）。" if drafts else "此处取最新版本。")
    if item.is_draft:
        return listed + f"此处为草案，正式版本见 {chosen.source_file}。"
    if item.version_on and chosen.version_on and item.version_on < chosen.version_on:
        return listed + f"此处为较早版本，最新为 {chosen.version_on} 版本。"
    return listed + f"此处不是最新版本，最新版本见 {chosen.source_file}。"


def _select(
    parsed: list[_Parsed], chosen: dict[tuple[str, str, str], _Parsed], only: list[str]
) -> tuple[list[_Parsed], set[str]]:
    """Return the files ``only`` names, in path order, and the names that matched nothing."""
    names = {name.strip() for name in only if name.strip()}
    unmatched = set(names)
    picked: set[str] = set()
    for item in parsed:
        if item.stem in names:
            picked.add(item.source_file)
            unmatched.discard(item.stem)
        for name in (item.short_title, item.display_title):
            if name in names:
                unmatched.discard(name)
                picked.add(chosen[item.version_key].source_file)
    return [item for item in parsed if item.source_file in picked], unmatched


def _undated(stem: str) -> str:
    """Return a file stem without its (YYYY-MM-DD) part."""
    match = _DATED_STEM.match(stem)
    return match["name"] if match else stem


def _render(item: _Parsed, entry_id: str, version_note: str | None) -> ConvertedStatute:
    """Return the entry file (YAML front matter + body) for one parsed corpus file."""
    meta: dict[str, object] = {
        "id": entry_id,
        "type": "statute",
        "title": item.title,
        "short_title": item.short_title,
    }
    if item.part:
        meta["part"] = item.part
    meta["category"] = item.category
    meta["level"] = item.level
    if item.version_on:
        meta["version_on"] = item.version_on
    if version_note:
        meta["version_note"] = version_note
    if item.effective_on:
        meta["effective_on"] = item.effective_on
    if item.history:
        meta["history"] = list(item.history)
    meta["source_file"] = item.source_file
    meta["sources"] = [f"statute text: {CORPUS_NAME}/{item.source_file}"]
    summary = f"{item.title}，共{item.article_count}条。"
    if item.version_on:
        summary += f"{item.version_on}版本。"
    meta["summary"] = summary
    meta["tags"] = list(dict.fromkeys([item.category, item.level]))
    meta["status"] = "published"
    front = yaml.dump(meta, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False, width=1_000_000)
    return ConvertedStatute(
        id=entry_id,
        path_in_dest=f"{item.category}/{entry_id}.md",
        text=f"---\n{front}---\n\n{item.body}",
        title=item.title,
        short_title=item.short_title,
        version_on=item.version_on,
        article_count=item.article_count,
        source_file=item.source_file,
    )


def _problem(rel: str, error: LawrefbookError) -> Problem:
    """Return the Problem that reports a rejected file."""
    return Problem(rel, error.line, "file", error.message, error.hint)


def _write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` so a watcher never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8", newline="\n")
    os.replace(temporary, target)
