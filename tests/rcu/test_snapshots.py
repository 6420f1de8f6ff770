"""A new subscriber asks for a snapshot: every customer it may see, as it stands, as
events for it alone, written in chunks that a retried task never writes twice."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from rcu.models import ChangeEvent, Customer, Subscription
from rcu.roles import Role
from rcu.selectors.subscriptions import events_after
from rcu.services.snapshots import subscription_snapshot_continue, subscription_snapshot_request
from stewardship.services.merge import customers_merge
from tests.factories import TEST_ACTOR, ingest, make_source, make_user
from tests.rcu.test_deliveries import deliver, receiver, subscribe  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def people(count: int) -> list[dict]:
    return [{"id": f"C{n}", "first_name": f"Hélène{n}", "last_name": "Lefèvre",
             "email": f"helene{n}@orange.fr", "birth_date": "1984-03-12", "city": "Paris"}
            for n in range(count)]


def write_whole_snapshot(subscription: Subscription, chunk: int = 2) -> int:
    calls = 1
    while not subscription_snapshot_continue(subscription_id=subscription.pk, chunk=chunk):
        calls += 1
    return calls


def test_a_snapshot_sends_every_active_customer_once_projected_at_its_latest_version(receiver):  # noqa: F811
    crm = make_source("crm", department="marketing")
    records = ingest(crm, people(5))
    ingest(crm, [{**people(5)[0], "city": "Lyon"}])  # customer 0 is at version 2
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing"])
    customers_merge(customer_ids=[records[3].customer_id, records[4].customer_id],
                    acting_user=steward, survivor_id=records[3].customer_id)
    subscription = subscribe(receiver, attributes=["first_name", "city"])
    assert ChangeEvent.objects.filter(pk__gt=subscription.cursor).count() == 0  # from now on

    subscription_snapshot_request(subscription=subscription, acting_user=TEST_ACTOR)
    assert write_whole_snapshot(subscription, chunk=2) == 3  # 4 active customers, 2 by 2, then done
    deliver(subscription)

    received = [item.body for item in receiver.received]
    active = set(Customer.objects.active().values_list("public_id", flat=True))
    assert len(active) == 4
    assert {body["data"]["customer_id"] for body in received} == {str(p) for p in active}
    assert len(received) == 4 and {body["type"] for body in received} == {"customer.snapshot"}
    first = next(b for b in received if b["data"]["customer_id"] == str(records[0].customer.public_id))
    assert first["data"]["version"] == 2
    assert first["data"]["attributes"] == {"first_name": "Hélène0", "city": "Lyon"}  # no e-mail
    subscription.refresh_from_db()
    assert subscription.snapshot_done_at is not None


def test_another_subscriber_never_sees_a_snapshot_it_did_not_ask_for(receiver):  # noqa: F811
    crm = make_source("crm", department="marketing")
    ingest(crm, people(3))
    asking = subscribe(receiver, name="warehouse")
    other = subscribe(receiver, name="crm")
    subscription_snapshot_request(subscription=asking, acting_user=TEST_ACTOR)
    write_whole_snapshot(asking)
    deliver(other)
    assert receiver.received == []
    assert not [e for e in events_after(subscription=other, after=0, types=[], limit=100)
                if e.audience_id is not None]
    mine = events_after(subscription=asking, after=asking.cursor, types=[], limit=100)
    assert [e.type for e in mine] == ["customer.snapshot"] * 3


def test_a_snapshot_task_run_twice_or_cut_off_writes_each_customer_once(receiver):  # noqa: F811
    crm = make_source("crm", department="marketing")
    ingest(crm, people(7))
    subscription = subscribe(receiver)
    subscription_snapshot_request(subscription=subscription, acting_user=TEST_ACTOR)
    subscription_snapshot_continue(subscription_id=subscription.pk, chunk=3)  # then "killed"
    write_whole_snapshot(subscription, chunk=3)  # the retried task goes on
    write_whole_snapshot(subscription, chunk=3)  # and a duplicate run finds it done
    snapshot = ChangeEvent.objects.filter(audience=subscription)
    assert snapshot.count() == 7
    assert snapshot.values("customer_id").distinct().count() == 7


def test_a_change_after_the_snapshot_follows_it_with_a_higher_version(receiver):  # noqa: F811
    crm = make_source("crm", department="marketing")
    ingest(crm, people(1))
    subscription = subscribe(receiver)
    subscription_snapshot_request(subscription=subscription, acting_user=TEST_ACTOR)
    write_whole_snapshot(subscription)
    ingest(crm, [{**people(1)[0], "city": "Nantes"}])
    deliver(subscription)
    bodies = [item.body for item in receiver.received]
    assert [(b["type"], b["data"]["version"]) for b in bodies] == [
        ("customer.snapshot", 1), ("customer.updated", 2)]


def test_only_admins_ask_for_a_snapshot_through_the_api(receiver, admin_user, steward_marketing):  # noqa: F811
    subscription = subscribe(receiver)
    steward = APIClient()
    steward.force_authenticate(steward_marketing)
    assert steward.post(f"/api/v1/subscriptions/{subscription.pk}/snapshot/").status_code == 403
    admin = APIClient()
    admin.force_authenticate(admin_user)
    answer = admin.post(f"/api/v1/subscriptions/{subscription.pk}/snapshot/")
    assert answer.status_code == 202
    assert answer.json()["snapshot_requested_at"]
    subscription.refresh_from_db()
    assert subscription.snapshot_requested_at is not None
