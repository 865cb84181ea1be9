"""Whoosh stays behind the engine seam (indexer/engine.py, #16): only the engine modules import it or
touch its private internals; search, similar, browse, the ranking and the web app use the interface."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

# The engine on Whoosh: reading (whoosh_engine, docsets), writing (build, whoosh_fixes), and what
# Whoosh pickles into the index or reads from its schema (schema, analyzer). See docs/engine.md.
ENGINE = {"indexer/whoosh_engine.py", "indexer/docsets.py", "indexer/whoosh_fixes.py", "indexer/build.py",
          "indexer/schema.py", "indexer/analyzer.py"}
# Of those, the ones that reach into Whoosh's private attributes (the others use its public API only).
PRIVATE = {"indexer/whoosh_engine.py", "indexer/docsets.py", "indexer/whoosh_fixes.py", "indexer/build.py"}
# The implementation's own modules: the seam (indexer/engine.py's open_engine) opens them, nothing else.
IMPLEMENTATION = ("whoosh", "indexer.whoosh_engine", "indexer.docsets", "indexer.whoosh_fixes")
SEAM = "indexer/engine.py"
PACKAGES = ("kb", "indexer", "webapp")


def python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def private_accesses(source: str, name: str) -> list[str]:
    """Return `x._name` accesses in ``source`` where x is not self, cls or other (dunder names aside)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls", "other"):  # other: the same class, in __lt__ …
                continue
            found.append(f"{name}:{node.lineno}: .{node.attr}")
    return found


def engine_imports(source: str, name: str) -> list[str]:
    """Return the imports in ``source`` (at any depth, in functions too) of Whoosh or of the engine's implementation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for module in modules:
            if any(module == m or module.startswith(m + ".") for m in IMPLEMENTATION):
                found.append(f"{name}:{node.lineno}: {module}")
                break
    return found


def searcher_calls(source: str, name: str) -> list[str]:
    """Return calls of a Whoosh index's or searcher's own entry points (x.searcher(), x.reader())."""
    return [f"{name}:{node.lineno}: .{node.func.attr}()" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("searcher", "reader")]


def test_no_private_attribute_is_read_outside_the_engine_modules() -> None:
    offending = [line for path in python_files() if relative(path) not in PRIVATE
                 for line in private_accesses(path.read_text(encoding="utf-8"), relative(path))]
    assert offending == []


def test_only_the_engine_modules_import_whoosh_or_the_engine_implementation() -> None:
    offending = [line for path in python_files() if relative(path) not in ENGINE | {SEAM}
                 for line in engine_imports(path.read_text(encoding="utf-8"), relative(path))]
    assert offending == []


def test_the_seam_opens_the_implementation_and_imports_no_whoosh() -> None:
    imports = engine_imports((ROOT / SEAM).read_text(encoding="utf-8"), SEAM)
    assert [line.rsplit(": ", 1)[1] for line in imports] == ["indexer.whoosh_engine"]


def test_nothing_outside_the_engine_asks_for_a_searcher_or_reader() -> None:
    offending = [line for path in python_files() if relative(path) not in ENGINE
                 for line in searcher_calls(path.read_text(encoding="utf-8"), relative(path))]
    assert offending == []


@pytest.mark.parametrize("module", ["indexer/search.py", "indexer/similar.py", "indexer/browse.py", "indexer/policy.py",
                                    "indexer/query.py", "indexer/ranking.py", "webapp/system.py"])
def test_the_modules_that_search_use_the_interface(module: str) -> None:
    source = (ROOT / module).read_text(encoding="utf-8")
    assert engine_imports(source, module) == []
    assert searcher_calls(source, module) == []


def test_the_guards_see_what_they_look_for() -> None:
    probe = ("from whoosh import query as wq\n"
             "def f(index, searcher):\n"
             "    from indexer.docsets import IndexView\n"
             "    import whoosh.highlight\n"
             "    reader = index.searcher().reader()\n"
             "    return searcher._ix, wq.Term('a', 'b'), self._fine\n")
    assert engine_imports(probe, "probe.py") == ["probe.py:1: whoosh", "probe.py:3: indexer.docsets", "probe.py:4: whoosh.highlight"]
    assert sorted(searcher_calls(probe, "probe.py")) == ["probe.py:5: .reader()", "probe.py:5: .searcher()"]
    assert private_accesses(probe, "probe.py") == ["probe.py:6: ._ix"]
    assert engine_imports("from indexer.engine import Term, any_of\nimport indexer.query\n", "fine.py") == []
