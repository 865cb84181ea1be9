"""The rules of precedent research (法发〔2020〕24号, 关于统一法律适用加强类案检索的指导意见), in one place.

Art. 4 orders the cases a judge consults: guiding cases (指导性案例), then typical cases
(典型案例), then reference cases (参考案例), then other rulings, and among the last the ones of
the last three years first. Art. 9: a guiding case must be followed (应当参照); any other may be
consulted (可以参考). The search order, similar rulings and the report all read these rules
from here (issue #16: "recent" was year - 2 in one place and year - 3 in two others).
"""

from __future__ import annotations

import datetime as dt

AUTHORITY_TIERS = ("指导性案例", "典型案例", "参考案例")  # art. 4, most authoritative first
OTHER_TIER = "其他"
TIERS = (*AUTHORITY_TIERS, OTHER_TIER)
FOLLOW = "应当参照"  # a guiding case must be followed
CONSULT = "可以参考"  # any other ruling may be consulted
RECENT_YEARS = 3  # art. 4: "近三年" - this year and the two before it


def tier_name(authority: str | None) -> str:
    """Return the ruling's tier: one of AUTHORITY_TIERS, else 其他."""
    return authority if authority in AUTHORITY_TIERS else OTHER_TIER


def tier_rank(authority: str | None) -> int:
    """Return the tier's place in art. 4's order (0 first)."""
    return TIERS.index(tier_name(authority))


def reference(authority: str | None) -> str:
    """Return 应当参照 for a guiding case, 可以参考 for any other ruling."""
    return FOLLOW if authority == AUTHORITY_TIERS[0] else CONSULT


def is_recent(year: int | str | None, today: dt.date | None = None) -> bool:
    """Return True for a decision year within the last three years (this year and the two before)."""
    if isinstance(year, str):
        year = int(year[:4]) if year[:4].isdigit() else None
    if not year:
        return False
    today = today or dt.date.today()
    return today.year - RECENT_YEARS < year <= today.year
