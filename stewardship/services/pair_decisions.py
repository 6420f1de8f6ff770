"""Record-level steward decisions (`PairDecision`), written so that they can be undone.

Every function returns the changes it made (`PairChanges`), which
`pair_changes_restore` reads back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from rcu.db import chunks
from rcu.models import PairDecision
from rcu.services.changes import Actor, actor_user, change_delete, changes_create, changes_update
from stewardship.decision_states import PairChanges


def _ordered(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in pairs if a != b}


def _existing(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], PairDecision]:
    firsts = sorted({a for a, _ in pairs})
    found = {}
    for chunk in chunks(firsts):
        for decision in PairDecision.objects.filter(record_a_id__in=chunk):
            key = (decision.record_a_id, decision.record_b_id)
            if key in pairs:
                found[key] = decision
    return found


def pair_decisions_set(
    *, pairs: Iterable[tuple[int, int]], kind: str, acting_user: Actor, reason: str = ""
) -> PairChanges:
    """Store a steward's word on record pairs (replacing an earlier one), with history."""
    wanted = _ordered(pairs)
    if not wanted:
        return PairChanges()
    existing = _existing(wanted)
    user = actor_user(acting_user)
    new, changed, replaced = [], [], []
    for a, b in sorted(wanted):
        decision = existing.get((a, b))
        if decision is None:
            new.append(PairDecision(record_a_id=a, record_b_id=b, kind=kind, decided_by=user,
                                    reason=reason))
        elif decision.kind != kind:
            replaced.append((a, b, decision.kind))
            decision.kind, decision.decided_by, decision.reason = kind, user, reason
            decision.decided_at = timezone.now()
            changed.append(decision)
    changes_create(PairDecision, new, acting_user=acting_user, reason=reason)
    changes_update(PairDecision, changed, ["kind", "decided_by", "reason", "decided_at"],
                   acting_user=acting_user, reason=reason)
    return PairChanges(created=[(d.record_a_id, d.record_b_id) for d in new], replaced=replaced)


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
    *, decisions: Iterable[PairDecision], acting_user: Actor, reason: str = ""
) -> PairChanges:
    """Withdraw decisions (a steward reopens a rejection, detaches a merged record)."""
    removed = []
    for decision in decisions:
        removed.append((decision.record_a_id, decision.record_b_id, decision.kind))
        change_delete(decision, acting_user=acting_user, reason=reason)
    return PairChanges(removed=removed)


def pair_changes_restore(*, changes: PairChanges, acting_user: Actor, reason: str) -> None:
    """Put the decisions back as they were before `changes`."""
    if changes.created:
        clause = Q()
        for a, b in changes.created:
            clause |= Q(record_a_id=a, record_b_id=b)
        pair_decisions_remove(
            decisions=PairDecision.objects.filter(clause), acting_user=acting_user, reason=reason
        )
    for a, b, kind in [*changes.replaced, *changes.removed]:
        pair_decisions_set(pairs=[(a, b)], kind=kind, acting_user=acting_user, reason=reason)
