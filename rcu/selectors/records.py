from __future__ import annotations

from django.db.models import QuerySet

from rcu.models import Customer, SourceRecord
from rcu.selectors.sources import sources_for_user

VIEW_ALL = "rcu.view_sourcerecord"


def records_visible_to(user) -> QuerySet[SourceRecord]:
    if not user.is_authenticated:
        return SourceRecord.objects.none()
    records = SourceRecord.objects.select_related("source", "source__department")
    if user.has_perm(VIEW_ALL):
        return records
    return records.filter(source__in=sources_for_user(user))


def customer_records_for_user(*, user, customer: Customer) -> tuple[list[SourceRecord], int]:
    """The customer's records the person may see, and how many others are hidden."""
    visible = list(records_visible_to(user).filter(customer=customer).order_by("source__trust_rank", "source__code", "external_id"))
    total = SourceRecord.objects.filter(customer=customer).count()
    return visible, total - len(visible)
