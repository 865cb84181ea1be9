"""Controlled vocabularies kept by editors in ``_data/``: causes of action (a tree) and courts."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.entry import Entry
from kb.problems import Problem

CAUSES_FILE = "causes.yaml"
COURTS_FILE = "courts.yaml"


@dataclass
class CauseTree:
    """Causes of action and their parents (案由 tree)."""

    parents: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> CauseTree:
        """Read ``causes.yaml`` from ``folder`` (a missing file gives an empty tree)."""
        path = folder / CAUSES_FILE
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({str(name): (info or {}).get("parent") for name, info in (data.get("causes") or {}).items()})

    def ancestors(self, cause: str) -> list[str]:
        """Return the cause's parents, nearest first."""
        chain, seen = [], {cause}
        parent = self.parents.get(cause)
        while parent and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self.parents.get(parent)
        return chain

    def descendants(self, cause: str) -> set[str]:
        """Return the cause itself and every cause below it."""
        return {cause} | {c for c in self.parents if cause in self.ancestors(c)}

    def tree(self, counts: dict[str, int]) -> list[dict[str, Any]]:
        """Return the causes with matches as a tree; a node's count includes everything below it."""
        totals: dict[str, int] = {}
        for cause, count in counts.items():
            for name in [cause, *self.ancestors(cause)]:
                totals[name] = totals.get(name, 0) + count

        def node(name: str) -> dict[str, Any]:
            children = sorted((c for c in totals if self.parents.get(c) == name), key=lambda c: (-totals[c], c))
            return {"value": name, "count": totals[name], "children": [node(c) for c in children]}

        roots = sorted((c for c in totals if not self.parents.get(c) or self.parents.get(c) not in totals), key=lambda c: (-totals[c], c))
        return [node(r) for r in roots]


def load_courts(folder: Path) -> dict[str, dict[str, Any]]:
    """Return the court vocabulary: name -> {level, code}."""
    path = folder / COURTS_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(name): info or {} for name, info in (data.get("courts") or {}).items()}


def check_vocabulary(entries: Iterable[Entry], content_dirs: Iterable[Path]) -> list[Problem]:
    """Report a cause or court outside the editors' vocabularies, with a 'did you mean'.

    A content folder's vocabularies govern the entries in that folder: imported judgments kept in
    a folder of their own (``kb import lecard``, thousands of courts) are not held to the courts
    that content/_data lists, which would keep every one of them out of the index.
    """
    vocabularies = []
    for root in content_dirs:
        vocabularies.append((root.resolve(), set(CauseTree.load(root / "_data").parents), set(load_courts(root / "_data"))))
    everything = (set().union(*(v[1] for v in vocabularies)), set().union(*(v[2] for v in vocabularies)))
    problems = []
    for entry in entries:
        path = Path(entry.path).resolve()
        own = next((v[1:] for v in vocabularies if path.is_relative_to(v[0])), everything)
        causes, courts = own
        for name, value, known, file in (("cause", entry.cause, causes, CAUSES_FILE), ("court", entry.court, courts, COURTS_FILE)):
            if value and known and value not in known:
                close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.5)
                hint = f"Did you mean '{close[0]}'?" if close else f"Use a value from content/_data/{file}, or add it there."
                problems.append(Problem(entry.path, entry.line_of(name), name, f"'{value}' is not in content/_data/{file}.", hint))
    return problems
