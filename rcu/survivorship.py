"""Survivorship: which value wins in the golden record, and why (pure, no ORM).

For each attribute, among the linked records that have a value:
1. a steward's pinned choice, if its record is still linked and has a value;
2. otherwise the most trusted source (lowest trust rank),
3. then the most recent business timestamp,
4. then the most complete record (most attributes filled),
5. then a stable order (source code, external id) so the result never depends on
   the order records arrived in.
The address survives as one block: line 1, line 2, postcode, city and country all
come from the same record, never stitched from two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from rcu.attributes import ADDRESS_GROUP, CANONICAL_NAMES

RULE_PINNED = "steward_choice"
RULE_ONLY = "only_value"
RULE_TRUST = "trust_rank"
RULE_RECENT = "most_recent"
RULE_COMPLETE = "most_complete"
RULE_STABLE = "stable_order"
_CANONICAL = frozenset(CANONICAL_NAMES)
RULES = (RULE_PINNED, RULE_ONLY, RULE_TRUST, RULE_RECENT, RULE_COMPLETE, RULE_STABLE)


@dataclass(frozen=True, slots=True)
class RecordView:
    """What survivorship needs to know of one source record."""

    source: str
    external_id: str
    trust_rank: int
    business_ts: datetime | None
    attributes: Mapping[str, str]
    keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> tuple[str, str]:
        return (self.source, self.external_id)

    @property
    def completeness(self) -> int:
        return sum(1 for v in self.attributes.values() if v)


@dataclass(frozen=True, slots=True)
class Golden:
    values: dict[str, str]
    keys: dict[str, str]
    provenance: dict[str, dict[str, str | None]]


def _iso(ts: datetime | None) -> str | None:
    """One written form (UTC) whatever zone the datetime came in: a customer recomputed
    from unchanged records gets the same provenance, not a new history row."""
    if ts is None:
        return None
    return (ts.astimezone(UTC) if ts.tzinfo is not None else ts).isoformat()


def _sort_key(record: RecordView) -> tuple:
    ts = record.business_ts.timestamp() if record.business_ts else float("-inf")
    return (record.trust_rank, -ts, -record.completeness, record.source, record.external_id)


def _deciding_rule(winner: RecordView, runner_up: RecordView | None) -> str:
    if runner_up is None:
        return RULE_ONLY
    if winner.trust_rank != runner_up.trust_rank:
        return RULE_TRUST
    if winner.business_ts != runner_up.business_ts:
        return RULE_RECENT
    if winner.completeness != runner_up.completeness:
        return RULE_COMPLETE
    return RULE_STABLE


@cache
def _units(extra_attributes: frozenset[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Attributes grouped into the units that survive together."""
    units: list[tuple[str, tuple[str, ...]]] = [("address", ADDRESS_GROUP)]
    units += [(name, (name,)) for name in CANONICAL_NAMES if name not in ADDRESS_GROUP]
    units += [(name, (name,)) for name in sorted(extra_attributes)]
    return units


def _golden_of_one(record: RecordView) -> Golden:
    """A record alone: each of its values is the only one (the import hot path)."""
    attributes, record_keys = record.attributes, record.keys
    ts = _iso(record.business_ts)
    values: dict[str, str] = {}
    keys: dict[str, str] = {}
    provenance: dict[str, dict[str, str | None]] = {}
    for name, value in attributes.items():
        if not value:
            continue
        values[name] = value
        key = record_keys.get(name)
        if key:
            keys[name] = key
        provenance[name] = {
            "source": record.source, "external_id": record.external_id, "rule": RULE_ONLY,
            "business_ts": ts,
        }
    if "address" in record_keys and any(n in values for n in ADDRESS_GROUP):
        keys["address"] = record_keys["address"]
    return Golden(values=values, keys=keys, provenance=provenance)


def golden_values(
    records: Sequence[RecordView],
    *,
    pinned: Mapping[str, Mapping[str, str]] | None = None,
) -> Golden:
    """The golden values of one customer from its linked records.

    `pinned` maps an attribute to ``{"source": ..., "external_id": ...}``; pinning
    any address attribute pins the whole address block.
    """
    if len(records) == 1 and not pinned:
        return _golden_of_one(records[0])
    pinned = pinned or {}
    ordered = sorted(records, key=_sort_key)
    by_ref = {r.ref: r for r in ordered}
    timestamps = {r.ref: _iso(r.business_ts) for r in ordered}
    extra = {name for r in ordered for name in r.attributes if name not in _CANONICAL}

    values: dict[str, str] = {}
    keys: dict[str, str] = {}
    provenance: dict[str, dict[str, str | None]] = {}
    for unit, names in _units(frozenset(extra)):
        having = [r for r in ordered if any(r.attributes.get(n) for n in names)]
        if not having:
            continue
        winner, rule = None, ""
        pin = next((pinned[n] for n in names if n in pinned), None)
        if pin is not None:
            candidate = by_ref.get((pin.get("source", ""), pin.get("external_id", "")))
            if candidate is not None and candidate in having:
                winner, rule = candidate, RULE_PINNED
        if winner is None:
            winner = having[0]
            rule = _deciding_rule(winner, having[1] if len(having) > 1 else None)
        for name in names:
            value = winner.attributes.get(name)
            if not value:
                continue
            values[name] = value
            key = winner.keys.get(name)
            if key:
                keys[name] = key
            provenance[name] = {
                "source": winner.source,
                "external_id": winner.external_id,
                "rule": rule,
                "business_ts": timestamps[winner.ref],
            }
        if unit == "address" and "address" in winner.keys:
            keys["address"] = winner.keys["address"]
    return Golden(values=values, keys=keys, provenance=provenance)
