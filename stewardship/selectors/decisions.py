"""The decisions that shaped a customer, for its page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
