"""Which subscribing systems acknowledged a request's rectification (the request page
and API show it: sources and subscribers must correct their copies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from gdpr.models import SubjectRequest
from gdpr.services.rectification import rectification_customers
from rcu.models import ChangeEvent, Delivery, Subscription


@dataclass(frozen=True)
class SubscriberAcknowledgement:
    subscription: str
    events: int  # the request's customer.rectified events this subscriber receives
    delivered: int  # acknowledged (a 2xx)
    failing: int  # waiting after at least one failed attempt

    @property
    def acknowledged(self) -> bool:
        return self.delivered == self.events


def rectification_events(request: SubjectRequest) -> list[int]:
    """The `customer.rectified` events the request's last rectification wrote: between
    its start (`executed_at`) and its step, in one transaction."""
    step = request.steps.filter(action="rectified").order_by("-at").first()
    if request.executed_at is None or step is None:
        return []
    ids = [c.pk for c in rectification_customers(request)]
    return list(
        ChangeEvent.objects.filter(type=ChangeEvent.Type.RECTIFIED, customer_id__in=ids,
                                   occurred_at__gte=request.executed_at,
                                   occurred_at__lte=step.at, audience__isnull=True)
        .values_list("pk", flat=True)
    )


def rectification_acknowledgements(request: SubjectRequest) -> list[SubscriberAcknowledgement]:
    """Per active subscriber wanting `customer.rectified`: how many of the request's
    events it acknowledged. Events not fanned out yet count as waiting."""
    events = rectification_events(request)
    if not events:
        return []
    counts: dict[int, dict[str, Any]] = {
        row["subscription_id"]: dict(row)
        for row in Delivery.objects.filter(event_id__in=events).values("subscription_id").annotate(
            delivered=Count("pk", filter=Q(status=Delivery.Status.DELIVERED)),
            failing=Count("pk", filter=Q(status=Delivery.Status.PENDING, attempts__gt=0)),
        )
    }
    found = []
    for subscription in Subscription.objects.filter(active=True).order_by("name"):
        if subscription.event_types and ChangeEvent.Type.RECTIFIED not in subscription.event_types:
            continue
        row = counts.get(subscription.pk, {})
        found.append(SubscriberAcknowledgement(
            subscription=subscription.name, events=len(events),
            delivered=row.get("delivered", 0), failing=row.get("failing", 0),
        ))
    return found
