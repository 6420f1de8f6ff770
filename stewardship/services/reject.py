""""Not the same person": remembered at the source-record level, and reversible."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rcu.models import PairDecision, SourceRecord
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.ledger import candidate_lock_for_decision, user_id_of
from stewardship.services.pair_decisions import pair_decisions_set


@transaction.atomic
def candidate_reject(
    *, candidate_id: int, acting_user, reason: str = "", expected_updated_at=None
) -> Decision:
    """Every record of one customer against every record of the other is stored as
    cannot-link: no later match, merge or rule change joins them or proposes them again."""
    candidate = candidate_lock_for_decision(
        candidate_id=candidate_id, acting_user=acting_user,
        expected_updated_at=expected_updated_at,
    )
    customer_of = dict(
        SourceRecord.objects.filter(pk__in=(candidate.record_a_id, candidate.record_b_id))
        .values_list("pk", "customer_id")
    )
    customer_a, customer_b = customer_of[candidate.record_a_id], customer_of[candidate.record_b_id]
    if customer_a == customer_b:
        raise DecisionConflict("These records already belong to one customer.")
    side_a = list(SourceRecord.objects.filter(customer_id=customer_a).values_list("pk", flat=True))
    side_b = list(SourceRecord.objects.filter(customer_id=customer_b).values_list("pk", flat=True))
    changes = pair_decisions_set(
        pairs=[(a, b) for a in side_a for b in side_b],
        kind=PairDecision.Kind.CANNOT_LINK, acting_user=acting_user, reason=reason or "rejected",
    )
    user = acting_user if user_id_of(acting_user) else None
    candidate.status = MergeCandidate.Status.REJECTED
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.leased_by, candidate.leased_until = None, None
    candidate._history_user = user
    candidate._change_reason = (reason or "rejected")[:100]
    candidate.save()
    decision = Decision.objects.create(
        kind=Decision.Kind.REJECT, candidate=candidate, reason=reason[:500], decided_by=user,
        before={"candidates": {str(candidate.pk): MergeCandidate.Status.OPEN}},
        after={"candidates": {str(candidate.pk): MergeCandidate.Status.REJECTED},
               "pair_decisions": changes},
    )
    decision.customers.set([customer_a, customer_b])
    return decision
