"""The edge-case corpus: one file per way an editor's file can go wrong, with the exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.loader import load_all, load_entry, parse_entry
from kb.problems import summarize
from tests.support import BAD, EXPECTED, entry_text, every_bad_file_tree, write_tree


def test_every_bad_file_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_message(name: str) -> None:
    indexed, messages = EXPECTED[name]
    entry, problems = load_entry(BAD / name, shown=name)
    assert [str(p) for p in problems] == messages
    assert (entry is not None) == indexed


def test_a_file_with_a_problem_is_not_indexed_half(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_all's entries (what is indexed) hold no file with a problem, though such files still parse."""
    root = tmp_path / "content"
    root.mkdir()
    for path in BAD.iterdir():
        (root / path.name).write_bytes(path.read_bytes())
    monkeypatch.chdir(tmp_path)
    report = load_all(root)
    clean = {f"content/{name}" for name, (_parses, messages) in EXPECTED.items() if not messages} - {"content/duplicate_id_b.md"}
    assert {e.path for e in report.entries} == clean
    parses = {f"content/{name}" for name, (parses, _messages) in EXPECTED.items() if parses} - {"content/duplicate_id_b.md"}
    assert {e.path for e in report.parsed} == parses
    assert report.bad_paths == {f"content/{name}" for name in EXPECTED} - clean


def test_values_are_never_retyped() -> None:
    text = entry_text(title="no", summary="0123", tags=["yes", "1e3", "2021-01-01"])
    entry, problems = parse_entry(text, "x.md", default_id="x")
    assert problems == []
    assert entry is not None
    assert (entry.title, entry.summary, entry.tags) == ("no", "0123", ("yes", "1e3", "2021-01-01"))


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = entry_text(decided_on="2021-02-30", procedure="三审", tag="x", case_number="abc")
    _entry, problems = parse_entry(text, "many.md", default_id="many")
    assert [p.field for p in problems] == ["decided_on", "procedure", "tag", "case_number"]


def test_strict_requires_summary_and_sources() -> None:
    text = entry_text()
    _entry, problems = parse_entry(text, "s.md", default_id="s", strict=True)
    assert [str(p) for p in problems] == [
        "s.md:1: summary: missing required field. Add 'summary: ...' (one-paragraph Chinese summary).",
        "s.md:1: sources: missing required field. Add 'sources: ...' (list of URLs the facts come from).",
    ]


def test_partial_dates_are_kept_as_written() -> None:
    entry, problems = parse_entry(entry_text(decided_on="2021-05"), "d.md", default_id="d")
    assert problems == [] and entry is not None
    assert (entry.decided_on, entry.year) == ("2021-05", 2021)


def test_load_all_mixes_bad_and_good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree of every bad file plus good entries: every good entry loads, every bad file is reported."""
    root = every_bad_file_tree(tmp_path, {f"good-{n}.md": entry_text(title=f"好条目{n}") for n in range(5)})
    outside = tmp_path / "outside.md"
    monkeypatch.chdir(tmp_path)
    report = load_all(root)
    ids = {e.id for e in report.entries}
    assert {f"good-{n}" for n in range(5)} <= ids
    assert "same-id" in ids and "刷单-案（副本）-草稿" in ids and "bom" in ids
    by_path = {p.path: str(p) for p in report.problems}
    assert by_path["content/huge.md"] == "content/huge.md:1: file: is too large (50 MB; the limit is 5 MB). Split it into several entries."
    assert by_path["content/link_outside.md"] == (
        f"content/link_outside.md:1: file: is a link to '{outside}', outside the content folder. "
        "Copy the file into the content folder instead of linking to it.")
    assert by_path["content/duplicate_id_b.md"] == (
        "content/duplicate_id_b.md:4: id: 'same-id' is already used by content/duplicate_id_a.md. "
        "Give this entry another id (or rename the file).")
    expected_bad = {f"content/{name}" for name, (_ok, msgs) in EXPECTED.items() if msgs}
    assert expected_bad <= set(by_path)
    assert report.checked == len(EXPECTED) + 5 + 2
    assert summarize(report.problems, report.checked).startswith(f"Checked {report.checked} entries: ")


def test_a_folders_vocabularies_govern_only_its_own_entries(tmp_path: Path) -> None:
    """Judgments imported into a folder of their own are not held to content/_data's courts (#13)."""
    from kb.loader import load_all

    content = write_tree(tmp_path / "content", {
        "_data/courts.yaml": "courts:\n  北京互联网法院: {level: 基层}\n",
        "rulings/typo.md": entry_text(title="错字", court="北京互连网法院"),
    })
    imported = write_tree(tmp_path / "imported", {"rulings/real.md": entry_text(title="真实判决", court="贵州省遵义市中级人民法院")})
    report = load_all([content, imported])
    assert [e.title for e in report.entries] == ["真实判决"]
    assert [(Path(p.path).name, p.field) for p in report.problems] == [("typo.md", "court")]
