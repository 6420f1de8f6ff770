"""Changes reach subscribed systems: signed (Standard Webhooks, verified by the
receiver with the `standardwebhooks` package), once each, in order per customer,
projected on what the subscriber may see; failures retry, then pause, and never
hold another subscriber back."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from rcu.models import ChangeEvent, Delivery, Subscription
from rcu.roles import Role
from rcu.services.deliveries import deliveries_fan_out, deliveries_send_due
from rcu.services.subscriptions import (
    SubscriptionRefused,
    subscription_create,
    subscription_replay,
    subscription_rotate_secret,
    subscription_update,
)
from stewardship.services.merge import customers_merge
from tests.factories import TEST_ACTOR, ingest, make_user
from tests.stewardship.ledger import one
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "birth_date": "1984-03-12", "city": "Paris"}


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def subscribe(receiver: Receiver, name: str = "crm", **options) -> Subscription:
    options.setdefault("purpose", "marketing")
    options.setdefault("attributes", ["first_name", "last_name", "email", "city"])
    created = subscription_create(name=name, target_url=receiver.url, acting_user=TEST_ACTOR,
                                  **options)
    receiver.secret = created.secret
    return created.subscription


def deliver(subscription: Subscription, rounds: int = 10) -> None:
    """What the subscriber's task does, until nothing more is due now."""
    deliveries_fan_out(subscription_id=subscription.pk)
    for _ in range(rounds):
        report = deliveries_send_due(subscription_id=subscription.pk)
        if not report.more_due:
            return


def retry_now(subscription: Subscription) -> None:
    Delivery.objects.filter(subscription=subscription, status="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_secret_is_given_once_and_signs_every_delivery(receiver, crm):
    subscription = subscribe(receiver)
    assert receiver.secret.startswith("whsec_")
    one(crm, "C1", HELENE)
    deliver(subscription)
    (got,) = receiver.received
    assert receiver.refused == 0
    assert got.body["type"] == "customer.created"
    assert got.webhook_id == f"evt_{ChangeEvent.objects.get().pk}"


def test_each_subscriber_sees_only_the_attributes_it_may_receive(receiver, crm):
    subscription = subscribe(receiver, attributes=["city"])
    one(crm, "C1", HELENE)
    deliver(subscription)
    assert receiver.received[0].body["data"]["attributes"] == {"city": "Paris"}


def test_a_subscriber_that_is_a_source_receives_its_own_ids_of_the_customer(receiver, crm):
    subscription = subscribe(receiver, source="crm")
    record = one(crm, "C-42", HELENE)
    deliver(subscription)
    data = receiver.received[0].body["data"]
    assert data["customer_id"] == str(record.customer.public_id)
    assert data["source_ids"] == ["C-42"]


def test_changes_arrive_once_each_and_in_order_per_customer(receiver, crm, eshop):
    subscription = subscribe(receiver)
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "city": "Lyon"})
    for city in ("Nantes", "Lille"):
        ingest(crm, [{"id": "C1", **HELENE, "city": city}])
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                    survivor_id=a.customer_id)
    deliver(subscription)
    deliver(subscription)  # a second pass sends nothing again

    assert len(receiver.received) == len(receiver.applied) == ChangeEvent.objects.count()
    versions = defaultdict(list)
    for item in receiver.received:
        versions[item.body["data"]["customer_id"]].append(item.body["data"]["version"])
    assert all(v == sorted(v) for v in versions.values())
    merged = [r.body for r in receiver.received if r.body["type"] == "customer.merged"]
    assert merged[0]["data"]["retired_ids"] == [str(b.customer.public_id)]


def test_a_rolled_back_change_is_never_delivered(receiver, crm):
    subscription = subscribe(receiver)
    with transaction.atomic():
        ingest(crm, [{"id": "C1", **HELENE}])
        transaction.set_rollback(True)
    deliver(subscription)
    assert receiver.received == []


def test_a_failing_receiver_blocks_only_that_customers_stream_then_pauses(receiver, crm, settings):
    settings.RCU_WEBHOOK_MAX_ATTEMPTS = 3
    subscription = subscribe(receiver)
    one(crm, "C1", HELENE)
    receiver.answer = 500
    deliver(subscription)
    pending = Delivery.objects.get(subscription=subscription)
    assert (pending.status, pending.attempts, pending.last_error) == ("pending", 1, "HTTP 500")
    assert pending.next_attempt_at > timezone.now()  # backed off, not retried at once

    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])  # behind the failing one
    receiver.answer = 200
    receiver.received.clear()
    deliver(subscription)
    assert receiver.received == []  # the head is not due yet, and nothing overtakes it

    receiver.answer = 500
    for _ in range(2):
        retry_now(subscription)
        deliver(subscription)
    subscription.refresh_from_db()
    assert subscription.paused_at is not None and "HTTP 500" in subscription.paused_reason

    receiver.answer = 200
    subscription_update(subscription=subscription, values={"paused": False}, acting_user=TEST_ACTOR)
    deliver(subscription)
    assert [r.body["type"] for r in receiver.received] == ["customer.created", "customer.updated"]


def test_one_subscriber_answering_500_does_not_delay_another(crm):
    down, up = Receiver(answer=500).start(), Receiver().start()
    try:
        slow, fine = subscribe(down, "down"), subscribe(up, "up")
        one(crm, "C1", HELENE)
        deliver(slow)
        deliver(fine)
        assert len(up.received) == 1 and down.received == []
    finally:
        down.stop()
        up.stop()


def test_a_merge_waits_for_the_earlier_events_of_the_customers_it_retired(receiver, crm, eshop):
    subscription = subscribe(receiver)
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "city": "Lyon"})
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                    survivor_id=a.customer_id)
    deliveries_fan_out(subscription_id=subscription.pk)
    # The retired customer's creation has failed once and waits for its retry.
    retired_created = Delivery.objects.get(subscription=subscription, customer_id=b.customer_id)
    Delivery.objects.filter(pk=retired_created.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(hours=1))
    deliveries_send_due(subscription_id=subscription.pk)
    assert "customer.merged" not in [r.body["type"] for r in receiver.received]
    retry_now(subscription)
    deliver(subscription)
    order = [(r.body["type"], r.body["data"]["customer_id"]) for r in receiver.received]
    retired_created = order.index(("customer.created", str(b.customer.public_id)))
    assert order.index(("customer.merged", str(a.customer.public_id))) > retired_created


def test_a_rotated_secret_signs_alongside_the_old_one_for_a_while(receiver, crm):
    subscription = subscribe(receiver)
    old_secret = receiver.secret
    rotated = subscription_rotate_secret(subscription=subscription, acting_user=TEST_ACTOR)
    assert rotated.secret != old_secret
    one(crm, "C1", HELENE)
    deliver(subscription)  # the receiver still holds the old secret: it verifies
    receiver.secret = rotated.secret
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])
    deliver(subscription)
    assert len(receiver.received) == 2 and receiver.refused == 0


def test_a_replay_sends_the_same_events_again_with_the_same_ids(receiver, crm):
    subscription = subscribe(receiver)
    one(crm, "C1", HELENE)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])
    deliver(subscription)
    first = ChangeEvent.objects.order_by("pk").first()
    again = subscription_replay(subscription=subscription, acting_user=TEST_ACTOR,
                                from_event=first.pk)
    deliver(subscription)
    assert again == 2
    assert len(receiver.received) == 4 and len(receiver.applied) == 2


def test_targets_must_be_https_and_public_unless_allowed(receiver, settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    for url in ("http://example.org/hooks", "https://127.0.0.1/hooks", "https://10.1.2.3/hooks",
                "ftp://example.org/"):
        with pytest.raises(SubscriptionRefused) as refused:
            subscription_create(name="x", target_url=url, purpose="marketing",
                                acting_user=TEST_ACTOR)
        assert refused.value.field == "target_url"
    assert not Subscription.objects.exists()


def test_old_events_are_compacted_only_once_every_active_subscriber_has_them(receiver, crm):
    from rcu.services.deliveries import change_events_compact

    fine = subscribe(receiver, "fine")
    for n in range(3):
        one(crm, f"C{n}", HELENE)
    deliver(fine)
    other = Receiver().start()
    behind = subscribe(other, "behind")
    ChangeEvent.objects.update(occurred_at=timezone.now() - timedelta(days=400))
    ingest(crm, [{"id": "C9", **HELENE}])  # a recent event: kept
    assert change_events_compact() == 3  # "behind" subscribed after them: it never waits for them
    assert ChangeEvent.objects.count() == 1

    ChangeEvent.objects.update(occurred_at=timezone.now() - timedelta(days=400))
    deliveries_fan_out(subscription_id=behind.pk)
    assert change_events_compact() == 0  # pending for "behind" (and not fanned out for "fine")
    deliver(fine)
    deliver(behind)
    other.stop()
    assert change_events_compact() == 1


def test_a_customer_changed_many_times_leaves_in_order_in_a_few_rounds(
    receiver, crm, django_assert_max_num_queries
):
    subscription = subscribe(receiver)
    for n in range(30):
        ingest(crm, [{"id": "C1", **HELENE, "city": f"Ville{n}"}])
    deliveries_fan_out(subscription_id=subscription.pk)
    with django_assert_max_num_queries(30):  # a round per event would take 8 queries each
        report = deliveries_send_due(subscription_id=subscription.pk)
    assert report.delivered == 30 and not report.more_due
    versions = [item.body["data"]["version"] for item in receiver.received]
    assert versions == list(range(1, 31))


def test_a_failure_in_the_middle_of_a_stream_holds_back_only_what_follows_it(receiver, crm):
    subscription = subscribe(receiver)
    for n in range(5):
        (helene,) = ingest(crm, [{"id": "C1", **HELENE, "city": f"Ville{n}"}])
    paul = one(crm, "C2", {**HELENE, "first_name": "Paul", "email": "paul@orange.fr"})
    receiver.answer_for = lambda body: 500 if body["data"]["attributes"].get("city") == "Ville2" else 200
    deliveries_fan_out(subscription_id=subscription.pk)
    report = deliveries_send_due(subscription_id=subscription.pk)

    def versions_of(record) -> list[int]:
        public_id = str(record.customer.public_id)
        return [item.body["data"]["version"] for item in receiver.received
                if item.body["data"]["customer_id"] == public_id]

    assert versions_of(helene) == [1, 2] and versions_of(paul) == [1]
    assert report.delivered == 3 and report.failed == 1
    failed = Delivery.objects.get(attempts=1, status="pending")
    assert failed.event.version == 3  # Ville2; versions 4 and 5 wait behind it, never tried
    assert Delivery.objects.filter(status="pending", attempts=0).count() == 2
    receiver.answer_for = None
    retry_now(subscription)
    deliver(subscription)
    assert versions_of(helene) == [1, 2, 3, 4, 5]
