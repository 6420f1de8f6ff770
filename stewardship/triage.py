"""The triage order of a queue: likely duplicates first, contradictions apart.

Pure (no ORM). Matching's probability alone does not sort a queue: in the demo base
91 % of open candidates show 1.000, contradictions included. A steward triages with
three bands, each sorted by match weight (log-odds, which keeps growing where the
probability is stuck at 1):

- LIKELY: nothing speaks against the pair: no comparison weighs against it, and the
  two customers' golden birth date, e-mail and mobile do not disagree (the candidate
  compares two records; their customers may know more);
- CHECK: something speaks against it (a different e-mail, phone, address, place, or
  the customers disagree on a birth date, e-mail or mobile);
- CONTRADICTION: the engine itself found a contradiction (two first names in one
  household): kept apart whatever its score.

On the demo base this puts 98 to 99 % of true duplicates in the first 100 of each
queue, against 71 to 83 % by score (`make bench`, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

# Golden values that tell two people apart when both customers have one.
DISTINGUISHING = ("birth_date", "email", "mobile")


class Triage(IntEnum):
    LIKELY = 0
    CHECK = 1
    CONTRADICTION = 2


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value not in (None, "") else ""


def customers_disagree(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Attributes both customers have, with different values."""
    return [
        name for name in DISTINGUISHING
        if _norm(a.get(name)) and _norm(b.get(name)) and _norm(a.get(name)) != _norm(b.get(name))
    ]


def triage_band(
    explanation: Mapping[str, Any], customer_a: Mapping[str, Any], customer_b: Mapping[str, Any]
) -> Triage:
    guard = str(explanation.get("link_guard") or "")
    if guard.startswith("contradiction:"):
        return Triage.CONTRADICTION
    against = any(c.get("weight", 0) < 0 for c in explanation.get("contributions", []))
    if against or customers_disagree(customer_a, customer_b):
        return Triage.CHECK
    return Triage.LIKELY
