"""A subscriber's snapshot: every customer it may see as it stands, as events.

A new subscriber starts from the current state rather than replaying history. The
snapshot is written as `customer.snapshot` events addressed to that subscriber alone
(`ChangeEvent.audience`), in chunks of customers by id: each chunk is one transaction
that also moves `Subscription.snapshot_after`, so a task that dies or runs twice writes
each customer once. The events go through the subscriber's usual deliveries (signed,
ordered per customer, retried) and its change feed. A snapshot event carries the
customer's latest version: a receiver keeps, per customer, the highest version it
applied, and a change made while the snapshot was written arrives as a higher version.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from rcu import hooks
from rcu.models import ChangeEvent, Customer, Subscription
from rcu.services.changes import Actor, change_save
from rcu.services.events import EVENT_ATTRIBUTES, event_json

SNAPSHOT_CHUNK = 2000


@transaction.atomic
def subscription_snapshot_request(*, subscription: Subscription, acting_user: Actor) -> Subscription:
    """Ask for a snapshot (again: a new one starts from the first customer)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.snapshot_requested_at = timezone.now()
    subscription.snapshot_after = 0
    subscription.snapshot_done_at = None
    change_save(subscription, acting_user=acting_user, reason="snapshot asked")
    from rcu.tasks import subscription_snapshot_task

    transaction.on_commit(lambda: subscription_snapshot_task.delay(subscription.pk))
    return subscription


@transaction.atomic
def subscription_snapshot_continue(*, subscription_id: int, chunk: int = SNAPSHOT_CHUNK) -> bool:
    """Write the next chunk of the snapshot; True once it is complete (or not asked)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    if subscription.snapshot_requested_at is None or subscription.snapshot_done_at is not None:
        return True
    rows = list(
        Customer.objects.active().filter(pk__gt=subscription.snapshot_after).order_by("pk")
        .values("pk", "public_id", *EVENT_ATTRIBUTES)[:chunk]
    )
    now = timezone.now()
    if not rows:
        subscription.snapshot_done_at = now
        Subscription.objects.filter(pk=subscription.pk).update(snapshot_done_at=now)
        return True
    ids = [row["pk"] for row in rows]
    projected = hooks.customer_projection(customer_ids=ids)
    versions = dict(
        ChangeEvent.objects.filter(customer_id__in=ids, audience__isnull=True)
        .values("customer_id").annotate(v=Max("version")).values_list("customer_id", "v")
    )
    ChangeEvent.objects.bulk_create([
        ChangeEvent(
            type=ChangeEvent.Type.SNAPSHOT, customer_id=row["pk"], customer_public_id=row["public_id"],
            version=versions.get(row["pk"], 0), audience=subscription, occurred_at=now,
            changes={
                **{k: event_json(row[k]) for k in EVENT_ATTRIBUTES if row[k] not in ("", None, {})},
                **projected.get(row["pk"], {}),
            },
            actor_job="snapshot",
        )
        for row in rows
    ], batch_size=chunk)
    Subscription.objects.filter(pk=subscription.pk).update(snapshot_after=ids[-1])
    return False
