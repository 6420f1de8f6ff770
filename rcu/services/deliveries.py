"""Delivering change events to subscribed systems: fan-out, ordered sends, retries.

The outbox rows and the delivery rows are the truth, never the broker: a worker killed
mid-send leaves the delivery pending and it is sent again (same `webhook-id`, so a
receiver that honours it applies it once). Each (subscription, customer) is one stream,
sent in event order; a merge waits for the streams of the customers it retired. A
subscriber that keeps failing is paused, and never holds the others back: each
subscription is worked on by its own task.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from rcu import hooks
from rcu.db import chunks
from rcu.models import ChangeEvent, Customer, Delivery, SourceRecord, Subscription
from rcu.selectors.restriction import RESTRICTION_NOTICES, restricted_silenced
from rcu.webhooks import event_body, signature_headers, target_refusal

FAN_OUT_CHUNK = 1000
# Streams whose heads are due, locked, sent and recorded together...
BATCH = 100
# ...each sending up to this many of its pending events in order, one after the other:
# a customer changed many times in a row (a hot stream) leaves at the pace of the
# receiver, not of one batch round trip per event.
RUN = 20


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    paused: bool = False
    more_due: bool = False  # heads of streams due now were left for the next round
    next_attempt_at: datetime | None = None  # the earliest retry waiting


def subscription_wants(subscription: Subscription, event_type: str) -> bool:
    return not subscription.event_types or event_type in subscription.event_types


@transaction.atomic
def deliveries_fan_out(*, subscription_id: int, limit: int = 50_000) -> int:
    """Turn the events after the subscription's cursor into its pending deliveries.

    Idempotent: the cursor moves in the same transaction as the rows it covered."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    created = 0
    while created < limit:
        events = list(
            ChangeEvent.objects.filter(pk__gt=subscription.cursor).order_by("pk")
            .values_list("pk", "type", "customer_id", "audience_id")[:FAN_OUT_CHUNK]
        )
        if not events:
            break
        mine = [
            (pk, kind, customer_id) for pk, kind, customer_id, audience in events
            if audience == subscription.pk or (audience is None and subscription_wants(subscription, kind))
        ]
        # Art. 18: what a restricted customer's events would tell, this subscriber must not
        # hear (marketing): recorded as skipped, never sent.
        silenced = restricted_silenced(subscription, [(kind, customer_id) for _, kind, customer_id in mine])
        rows = [
            Delivery(subscription_id=subscription.pk, event_id=pk, customer_id=customer_id,
                     **({"status": Delivery.Status.SKIPPED} if customer_id in silenced
                        and kind not in RESTRICTION_NOTICES else {}))
            for pk, kind, customer_id in mine
        ]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
        subscription.cursor = events[-1][0]
    Subscription.objects.filter(pk=subscription.pk).update(cursor=subscription.cursor)
    return created


def _heads_due(subscription: Subscription, *, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries with nothing earlier pending in their stream, due now.

    The first pending event of each customer's stream, found by one grouped pass over
    the subscription's pending rows (a partial index): linear, whatever the planner
    thinks of a freshly filled table."""
    pending = Delivery.objects.filter(subscription_id=subscription.pk, status=Delivery.Status.PENDING)
    firsts = pending.values("customer_id").annotate(first=Min("event_id")).values("first")
    return list(
        pending.filter(event_id__in=Subquery(firsts))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("event").order_by("event_id")[:limit]
    )


def _retired_streams_pending(subscription: Subscription, event: ChangeEvent) -> bool:
    """A merge leaves after every earlier event of the customers it retired."""
    retired = event.data.get("retired_ids") or []
    if event.type != ChangeEvent.Type.MERGED or not retired:
        return False
    ids = Customer.objects.filter(public_id__in=retired).values_list("pk", flat=True)
    return Delivery.objects.filter(
        subscription_id=subscription.pk, customer_id__in=list(ids),
        status=Delivery.Status.PENDING, event_id__lt=event.pk,
    ).exists()


def cross_references(subscription: Subscription, customer_ids: list[int]) -> dict[int, list[str]]:
    if subscription.source_id is None or not customer_ids:
        return {}
    refs: dict[int, list[str]] = {}
    for chunk in chunks(sorted(set(customer_ids))):
        for customer_id, external_id in SourceRecord.objects.filter(
            customer_id__in=chunk, source_id=subscription.source_id, deleted_at_source__isnull=True,
        ).order_by("external_id").values_list("customer_id", "external_id"):
            refs.setdefault(customer_id, []).append(external_id)
    return refs


def delivery_body(subscription: Subscription, event: ChangeEvent,
                  refs: dict[int, list[str]] | None = None) -> dict:
    """The event as this subscriber receives it: projected on the attributes it may see."""
    allowed = set(subscription.attributes)
    extra = dict(event.data)
    # An erased customer's records are gone: its event names each source's own ids,
    # for that source's subscription alone.
    erased_refs = extra.pop("source_refs", None) or {}
    if subscription.source_id is not None:
        extra["source_ids"] = (
            erased_refs.get(str(subscription.source_id), [])
            if event.type == ChangeEvent.Type.ERASED
            else (refs or {}).get(event.customer_id, [])
        )
    return event_body(
        event_type=event.type, occurred_at=event.occurred_at,
        customer_id=str(event.customer_public_id), version=event.version,
        attributes={k: v for k, v in event.changes.items() if k in allowed}, extra=extra,
    )


def signing_secrets(subscription: Subscription, *, now: datetime) -> list[str]:
    rotating = subscription.previous_secret and subscription.previous_secret_until and (
        subscription.previous_secret_until > now
    )
    return [subscription.secret, *([subscription.previous_secret] if rotating else [])]


def _backoff(attempts: int) -> timedelta:
    cap = settings.RCU_WEBHOOK_RETRY_CAP_SECONDS
    return timedelta(seconds=min(cap, 2 ** min(attempts, 30)) * random.uniform(0.5, 1.0))


def deliveries_send_due(
    *, subscription_id: int, limit: int = 500, client: httpx.Client | None = None,
) -> SendReport:
    """Send the heads of this subscription's streams that are due, in event order.

    A batch of heads (one per customer at most) is locked (SKIP LOCKED: two workers
    never send one delivery at once), sent concurrently (`RCU_WEBHOOK_CONCURRENCY`:
    streams are independent), and recorded in the same transaction; a worker killed
    mid-batch leaves them all pending, sent again with the same ids. A 2xx
    acknowledges; anything else is retried with exponential back-off and jitter;
    `RCU_WEBHOOK_MAX_ATTEMPTS` failures in a row pause the subscription, with the last
    error, until an admin resumes it."""
    report = SendReport()
    subscription = Subscription.objects.get(pk=subscription_id)
    if not subscription.active or subscription.paused_at is not None:
        report.paused = subscription.paused_at is not None
        return report
    own_client = client is None
    client = client or httpx.Client(
        timeout=settings.RCU_WEBHOOK_TIMEOUT_SECONDS,
        limits=httpx.Limits(max_connections=settings.RCU_WEBHOOK_CONCURRENCY),
    )
    pool = ThreadPoolExecutor(max_workers=settings.RCU_WEBHOOK_CONCURRENCY)
    try:
        # Each pass sends the heads of the streams; what they held back is next.
        while report.delivered + report.failed < limit:
            sent = _send_batch(subscription, client=client, pool=pool,
                               limit=min(BATCH, limit - report.delivered - report.failed))
            report.delivered += sent.delivered
            report.failed += sent.failed
            if sent.paused:
                report.paused = True
                return report
            if not sent.delivered:
                break  # every head failed, waits or is taken: the next ones wait behind them
    finally:
        pool.shutdown(wait=True)
        if own_client:
            client.close()
    report.more_due = report.delivered + report.failed >= limit
    report.next_attempt_at = (
        Delivery.objects.filter(subscription_id=subscription.pk, status=Delivery.Status.PENDING,
                                next_attempt_at__gt=timezone.now())
        .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    )
    return report


def _runs_due(subscription: Subscription, heads: list[Delivery]) -> dict[int, list[Delivery]]:
    """Each due head's stream, from the head: up to RUN of its pending deliveries in event
    order, cut before a merge that must still wait for the streams it retired."""
    if not heads:
        return {}
    ranked = (
        Delivery.objects.filter(subscription_id=subscription.pk, status=Delivery.Status.PENDING,
                                customer_id__in=[h.customer_id for h in heads])
        .annotate(position=Window(RowNumber(), partition_by=[F("customer_id")],
                                  order_by=F("event_id").asc()))
        .filter(position__lte=RUN)
    )
    runs: dict[int, list[Delivery]] = {}
    for row in ranked.select_related("event").order_by("customer_id", "event_id"):
        runs.setdefault(row.customer_id, []).append(row)
    for customer_id, run in list(runs.items()):
        for index, delivery in enumerate(run):
            if _retired_streams_pending(subscription, delivery.event):
                del run[index:]
                break
        if not run:
            del runs[customer_id]
    return runs


def _send_batch(subscription: Subscription, *, client: httpx.Client, pool: ThreadPoolExecutor,
                limit: int) -> SendReport:
    report = SendReport()
    with transaction.atomic():
        heads = _heads_due(subscription, now=timezone.now(), limit=min(limit, BATCH))
        runs = _runs_due(subscription, heads)
        if not runs:
            return report
        locked = set(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[d.pk for run in runs.values() for d in run],
                    status=Delivery.Status.PENDING)
            .values_list("pk", flat=True)
        )
        budget = limit
        batch: list[list[Delivery]] = []
        for run in runs.values():
            taken = []
            for delivery in run:  # a stream is sent from its head, without a gap
                if delivery.pk not in locked or budget == 0:
                    break
                taken.append(delivery)
                budget -= 1
            if taken:
                batch.append(taken)
        if not batch:
            return report
        refs = cross_references(subscription, [run[0].customer_id for run in batch])
        now = timezone.now()
        allowed = target_refusal(subscription.target_url,
                                 allow_private=settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS)
        secrets = signing_secrets(subscription, now=now)

        def send_one(delivery: Delivery) -> str | None:
            if allowed is not None:
                return allowed
            body = json.dumps(delivery_body(subscription, delivery.event, refs),
                              ensure_ascii=False, separators=(",", ":")).encode()
            headers = signature_headers(message_id=delivery.event.webhook_id, timestamp=now,
                                        body=body, signing_secrets=secrets)
            try:
                response = client.post(subscription.target_url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"[:500]
            return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

        def send_run(run: list[Delivery]) -> tuple[list[Delivery], Delivery | None, str]:
            """In order; the first failure stops the stream (the rest wait behind it)."""
            sent: list[Delivery] = []
            for delivery in run:
                error = send_one(delivery)
                if error is not None:
                    return sent, delivery, error
                sent.append(delivery)
            return sent, None, ""

        outcomes = list(pool.map(send_run, batch))
        done_at = timezone.now()
        delivered: list[Delivery] = []
        failed: list[Delivery] = []
        for sent, failure, error in outcomes:
            delivered.extend(sent)
            if failure is not None:
                failure.attempts += 1
                failure.last_error = error[:500]
                failure.next_attempt_at = done_at + _backoff(failure.attempts)
                failed.append(failure)
        if delivered:  # one plain UPDATE: bulk_update's CASE per row costs more than the sends
            Delivery.objects.filter(pk__in=[d.pk for d in delivered]).update(
                status=Delivery.Status.DELIVERED, delivered_at=done_at, last_error="",
                attempts=F("attempts") + 1)
        Delivery.objects.bulk_update(failed, ["attempts", "last_error", "next_attempt_at"])
        if delivered:
            Subscription.objects.filter(pk=subscription.pk).update(last_success_at=done_at)
            erased = [d.event_id for d in delivered if d.event.type == ChangeEvent.Type.ERASED]
            if erased:  # an erasure request waits for this acknowledgement
                transaction.on_commit(partial(hooks.erasure_delivered,
                                              subscription_id=subscription.pk, event_ids=erased))
        worst = max(failed, key=lambda d: d.attempts, default=None)
        if worst is not None and worst.attempts >= settings.RCU_WEBHOOK_MAX_ATTEMPTS:
            Subscription.objects.filter(pk=subscription.pk, paused_at__isnull=True).update(
                paused_at=done_at,
                paused_reason=f"evt_{worst.event_id} failed {worst.attempts} times: {worst.last_error}"[:500],
            )
            report.paused = True
    report.delivered, report.failed = len(delivered), len(failed)
    return report


def change_events_compact(*, older_than: timedelta | None = None, chunk: int = 5000) -> int:
    """Delete change events past the retention that every active subscriber has had.

    An event still pending for an active subscription (or not yet fanned out to it) is
    kept, however old: nothing is lost to a subscriber that is behind. Chunked, one
    transaction per chunk, safe to run again."""
    older_than = older_than or timedelta(days=settings.RCU_EVENT_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    active = Subscription.objects.filter(active=True)
    behind = min(active.values_list("cursor", flat=True), default=None)
    deleted = 0
    while True:
        events = ChangeEvent.objects.filter(occurred_at__lt=cutoff)
        if behind is not None:
            events = events.filter(pk__lte=behind).exclude(
                deliveries__status=Delivery.Status.PENDING, deliveries__subscription__active=True)
        ids = list(events.order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        with transaction.atomic():
            Delivery.objects.filter(event_id__in=ids).delete()
            deleted += ChangeEvent.objects.filter(pk__in=ids).delete()[0]
