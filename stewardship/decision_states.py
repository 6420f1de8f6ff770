"""What a steward decision saw before and did after: the ledger's typed states.

Merge, detach and reject build them; undo reads them back. They are stored as JSON on
`Decision.before` / `Decision.after` (`to_json`), ids as strings where JSON needs keys.
Version 1 is the first typed layout; rows written before it (no "version" key) have
the same layout and read the same way, so every decision ever recorded still undoes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERSION = 1

# A pinned golden value: the record it comes from, e.g. {"source": "crm", "external_id": "C1"},
# or a value typed by hand (see rcu.survivorship.golden_values).
Pins = dict[str, dict[str, Any]]


def _by_id(data: Mapping[str, Any] | None) -> dict[int, Any]:
    return {int(k): v for k, v in (data or {}).items()}


def _keyed(data: Mapping[int, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in sorted(data.items())}


@dataclass(frozen=True)
class PairChanges:
    """Steward pair decisions a decision wrote: created, replaced (with the kind they
    had) and removed (with theirs). Undo removes the first and restores the others."""

    created: list[tuple[int, int]] = field(default_factory=list)
    replaced: list[tuple[int, int, str]] = field(default_factory=list)
    removed: list[tuple[int, int, str]] = field(default_factory=list)

    def __add__(self, other: PairChanges) -> PairChanges:
        return PairChanges(
            created=[*self.created, *other.created],
            replaced=[*self.replaced, *other.replaced],
            removed=[*self.removed, *other.removed],
        )

    def to_json(self) -> dict[str, list]:
        return {
            "created": [list(p) for p in self.created],
            "replaced": [list(p) for p in self.replaced],
            "removed": [list(p) for p in self.removed],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PairChanges:
        data = data or {}
        return cls(
            created=[(int(a), int(b)) for a, b in data.get("created", [])],
            replaced=[(int(a), int(b), str(k)) for a, b, k in data.get("replaced", [])],
            removed=[(int(a), int(b), str(k)) for a, b, k in data.get("removed", [])],
        )


@dataclass(frozen=True)
class CustomerBefore:
    merged_into: int | None
    pinned: Pins


@dataclass(frozen=True)
class StateBefore:
    """What undo puts back: each record's customer, each customer's redirect and pins,
    candidate statuses, golden values (JSON-ready columns) and the payload hash of each
    record (golden values are restored exactly only if no source changed meanwhile)."""

    records: dict[int, int] = field(default_factory=dict)
    customers: dict[int, CustomerBefore] = field(default_factory=dict)
    candidates: dict[int, str] = field(default_factory=dict)
    golden: dict[int, dict[str, Any]] = field(default_factory=dict)
    fingerprints: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "records": [[r, c] for r, c in self.records.items()],
            "customers": _keyed({
                pk: {"merged_into": state.merged_into, "pinned": state.pinned}
                for pk, state in self.customers.items()
            }),
            "candidates": _keyed(self.candidates),
            "golden": _keyed(self.golden),
            "fingerprints": _keyed(self.fingerprints),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> StateBefore:
        data = data or {}
        return cls(
            records={int(r): int(c) for r, c in data.get("records", [])},
            customers={
                pk: CustomerBefore(merged_into=state.get("merged_into"),
                                   pinned=state.get("pinned") or {})
                for pk, state in _by_id(data.get("customers")).items()
            },
            candidates=_by_id(data.get("candidates")),
            golden=_by_id(data.get("golden")),
            fingerprints=_by_id(data.get("fingerprints")),
        )


@dataclass(frozen=True)
class StateAfter:
    """What the decision left, which undo checks is still so: each record's customer,
    each customer's redirect, the customers it created, the pair decisions it wrote, the
    candidate statuses it set and, for a correction, each customer's pins as it left them."""

    records: dict[int, int] = field(default_factory=dict)
    merged_into: dict[int, int | None] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    pair_decisions: PairChanges = field(default_factory=PairChanges)
    candidates: dict[int, str] = field(default_factory=dict)
    pinned: dict[int, Pins] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body = {
            "version": VERSION,
            "records": [[r, c] for r, c in self.records.items()],
            "customers": _keyed({pk: {"merged_into": m} for pk, m in self.merged_into.items()}),
            "created": list(self.created),
            "pair_decisions": self.pair_decisions.to_json(),
            "candidates": _keyed(self.candidates),
        }
        if self.pinned:
            body["pinned"] = _keyed(self.pinned)
        return body

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> StateAfter:
        data = data or {}
        return cls(
            records={int(r): int(c) for r, c in data.get("records", [])},
            merged_into={
                pk: state.get("merged_into") for pk, state in _by_id(data.get("customers")).items()
            },
            created=[int(pk) for pk in data.get("created", [])],
            pair_decisions=PairChanges.from_json(data.get("pair_decisions")),
            candidates=_by_id(data.get("candidates")),
            pinned=_by_id(data.get("pinned")),
        )
