"""The decisions that shaped a customer, for its page."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Prefetch, Q, QuerySet

from rcu.hooks import CustomerDecision
from rcu.models import Customer
from stewardship.models import Decision

SHOWN = 50


def customer_decisions(*, customer: Customer) -> QuerySet[Decision]:
    """Steward decisions involving this customer or a customer merged into it, newest first."""
    through = Decision.customers.through
    involved = through.objects.filter(
        Q(customer_id=customer.pk) | Q(customer__merged_into=customer)
    ).values("decision_id")
    return (
        Decision.objects.filter(pk__in=involved)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")[:SHOWN]
    )


def decisions_for_pack(*, customer_ids: Sequence[int]) -> list[CustomerDecision]:
    """The `customer_decisions` hook's receiver: every decision (in effect or undone)
    involving these customers, for a subject's access pack. No access rule here: the
    reader (the GDPR pack, built for the DPO) owns it."""
    through = Decision.customers.through
    involved = through.objects.filter(customer_id__in=list(customer_ids)).values("decision_id")
    decisions = Decision.objects.filter(pk__in=involved).prefetch_related(
        Prefetch("customers", queryset=Customer.objects.only("public_id"))
    ).order_by("decided_at", "id")
    return [
        CustomerDecision(
            kind=d.kind, decided_at=d.decided_at, decided_by_id=d.decided_by_id,
            reason=d.reason,
            customer_public_ids=tuple(sorted(str(c.public_id) for c in d.customers.all())),
            attributes_chosen=tuple(sorted(d.choices or {})), undone_at=d.undone_at,
        )
        for d in decisions
    ]
