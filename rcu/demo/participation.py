"""Which sources know a person, and how many records each holds for them.

A realistic mix: about a third of the customers are known to one system only, most of the
rest to two or three, one in ten to all four; and now and then a customer has two accounts
in the same system (a second web account, a replacement loyalty card, a second call).
On average a person gives about 2.2 records.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable
from itertools import accumulate

# Subsets of sources with their share of persons (in percent).
PROFILES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("crm",), 14),
    (("eshop",), 10),
    (("caisse",), 6),
    (("service_client",), 2),
    (("crm", "eshop"), 12),
    (("crm", "caisse"), 9),
    (("crm", "service_client"), 4),
    (("eshop", "caisse"), 4),
    (("eshop", "service_client"), 3),
    (("caisse", "service_client"), 2),
    (("crm", "eshop", "caisse"), 10),
    (("crm", "eshop", "service_client"), 7),
    (("crm", "caisse", "service_client"), 4),
    (("eshop", "caisse", "service_client"), 3),
    (("crm", "eshop", "caisse", "service_client"), 10),
)

# Chance that a person known to a source has a second record there.
SECOND_RECORD_RATE: dict[str, float] = {
    "crm": 0.04,
    "eshop": 0.05,
    "caisse": 0.03,
    "service_client": 0.06,
}

_CUMULATIVE = list(accumulate(weight for _, weight in PROFILES))
_TOTAL = _CUMULATIVE[-1]


def expected_records_per_person(sources: Iterable[str]) -> float:
    """Average number of records a person gives in `sources` (persons in none count too)."""
    chosen = set(sources)
    total = 0.0
    for profile, weight in PROFILES:
        for code in profile:
            if code in chosen:
                total += weight / _TOTAL * (1 + SECOND_RECORD_RATE[code])
    return total


def draw_presence(rng: random.Random) -> list[tuple[str, int]]:
    """[(source code, number of records)] for one person."""
    profile = PROFILES[bisect(_CUMULATIVE, rng.random() * _TOTAL)][0]
    return [(code, 2 if rng.random() < SECOND_RECORD_RATE[code] else 1) for code in profile]
