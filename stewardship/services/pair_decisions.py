"""Record-level steward decisions (`PairDecision`), written so that they can be undone.

Every function returns the changes it made, in the shape `decision_changes_restore`
reads back: ``{"created": [[a, b]], "replaced": [[a, b, old_kind]], "removed": [[a, b, old_kind]]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from rcu.models import PairDecision

CHUNK = 2000
NO_CHANGES: dict[str, list] = {"created": [], "replaced": [], "removed": []}


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _ordered(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in pairs if a != b}


def _existing(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], PairDecision]:
    firsts = sorted({a for a, _ in pairs})
    found = {}
    for start in range(0, len(firsts), CHUNK):
        for decision in PairDecision.objects.filter(record_a_id__in=firsts[start : start + CHUNK]):
            key = (decision.record_a_id, decision.record_b_id)
            if key in pairs:
                found[key] = decision
    return found


def pair_decisions_set(
    *, pairs: Iterable[tuple[int, int]], kind: str, acting_user, reason: str = ""
) -> dict[str, list]:
    """Store a steward's word on record pairs (replacing an earlier one), with history."""
    wanted = _ordered(pairs)
    if not wanted:
        return {k: [] for k in NO_CHANGES}
    existing = _existing(wanted)
    user = _user(acting_user)
    new, changed, replaced = [], [], []
    for a, b in sorted(wanted):
        decision = existing.get((a, b))
        if decision is None:
            new.append(PairDecision(record_a_id=a, record_b_id=b, kind=kind, decided_by=user,
                                    reason=reason[:500]))
        elif decision.kind != kind:
            replaced.append([a, b, decision.kind])
            decision.kind, decision.decided_by, decision.reason = kind, user, reason[:500]
            decision.decided_at = timezone.now()
            changed.append(decision)
    if new:
        bulk_create_with_history(new, PairDecision, default_user=user,
                                 default_change_reason=reason[:100])
    if changed:
        bulk_update_with_history(changed, PairDecision, ["kind", "decided_by", "reason", "decided_at"],
                                 default_user=user, default_change_reason=reason[:100])
    return {"created": [[d.record_a_id, d.record_b_id] for d in new], "replaced": replaced,
            "removed": []}


def pair_decisions_between(
    *, side_a: Iterable[int], side_b: Iterable[int], kind: str | None = None
) -> list[PairDecision]:
    """Decisions joining a record of one side to a record of the other."""
    side_a, side_b = set(side_a), set(side_b)
    everything = sorted(side_a | side_b)
    if not side_a or not side_b:
        return []
    decisions = PairDecision.objects.filter(record_a_id__in=everything, record_b_id__in=everything)
    if kind is not None:
        decisions = decisions.filter(kind=kind)
    return [
        d for d in decisions.select_related("decided_by")
        if (d.record_a_id in side_a and d.record_b_id in side_b)
        or (d.record_a_id in side_b and d.record_b_id in side_a)
    ]


def pair_decisions_remove(
    *, decisions: Iterable[PairDecision], acting_user, reason: str = ""
) -> dict[str, list]:
    """Withdraw decisions (a steward reopens a rejection, detaches a merged record)."""
    removed = []
    for decision in decisions:
        removed.append([decision.record_a_id, decision.record_b_id, decision.kind])
        decision._history_user = _user(acting_user)
        decision._change_reason = reason[:100]
        decision.delete()
    return {"created": [], "replaced": [], "removed": removed}


def pair_changes_merge(*changes: Mapping[str, list]) -> dict[str, list]:
    merged: dict[str, list] = {k: [] for k in NO_CHANGES}
    for change in changes:
        for key in NO_CHANGES:
            merged[key].extend(change.get(key, []))
    return merged


def pair_changes_restore(*, changes: Mapping[str, list], acting_user, reason: str) -> None:
    """Put the decisions back as they were before `changes`."""
    user = _user(acting_user)
    created = [tuple(p) for p in changes.get("created", [])]
    if created:
        clause = Q()
        for a, b in created:
            clause |= Q(record_a_id=a, record_b_id=b)
        pair_decisions_remove(
            decisions=PairDecision.objects.filter(clause), acting_user=user, reason=reason
        )
    for a, b, kind in [*changes.get("replaced", []), *changes.get("removed", [])]:
        pair_decisions_set(pairs=[(a, b)], kind=kind, acting_user=user, reason=reason)
