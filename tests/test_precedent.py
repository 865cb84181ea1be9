"""The rules of precedent research live in kb/precedent.py, and every place that applies them reads them there (#16)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kb.precedent import CONSULT, FOLLOW, is_recent, reference, tier_name, tier_rank
from tests.support import ROOT

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("year, recent", [(2026, True), (2025, True), (2024, True), (2023, False), (2027, False),
                                          (None, False), ("2024-05-01", True), ("2023-12-31", False), ("", False)])
def test_recent_is_this_year_and_the_two_before(year, recent) -> None:  # type: ignore[no-untyped-def]
    assert is_recent(year, TODAY) is recent


def test_tiers_and_what_a_judge_must_do_with_each() -> None:
    assert [tier_rank(a) for a in ("指导性案例", "典型案例", "参考案例", "其他", None, "地方案例")] == [0, 1, 2, 3, 3, 3]
    assert tier_name("地方案例") == "其他"
    assert reference("指导性案例") == FOLLOW and reference("典型案例") == CONSULT and reference(None) == CONSULT


def test_no_other_module_defines_recent_or_the_tiers() -> None:
    pattern = re.compile(r"^\s*(RECENT_YEARS|AUTHORITY_TIERS|FOLLOW|CONSULT)\s*=|year\s*-\s*RECENT_YEARS|- RECENT_YEARS", re.M)
    offending = [str(p.relative_to(ROOT)) for package in ("kb", "indexer", "webapp") for p in (ROOT / package).rglob("*.py")
                 if p.name != "precedent.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert offending == []
