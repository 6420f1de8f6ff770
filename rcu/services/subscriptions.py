"""Subscribing systems to changes: create, change, rotate the secret, pause and
resume, replay. Admins only (the views check it); every change has history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rcu.models import ChangeEvent, Delivery, SourceSystem, Subscription
from rcu.services.changes import Actor, actor_user, change_save
from rcu.services.events import subscribable_attributes
from rcu.webhooks import event_body, secret_new, signature_headers, target_refusal

# How long the previous secret still signs after a rotation, for receivers to switch.
ROTATION_OVERLAP = timedelta(hours=24)


class SubscriptionRefused(ValueError):
    """A subscription cannot be saved as asked; `field` names what is wrong."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class SubscriptionCreated:
    subscription: Subscription
    secret: str  # shown once


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    checked = dict(values)
    if "target_url" in checked:
        refusal = target_refusal(checked["target_url"],
                                 allow_private=settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS)
        if refusal:
            raise SubscriptionRefused("target_url", refusal)
    if "event_types" in checked:
        unknown = sorted(set(checked["event_types"]) - set(ChangeEvent.Type.values))
        if unknown:
            raise SubscriptionRefused("event_types", f"unknown event types: {', '.join(unknown)}")
        checked["event_types"] = sorted(set(checked["event_types"]))
    if "attributes" in checked:
        unknown = sorted(set(checked["attributes"]) - set(subscribable_attributes()))
        if unknown:
            raise SubscriptionRefused("attributes", f"unknown attributes: {', '.join(unknown)}")
        checked["attributes"] = sorted(set(checked["attributes"]))
    if "purpose" in checked and checked["purpose"] not in Subscription.Purpose.values:
        raise SubscriptionRefused("purpose", "unknown purpose")
    source = checked.get("source")
    if isinstance(source, str):
        checked["source"] = SourceSystem.objects.filter(code=source).first()
        if checked["source"] is None:
            raise SubscriptionRefused("source", "no such source")
    return checked


@transaction.atomic
def subscription_create(
    *, name: str, target_url: str, purpose: str, acting_user: Actor,
    event_types: Iterable[str] = (), attributes: Iterable[str] = (),
    source: SourceSystem | str | None = None, from_now: bool = True,
) -> SubscriptionCreated:
    """A new subscriber, told of changes from now on (`from_now`) or from the first event
    kept; its signing secret is in the answer, once."""
    if Subscription.objects.filter(name=name).exists():
        raise SubscriptionRefused("name", "a subscription has this name already")
    values = _checked({"target_url": target_url, "purpose": purpose,
                       "event_types": list(event_types), "attributes": list(attributes),
                       "source": source})
    secret = secret_new()
    latest = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    subscription = Subscription(name=name, secret=secret, created_by=actor_user(acting_user),
                                cursor=latest if from_now else 0, **values)
    change_save(subscription, acting_user=acting_user, reason="created")
    return SubscriptionCreated(subscription=subscription, secret=secret)


@transaction.atomic
def subscription_update(*, subscription: Subscription, values: Mapping[str, Any],
                        acting_user: Actor) -> Subscription:
    """Change what it receives, where, or whether it is active. Resuming (`paused`
    false) retries its waiting deliveries at once."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    checked = _checked({k: v for k, v in values.items() if k != "paused"})
    for name, value in checked.items():
        setattr(subscription, name, value)
    if values.get("paused") is False and subscription.paused_at is not None:
        subscription.paused_at, subscription.paused_reason = None, ""
        Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).update(
            next_attempt_at=None, attempts=0)
    elif values.get("paused") is True and subscription.paused_at is None:
        subscription.paused_at, subscription.paused_reason = timezone.now(), "paused by an admin"
    change_save(subscription, acting_user=acting_user, reason="changed")
    return subscription


@transaction.atomic
def subscription_rotate_secret(*, subscription: Subscription, acting_user: Actor) -> SubscriptionCreated:
    """A new secret signs from now on; the old one also signs for ROTATION_OVERLAP."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = timezone.now() + ROTATION_OVERLAP
    subscription.secret = secret_new()
    change_save(subscription, acting_user=acting_user, reason="secret rotated")
    return SubscriptionCreated(subscription=subscription, secret=subscription.secret)


@transaction.atomic
def subscription_replay(*, subscription: Subscription, acting_user: Actor,
                        from_event: int | None = None, from_time: datetime | None = None) -> int:
    """Send again every event from this one (or this time) on, in order; returns how
    many deliveries are pending again. Receivers see the same `webhook-id` again."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if (from_event is None) == (from_time is None):
        raise SubscriptionRefused("from_event", "give either from_event or from_time")
    events = ChangeEvent.objects.all()
    events = events.filter(pk__gte=from_event) if from_event is not None else events.filter(
        occurred_at__gte=from_time)
    first = events.order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        return 0
    again = Delivery.objects.filter(subscription=subscription, event_id__gte=first).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=None, delivered_at=None)
    # Events not fanned out yet will be anyway; the history keeps who asked for what.
    change_save(subscription, acting_user=acting_user, reason=f"replay from evt_{first}")
    return again


@dataclass(frozen=True)
class TestDelivery:
    status_code: int | None
    error: str


def subscription_test_send(*, subscription: Subscription, acting_user: Actor) -> TestDelivery:
    """Send a signed sample event (type `test`) now; nothing is recorded but the answer."""
    now = timezone.now()
    refusal = target_refusal(subscription.target_url,
                             allow_private=settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    if refusal:
        return TestDelivery(status_code=None, error=refusal)
    body = event_body(event_type="test", occurred_at=now, customer_id="00000000-0000-0000-0000-000000000000",
                      version=0, attributes={})
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = signature_headers(message_id=f"test_{int(now.timestamp())}", timestamp=now, body=raw,
                                signing_secrets=[subscription.secret])
    try:
        response = httpx.post(subscription.target_url, content=raw, headers=headers,
                              timeout=settings.RCU_WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return TestDelivery(status_code=None, error=f"{type(exc).__name__}: {exc}"[:500])
    ok = 200 <= response.status_code < 300
    return TestDelivery(status_code=response.status_code, error="" if ok else f"HTTP {response.status_code}")
