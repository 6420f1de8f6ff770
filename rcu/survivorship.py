"""Survivorship: which value wins in the golden record, and why (pure, no ORM).

For each attribute, among the linked records that have a value:
0. a value typed by hand and pinned (a steward's correction, a DPO's rectification):
   it wins whatever the records say, until someone changes or unpins it;
1. a steward's pinned choice, if its record is still linked and has a value;
2. otherwise the most trusted source (lowest trust rank),
3. then the most recent business timestamp,
4. then the most complete record (most attributes filled),
5. then a stable order (source code, external id) so the result never depends on
   the order records arrived in.
The address survives as one block: line 1, line 2, postcode, city and country all
come from the same record, never stitched from two.

Administrators may replace steps 2 to 4, per attribute (or for the address block), by
an ordered list of rules (`SurvivorshipRules`): source priority (its own order of
sources), most recent, most complete, most frequent across records, longest, and
validated value first (a value without a quality flag beats a flagged one). The
pinned choice still comes first and the stable order last. A value those rules chose
among several records carries the rules' version in its provenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rcu.attributes import ADDRESS_GROUP, CANONICAL_NAMES

RULE_PINNED = "steward_choice"
RULE_TYPED = "typed_value"  # a value pinned by hand: a correction or a rectification
RULE_ONLY = "only_value"
RULE_TRUST = "trust_rank"
RULE_RECENT = "most_recent"
RULE_COMPLETE = "most_complete"
RULE_STABLE = "stable_order"
_CANONICAL = frozenset(CANONICAL_NAMES)
RULE_SOURCE_PRIORITY = "source_priority"
RULE_FREQUENT = "most_frequent"
RULE_LONGEST = "longest"
RULE_VALIDATED = "validated_first"
RULES = (RULE_TYPED, RULE_PINNED, RULE_ONLY, RULE_TRUST, RULE_RECENT, RULE_COMPLETE, RULE_STABLE,
         RULE_SOURCE_PRIORITY, RULE_FREQUENT, RULE_LONGEST, RULE_VALIDATED)
# The rules an administrator may order, per attribute.
CONFIGURABLE_RULES = (RULE_SOURCE_PRIORITY, RULE_RECENT, RULE_COMPLETE, RULE_FREQUENT,
                      RULE_LONGEST, RULE_VALIDATED)
RULES_VERSION = 1  # of the stored shape, not of an administrator's rules


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule: str
    sources: tuple[str, ...] = ()  # source_priority only: most trusted first

    def to_json(self) -> dict:
        body: dict = {"rule": self.rule}
        if self.rule == RULE_SOURCE_PRIORITY and self.sources:
            body["sources"] = list(self.sources)
        return body


class RulesRefused(ValueError):
    """Rules that cannot be saved: one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class SurvivorshipRules:
    """Each unit's (attribute, or "address") ordered rules; a unit not listed keeps the
    default order (trust rank, most recent, most complete)."""

    version: int = 0
    attributes: Mapping[str, tuple[RuleSpec, ...]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": self.version,
                "attributes": {u: [r.to_json() for r in rs] for u, rs in self.attributes.items()}}

    @classmethod
    def from_json(cls, data: Mapping, *, known_sources: frozenset[str] | None = None,
                  extra_units: frozenset[str] = frozenset()) -> SurvivorshipRules:
        """Checked: unknown units, rules or sources are refused, every problem listed."""
        errors: list[str] = []
        units = {u for u, _ in _units(extra_units)}
        attributes: dict[str, tuple[RuleSpec, ...]] = {}
        raw = data.get("attributes", {}) if isinstance(data, Mapping) else None
        if not isinstance(raw, Mapping):
            raise RulesRefused(["attributes: must be an object {attribute: [rules]}"])
        for unit, rules in raw.items():
            if unit in ADDRESS_GROUP:
                errors.append(f"{unit}: the address survives as one block, name it \"address\"")
                continue
            if unit not in units:
                errors.append(f"{unit}: unknown attribute")
                continue
            if not isinstance(rules, list) or not rules:
                errors.append(f"{unit}: must be a non-empty list of rules")
                continue
            specs: list[Any] = []
            for i, item in enumerate(rules):
                rule = item.get("rule") if isinstance(item, Mapping) else None
                if rule not in CONFIGURABLE_RULES:
                    errors.append(f"{unit}[{i}]: unknown rule {rule!r} (known: {', '.join(CONFIGURABLE_RULES)})")
                    continue
                sources = tuple(item.get("sources") or ()) if rule == RULE_SOURCE_PRIORITY else ()
                unknown = [s for s in sources if known_sources is not None and s not in known_sources]
                if unknown:
                    errors.append(f"{unit}[{i}]: unknown source {', '.join(unknown)}")
                if any(r.rule == rule for r in specs):
                    errors.append(f"{unit}[{i}]: {rule} listed twice")
                specs.append(RuleSpec(rule=rule, sources=sources))
            attributes[unit] = tuple(specs)
        if errors:
            raise RulesRefused(errors)
        version = data.get("version", 0)
        return cls(version=version if isinstance(version, int) else 0, attributes=attributes)


def rules_with_defaults(rules: SurvivorshipRules, defaults: Mapping[str, str]) -> SurvivorshipRules:
    """`rules` with each custom attribute's own default rule (`defaults`: name → rule)
    where the administrators' rules do not name it: the rules in force come first."""
    missing = {name: (RuleSpec(rule=rule),) for name, rule in defaults.items()
               if name not in rules.attributes and rule in CONFIGURABLE_RULES}
    if not missing:
        return rules
    return SurvivorshipRules(version=rules.version, attributes={**rules.attributes, **missing})


@dataclass(frozen=True, slots=True)
class RecordView:
    """What survivorship needs to know of one source record."""

    source: str
    external_id: str
    trust_rank: int
    business_ts: datetime | None
    attributes: Mapping[str, str]
    keys: Mapping[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()  # quality flags, "email.invalid"…

    @property
    def ref(self) -> tuple[str, str]:
        return (self.source, self.external_id)

    @property
    def completeness(self) -> int:
        return sum(1 for v in self.attributes.values() if v)


def is_typed_pin(pin: Mapping[str, Any] | None) -> bool:
    """A pin holding a value typed by hand, not a reference to a record."""
    return pin is not None and "value" in pin


# What a typed pin's provenance repeats of it (its value and keys are the golden ones).
TYPED_PIN_PROVENANCE = ("origin", "by", "reason", "request", "decision", "at")


def _typed_provenance(pin: Mapping[str, Any]) -> dict[str, Any]:
    return {"source": None, "external_id": None, "rule": RULE_TYPED,
            **{k: pin.get(k) for k in TYPED_PIN_PROVENANCE if k in pin}}


@dataclass(frozen=True, slots=True)
class Golden:
    values: dict[str, str]
    keys: dict[str, str]
    provenance: dict[str, dict[str, Any]]


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
    provenance: dict[str, dict[str, Any]] = {}
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


def _value_of(record: RecordView, names: tuple[str, ...]) -> str:
    return "\x1f".join(record.attributes.get(n) or "" for n in names)


def _rule_key(spec: RuleSpec, names: tuple[str, ...], having: Sequence[RecordView]):
    """A sort key (smaller wins) for one rule over the records having the unit."""
    if spec.rule == RULE_SOURCE_PRIORITY:
        if not spec.sources:
            return lambda r: r.trust_rank
        order = {code: i for i, code in enumerate(spec.sources)}
        return lambda r: (order.get(r.source, len(order)), r.trust_rank)
    if spec.rule == RULE_RECENT:
        return lambda r: -(r.business_ts.timestamp() if r.business_ts else float("-inf"))
    if spec.rule == RULE_COMPLETE:
        return lambda r: -r.completeness
    if spec.rule == RULE_FREQUENT:
        counts: dict[str, int] = {}
        for r in having:
            counts[_value_of(r, names).casefold()] = counts.get(_value_of(r, names).casefold(), 0) + 1
        return lambda r: -counts[_value_of(r, names).casefold()]
    if spec.rule == RULE_LONGEST:
        return lambda r: -len(_value_of(r, names).replace("\x1f", ""))
    if spec.rule == RULE_VALIDATED:
        prefixes = tuple(f"{n}." for n in names)
        return lambda r: int(any(f.startswith(prefixes) for f in r.flags))
    raise ValueError(spec.rule)


def _by_rules(specs: tuple[RuleSpec, ...], names: tuple[str, ...],
              having: list[RecordView]) -> tuple[RecordView, str]:
    keys = [_rule_key(spec, names, having) for spec in specs]
    ranked = sorted(having, key=lambda r: (*(k(r) for k in keys), r.source, r.external_id))
    winner = ranked[0]
    if len(ranked) == 1:
        return winner, RULE_ONLY
    runner_up = ranked[1]
    for spec, key in zip(specs, keys, strict=True):
        if key(winner) != key(runner_up):
            return winner, spec.rule
    return winner, RULE_STABLE


def golden_values(
    records: Sequence[RecordView],
    *,
    pinned: Mapping[str, Mapping[str, Any]] | None = None,
    rules: SurvivorshipRules | None = None,
) -> Golden:
    """The golden values of one customer from its linked records.

    `pinned` maps an attribute to either a record, ``{"source": ..., "external_id":
    ...}`` (a steward's choice among the records), or a typed value, ``{"value": ...,
    "keys": {key name: comparison key}, "origin": "correction" | "rectification",
    "by": user id, "reason": ..., "request": id or None, "at": ISO time}`` (a value
    corrected by hand; an empty value pins "no value"). Pinning any address attribute
    pins the whole address block; a typed address is pinned field by field, all five.
    """
    if len(records) == 1 and not pinned:
        return _golden_of_one(records[0])
    configured = rules.attributes if rules is not None else {}
    pinned = pinned or {}
    ordered = sorted(records, key=_sort_key)
    by_ref = {r.ref: r for r in ordered}
    timestamps = {r.ref: _iso(r.business_ts) for r in ordered}
    extra = {name for r in ordered for name in r.attributes if name not in _CANONICAL}

    values: dict[str, str] = {}
    keys: dict[str, str] = {}
    provenance: dict[str, dict[str, Any]] = {}
    typed_extra = {n for n, pin in pinned.items() if is_typed_pin(pin) and n not in _CANONICAL}
    for unit, names in _units(frozenset(extra | typed_extra)):
        if any(is_typed_pin(pinned.get(n)) for n in names):
            for name in names:
                pin = pinned.get(name)
                if not is_typed_pin(pin):
                    continue
                assert pin is not None
                if pin["value"]:
                    values[name] = pin["value"]
                    provenance[name] = _typed_provenance(pin)
                keys.update(pin.get("keys") or {})
            continue
        having = [r for r in ordered if any(r.attributes.get(n) for n in names)]
        if not having:
            continue
        winner, rule = None, ""
        pin = next((pinned[n] for n in names if n in pinned), None)
        if pin is not None:
            candidate = by_ref.get((pin.get("source", ""), pin.get("external_id", "")))
            if candidate is not None and candidate in having:
                winner, rule = candidate, RULE_PINNED
        by_rules = winner is None and unit in configured and len(having) > 1
        if by_rules:
            winner, rule = _by_rules(configured[unit], names, having)
        elif winner is None:
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
            if by_rules and rules is not None:  # which version of the administrators' rules chose it
                provenance[name]["rules_version"] = rules.version
        if unit == "address" and "address" in winner.keys:
            keys["address"] = winner.keys["address"]
    return Golden(values=values, keys=keys, provenance=provenance)
