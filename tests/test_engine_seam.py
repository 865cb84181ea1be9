"""Whoosh stays behind indexer/: its private internals in the engine modules only, none of it in webapp or kb (#16)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

# The modules that implement the engine on Whoosh: reading postings, patching its defects, writing builds.
ENGINE = {"indexer/docsets.py", "indexer/whoosh_fixes.py", "indexer/build.py"}
PACKAGES = ("kb", "indexer", "webapp")


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def private_accesses(path: Path) -> list[str]:
    """Return `x._name` accesses in ``path`` where x is not self, cls or other (dunder names aside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls", "other"):  # other: the same class, in __lt__ …
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    return found


def test_no_private_attribute_is_read_outside_the_engine_modules() -> None:
    offending = [line for path in python_files() if path.relative_to(ROOT).as_posix() not in ENGINE
                 for line in private_accesses(path)]
    assert offending == []


def test_webapp_and_kb_never_import_whoosh_nor_reach_for_its_searcher() -> None:
    offending = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("indexer/"):
            continue
        text = path.read_text(encoding="utf-8")
        for word in ("import whoosh", "from whoosh", ".searcher()", ".reader()"):
            if word in text:
                offending.append(f"{rel}: {word}")
    assert offending == []


def test_the_guard_sees_a_private_access(tmp_path: Path) -> None:
    sample = ROOT / "kb" / "_seam_probe.py"
    try:
        sample.write_text("def f(searcher):\n    return searcher._ix\n", encoding="utf-8")
        assert private_accesses(sample) == ["kb/_seam_probe.py:2: ._ix"]
    finally:
        sample.unlink()
