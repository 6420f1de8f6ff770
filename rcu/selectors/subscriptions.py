"""Reading subscriptions, their backlog, the change feed and cross-references."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Min, Q
from django.utils import timezone

from rcu.models import ChangeEvent, Customer, Delivery, SourceRecord, SourceSystem, Subscription
from rcu.selectors.customers import customer_resolve
from rcu.selectors.sources import sources_for_user

VIEW_SUBSCRIPTIONS = "rcu.view_subscription"
MANAGE_SUBSCRIPTIONS = "rcu.change_subscription"


@dataclass(frozen=True)
class SubscriptionStats:
    pending: int
    lag_seconds: float | None  # age of the oldest event not delivered yet


def subscription_stats(subscription: Subscription) -> SubscriptionStats:
    """Pending deliveries, and how late the oldest one is (events not fanned out yet
    count too: they wait all the same)."""
    pending = Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING)
    oldest = pending.aggregate(at=Min("event__occurred_at"))["at"]
    waiting = ChangeEvent.objects.filter(pk__gt=subscription.cursor).filter(
        Q(audience__isnull=True) | Q(audience=subscription))
    if subscription.event_types:
        waiting = waiting.filter(Q(type__in=subscription.event_types) | Q(audience=subscription))
    oldest_waiting = waiting.order_by("pk").values_list("occurred_at", flat=True).first()
    candidates = [t for t in (oldest, oldest_waiting) if t is not None]
    lag = (timezone.now() - min(candidates)).total_seconds() if candidates else None
    return SubscriptionStats(pending=pending.count() + waiting.count(), lag_seconds=lag)


def events_after(*, subscription: Subscription, after: int, types: Sequence[str],
                 limit: int) -> list[ChangeEvent]:
    """The feed: events after the cursor the subscription receives, oldest first."""
    wanted = [t for t in types if not subscription.event_types or t in subscription.event_types]
    events = ChangeEvent.objects.filter(pk__gt=after).filter(
        Q(audience__isnull=True) | Q(audience=subscription)).order_by("pk")
    if types:
        events = events.filter(Q(type__in=wanted) | Q(audience=subscription, type__in=types))
    elif subscription.event_types:
        events = events.filter(Q(type__in=subscription.event_types) | Q(audience=subscription))
    return list(events[:limit])


@dataclass(frozen=True)
class CrossReference:
    customer: Customer  # the golden customer today (the survivor of any merge)
    records: list[tuple[str, str]]  # (source code, external id) the requester may see


def record_cross_reference(*, user, source: SourceSystem, external_id: str) -> CrossReference | None:
    """Which customer a source's record belongs to, and that customer's other records."""
    record = SourceRecord.objects.filter(source=source, external_id=external_id).select_related(
        "customer").first()
    if record is None or record.customer is None:
        return None
    customer = customer_resolve(record.customer.public_id) or record.customer
    visible = sources_for_user(user)
    records = list(
        SourceRecord.objects.filter(customer=customer, deleted_at_source__isnull=True,
                                    source__in=visible)
        .order_by("source__code", "external_id").values_list("source__code", "external_id")
    )
    return CrossReference(customer=customer, records=records)


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    stats: SubscriptionStats
    failing: int  # deliveries waiting after at least one failed attempt
    last_error: str


def subscriptions_overview() -> list[SubscriptionRow]:
    """Every subscription with its backlog, lag and latest failure, for the admins' page."""
    rows = []
    for subscription in Subscription.objects.select_related("source").order_by("name"):
        failing = Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING,
                                          attempts__gt=0)
        last_error = failing.order_by("-next_attempt_at").values_list("last_error", flat=True).first()
        rows.append(SubscriptionRow(subscription=subscription, stats=subscription_stats(subscription),
                                    failing=failing.count(), last_error=last_error or ""))
    return rows


def events_of_customer(public_id) -> list[ChangeEvent]:
    """A customer's events, oldest first, and those of the customers merged into it."""
    ids = list(Customer.objects.filter(public_id=public_id).values_list("pk", flat=True))
    ids += list(Customer.objects.filter(merged_into__public_id=public_id).values_list("pk", flat=True))
    return list(ChangeEvent.objects.filter(customer_id__in=ids).select_related("actor")
                .order_by("pk")[:1000])
