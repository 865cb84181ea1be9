"""The benchmark data sets: (a) content/, (b) + the imported statute corpus, (c) + real judgments.

Heavy artefacts live in bench/out/ (git-ignored) and are reused by later runs:
``bench/out/statutes/`` (the statute corpus imported with kb.importers.lawrefbook) and
``bench/out/judgments/`` (the 9,088 real criminal judgments of LeCaRD, imported with
kb.importers.lecard, as `kb import lecard` does). Until issue #13, (c) added 50,000 rulings
generated from statute sentences instead.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
CONTENT = ROOT / "content"
CORPUS = Path(os.environ.get("KB_CORPUS", ROOT.parent / "shared" / "corpus" / "lawrefbook-laws"))
STATUTES = OUT / "statutes"
LECARD = Path(os.environ.get("KB_LECARD") or ROOT.parent / "shared" / "corpus" / "lecard-judgments")
JUDGMENTS = OUT / "judgments"


@dataclass(frozen=True)
class Scale:
    """One data set: its letter, what it holds and the content folders to index."""

    name: str
    label: str
    dirs: tuple[Path, ...]


def scales() -> dict[str, Scale]:
    """Return the three data sets by letter."""
    return {
        "a": Scale("a", "content/", (CONTENT,)),
        "b": Scale("b", "content/ + statute corpus", (CONTENT, STATUTES)),
        "c": Scale("c", "(b) + the 9,088 LeCaRD judgments", (CONTENT, STATUTES, JUDGMENTS)),
    }


def prepare(names: list[str], *, force: bool = False, log=print) -> None:  # type: ignore[no-untyped-def]
    """Create the folders the scales ``names`` need, unless they already exist (or ``force``)."""
    if any(n in ("b", "c") for n in names):
        ensure_statutes(force=force, log=log)
    if "c" in names:
        ensure_judgments(force=force, log=log)


def ensure_statutes(*, force: bool = False, log=print) -> Path:  # type: ignore[no-untyped-def]
    """Import the whole statute corpus into bench/out/statutes (once)."""
    from kb.importers.lawrefbook import import_corpus

    marker = STATUTES / ".complete"
    if marker.is_file() and not force:
        return STATUTES
    if not CORPUS.is_dir():
        raise SystemExit(f"the statute corpus is not at {CORPUS}; set KB_CORPUS to its folder.")
    shutil.rmtree(STATUTES, ignore_errors=True)
    started = time.perf_counter()
    report = import_corpus(CORPUS, STATUTES)
    info = {"converted": len(report.converted), "rejected": len(report.problems), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(info), encoding="utf-8")
    log(f"imported the statute corpus: {info['converted']} entries, {info['rejected']} files rejected, {info['seconds']} s")
    return STATUTES


def ensure_judgments(*, force: bool = False, log=print) -> Path:  # type: ignore[no-untyped-def]
    """Import LeCaRD's judgments into bench/out/judgments (once), as `kb import lecard` does."""
    from kb.importers.lecard import ARCHIVE, import_judgments

    marker = JUDGMENTS / ".complete"
    if marker.is_file() and not force:
        return JUDGMENTS
    if not (LECARD / ARCHIVE).is_file():
        raise SystemExit(f"the LeCaRD judgments are not at {LECARD}; set KB_LECARD to their folder.")
    shutil.rmtree(JUDGMENTS, ignore_errors=True)
    report = import_judgments(LECARD, JUDGMENTS)
    info = {"converted": len(report.converted), "rejected": len(report.problems), "seconds": round(report.seconds, 1)}
    marker.write_text(json.dumps(info), encoding="utf-8")
    log(f"imported the LeCaRD judgments: {info['converted']} entries, {info['rejected']} rejected, {info['seconds']} s")
    return JUDGMENTS
