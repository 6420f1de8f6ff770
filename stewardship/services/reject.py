""""Not the same person": remembered at the source-record level, and reversible."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rcu.models import PairDecision
from rcu.services.changes import Actor, actor_user, change_save
from rcu.services.locks import candidates_lock, retrying
from stewardship.decision_states import StateAfter, StateBefore
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.ledger import (
    candidate_customers,
    candidate_lock_for_decision,
    customers_lock,
    customers_of_records,
    decision_record,
    records_lock,
)
from stewardship.services.pair_decisions import pair_decisions_set


@retrying
@transaction.atomic
def candidate_reject(
    *, candidate_id: int, acting_user: Actor, reason: str = "", expected_updated_at=None
) -> Decision:
    """Every record of one customer against every record of the other is stored as
    cannot-link: no later match, merge or rule change joins them or proposes them again.

    The two customers are locked first (a merge of them waits, then sees the
    cannot-links), and the other open candidates between them are closed with this one.
    """
    locked = candidate_customers(candidate_id)
    customers_lock(locked)
    records_lock(customer_ids=locked)
    candidate = candidate_lock_for_decision(
        candidate_id=candidate_id, acting_user=acting_user,
        expected_updated_at=expected_updated_at, locked_customers=locked,
    )
    customer_of = customers_of_records((candidate.record_a_id, candidate.record_b_id))
    customer_a, customer_b = customer_of[candidate.record_a_id], customer_of[candidate.record_b_id]
    if customer_a == customer_b:
        raise DecisionConflict(_("These records already belong to one customer."))
    records = records_lock(customer_ids=[customer_a, customer_b])
    side_a = [r.pk for r in records if r.customer_id == customer_a]
    side_b = [r.pk for r in records if r.customer_id == customer_b]
    why = reason or "rejected"
    changes = pair_decisions_set(
        pairs=[(a, b) for a in side_a for b in side_b],
        kind=PairDecision.Kind.CANNOT_LINK, acting_user=acting_user, reason=why,
    )
    user = actor_user(acting_user)
    now = timezone.now()
    # The same two customers may be proposed through other records: one answer for all.
    same_pair = MergeCandidate.objects.open().filter(
        Q(record_a_id__in=side_a, record_b_id__in=side_b)
        | Q(record_a_id__in=side_b, record_b_id__in=side_a)
    ).exclude(pk=candidate.pk)
    closed = [candidate, *candidates_lock(same_pair.values_list("pk", flat=True))]
    for rejected in closed:
        rejected.status = MergeCandidate.Status.REJECTED
        rejected.decided_by = user
        rejected.decided_at = now
        rejected.leased_by, rejected.leased_until = None, None
        change_save(rejected, acting_user=acting_user, reason=why)
    return decision_record(
        acting_user=acting_user, customers=[customer_a, customer_b],
        record_ids=[*side_a, *side_b],
        kind=Decision.Kind.REJECT, candidate=candidate, reason=reason,
        before=StateBefore(candidates={c.pk: MergeCandidate.Status.OPEN for c in closed}),
        after=StateAfter(candidates={c.pk: MergeCandidate.Status.REJECTED for c in closed},
                         pair_decisions=changes),
    )
