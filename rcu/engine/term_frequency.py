"""Term-frequency adjustments: agreeing on a rare value says more than on a common one.

Two records sharing the surname "Martin" (one French person in a hundred) are far less
telling than two sharing "Quérouillère". For a comparison level that means "the same
value" (`Comparison.term_frequency`), the weight of a pair agreeing on value v is
log2(m / f(v)) instead of log2(m / u), where f(v) is the share of records holding v:
the model's level weight plus the adjustment log2(u_tf / f(v)), with u_tf = Σ f(w)² the
chance that two random records share a value. Values as common as the average leave the
weight as it was; an agreement never turns into evidence against (the adjustment stops
at minus the level's weight).

Frequencies are counted on the records the model is trained on (a sample of the base),
after generic values are neutralised, and stored with the model (the most frequent
`MAX_VALUES` values per attribute; any other value counts once).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rcu.engine.types import MatchRecord

# Values kept per attribute: the others are rare enough to count once.
MAX_VALUES = 5_000
# Attributes with fewer values known than this have no frequencies: too little to say.
MIN_KNOWN = 50


@dataclass(frozen=True)
class TermFrequencies:
    """Per key attribute ("last_name"…): how many records hold each frequent value, how
    many hold one at all, and u_tf (the chance two random records share a value)."""

    counts: Mapping[str, Mapping[str, int]]
    totals: Mapping[str, int]
    shared: Mapping[str, float]

    def adjustment(self, attribute: str, value: str | None) -> float:
        """log2(u_tf / f(value)); 0 when the attribute or the value is unknown."""
        total = self.totals.get(attribute)
        if not total or not value:
            return 0.0
        count = max(self.counts.get(attribute, {}).get(value, 1), 1)
        return math.log2(self.shared[attribute] * total / count)

    def largest_adjustment(self, attribute: str) -> float:
        """The adjustment of a value held once: no value gets more."""
        total = self.totals.get(attribute)
        return math.log2(self.shared[attribute] * total) if total else 0.0

    def to_dict(self) -> dict:
        return {
            attribute: {"total": self.totals[attribute], "shared": self.shared[attribute],
                        "counts": dict(self.counts.get(attribute, {}))}
            for attribute in sorted(self.totals)
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TermFrequencies:
        return cls(
            counts={a: dict(v["counts"]) for a, v in data.items()},
            totals={a: int(v["total"]) for a, v in data.items()},
            shared={a: float(v["shared"]) for a, v in data.items()},
        )


def count_term_frequencies(
    records: Iterable[MatchRecord], attributes: Iterable[str], *, max_values: int = MAX_VALUES
) -> TermFrequencies | None:
    """The frequencies of `attributes` among `records` (their comparison keys); None when
    no attribute has enough values known."""
    attributes = tuple(dict.fromkeys(attributes))
    counters: dict[str, Counter[str]] = {a: Counter() for a in attributes}
    for record in records:
        keys = record.keys
        for attribute in attributes:
            value = keys.get(attribute)
            if value:
                counters[attribute][value] += 1
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    shared: dict[str, float] = {}
    for attribute, counter in counters.items():
        total = sum(counter.values())
        if total < MIN_KNOWN:
            continue
        totals[attribute] = total
        shared[attribute] = math.fsum((n / total) ** 2 for n in counter.values())
        counts[attribute] = {
            value: n for value, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            [:max_values] if n > 1
        }
    if not totals:
        return None
    return TermFrequencies(counts=counts, totals=totals, shared=shared)
