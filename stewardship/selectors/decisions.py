"""The decisions that shaped a customer, for its page."""

from __future__ import annotations

from django.db.models import QuerySet

from rcu.models import Customer
from stewardship.models import Decision

SHOWN = 50


def customer_decisions(*, customer: Customer) -> QuerySet[Decision]:
    """Steward decisions involving this customer or a customer merged into it, newest first."""
    absorbed = Customer.objects.filter(merged_into=customer).values("pk")
    return (
        Decision.objects.filter(customers__in=[customer.pk])
        .union(Decision.objects.filter(customers__in=absorbed))
        .order_by("-decided_at", "-id")[:SHOWN]
    )
