"""Changes delivered by a real Celery worker over the real broker to a receiver on
127.0.0.1 that verifies every signature: each event once, in order per customer,
through a receiver that is down for a while and a delivery cut off mid-way."""

from __future__ import annotations

import time
from collections import defaultdict

import httpx
import pytest
from django.db import connection

from rcu.models import ChangeEvent, Delivery, Subscription
from rcu.roles import Role
from rcu.services.deliveries import deliveries_fan_out, deliveries_send_due
from rcu.services.subscriptions import subscription_create
from rcu.tasks import subscriptions_kick
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo
from tests.factories import TEST_ACTOR, ingest, make_source, make_user
from tests.webhook_receiver import Receiver

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the worker thread needs a database it can share (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]

# Enough for many runs of 20 deliveries per stream, retries and redeliveries (the
# throughput itself is measured by `make bench`, part propagation).
PEOPLE = 60


def person(n: int, city: str = "Paris") -> dict:
    return {"id": f"P{n}", "first_name": f"Hélène{n}", "last_name": "Lefèvre", "city": city,
            "email": f"helene{n}@orange.fr"}


def changes_of_every_kind() -> None:
    """Imports, updates, merges and undone merges: about six events a person."""
    crm = make_source("crm", department="marketing")
    eshop = make_source("eshop", department="ecommerce")
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    crm_records = ingest(crm, [person(n) for n in range(PEOPLE)])
    # The e-shop's twin has another address: each merge below starts a matching run on
    # the worker (a steward's decision is rematched), and twins sharing an address would
    # be linked by it before the steward reaches them (the merge then meets customers
    # already one).
    eshop_records = ingest(
        eshop, [{**person(n), "city": "Lyon", "email": f"h.lefevre.{n}@free.fr"} for n in range(PEOPLE)]
    )
    for city in ("Nantes", "Lille", "Rennes"):
        ingest(crm, [person(n, city) for n in range(PEOPLE)])
    merges = [
        customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                        survivor_id=a.customer_id)
        for a, b in zip(crm_records, eshop_records, strict=True)
    ]
    for merge in merges[: PEOPLE // 2]:
        decision_undo(decision_id=merge.pk, acting_user=steward)


def wait_until_delivered(subscription: Subscription, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        subscription.refresh_from_db()
        done = subscription.cursor == ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
        if done and not Delivery.objects.filter(subscription=subscription, status="pending").exists():
            return
        time.sleep(0.3)
    pending = Delivery.objects.filter(subscription=subscription, status="pending").count()
    raise AssertionError(f"{pending} deliveries still pending after {seconds} s")


def assert_each_once_in_order(receiver: Receiver) -> None:
    events = ChangeEvent.objects.count()
    assert receiver.refused == 0
    assert len(receiver.applied) == events
    seen = defaultdict(list)
    for item in receiver.received:
        seen[item.body["data"]["customer_id"]].append(item.body["data"]["version"])
    # Receipt order per customer follows versions (a redelivery repeats, never goes back).
    for versions in seen.values():
        firsts = list(dict.fromkeys(versions))
        assert firsts == sorted(firsts)


def test_hundreds_of_changes_reach_a_receiver_once_each_in_order(celery_worker_app, settings):
    settings.RCU_WEBHOOK_RETRY_CAP_SECONDS = 1
    # Down for the whole time the changes take: retried every second or so, never paused.
    settings.RCU_WEBHOOK_MAX_ATTEMPTS = 10_000
    receiver = Receiver().start()
    try:
        created = subscription_create(name="crm", target_url=receiver.url, purpose="operations",
                                      acting_user=TEST_ACTOR, attributes=["city"])
        receiver.secret = created.secret
        receiver.answer = 503  # down while the changes happen
        changes_of_every_kind()
        assert ChangeEvent.objects.count() >= 350
        time.sleep(2)
        assert receiver.received == []
        receiver.answer = 200  # back
        subscriptions_kick.delay()
        wait_until_delivered(created.subscription)
        assert_each_once_in_order(receiver)
    finally:
        receiver.stop()


class _CutOffAfterSending(httpx.BaseTransport):
    """The request reaches the receiver, then the worker dies before recording it."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.inner.handle_request(request).close()
        raise httpx.ReadError("worker killed", request=request)


def test_a_delivery_cut_off_mid_way_is_sent_again_and_applied_once(settings):
    receiver = Receiver().start()
    try:
        crm = make_source("crm", department="marketing")
        ingest(crm, [person(1)])  # before subscribing: no delivery is kicked off on commit
        created = subscription_create(name="crm", target_url=receiver.url, purpose="operations",
                                      acting_user=TEST_ACTOR, from_now=False)
        receiver.secret = created.secret
        subscription = created.subscription
        deliveries_fan_out(subscription_id=subscription.pk)
        deliveries_send_due(subscription_id=subscription.pk,
                            client=httpx.Client(transport=_CutOffAfterSending()))
        assert len(receiver.received) == 1
        Delivery.objects.update(next_attempt_at=None)
        deliveries_send_due(subscription_id=subscription.pk)
        assert len(receiver.received) == 2  # sent again: nothing lost
        assert len(receiver.applied) == 1  # the same webhook-id: applied once
        assert Delivery.objects.get().status == "delivered"
    finally:
        receiver.stop()
