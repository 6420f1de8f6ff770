"""The subscribers' pages: admins subscribe systems, see their lag and failures,
pause, resume, replay and test; nobody else sees them."""

from __future__ import annotations

import pytest

from rcu.models import Delivery, Subscription
from rcu.services.deliveries import deliveries_fan_out, deliveries_send_due
from rcu.services.subscriptions import subscription_create
from tests.factories import TEST_ACTOR
from tests.stewardship.ledger import one
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "city": "Paris"}


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo", "auditor", "outsider"])
def test_only_admins_see_or_change_subscriptions(client, request, persona, receiver):
    subscription = subscription_create(name="crm", target_url=receiver.url, purpose="sales",
                                       acting_user=TEST_ACTOR).subscription
    client.force_login(request.getfixturevalue(persona))
    answers = [
        client.get("/administration/subscriptions/"),
        client.get("/administration/events/"),
        client.post("/administration/subscriptions/", {"name": "x", "target_url": receiver.url,
                                                       "purpose": "sales"}),
        client.post(f"/administration/subscriptions/{subscription.pk}/pause/"),
    ]
    assert [a.status_code for a in answers] == [403] * 4
    assert Subscription.objects.count() == 1 and Subscription.objects.get().paused_at is None


def test_an_admin_subscribes_a_system_sees_its_secret_once_and_its_backlog(client, admin_user, receiver, crm):
    client.force_login(admin_user)
    created = client.post("/administration/subscriptions/", {
        "name": "crm-sync", "target_url": receiver.url, "purpose": "sales",
        "event_types": ["customer.created"], "attributes": ["city"], "source": "crm",
    })
    assert created.status_code == 200
    secret = Subscription.objects.get(name="crm-sync").secret
    assert secret in created.content.decode()
    assert secret not in client.get("/administration/subscriptions/").content.decode()

    receiver.secret, receiver.answer = secret, 500
    one(crm, "C1", HELENE)
    subscription = Subscription.objects.get()
    deliveries_fan_out(subscription_id=subscription.pk)
    deliveries_send_due(subscription_id=subscription.pk)
    page = client.get("/administration/subscriptions/").content.decode()
    assert "HTTP 500" in page  # the failure, with its error, for the admin to see


def test_an_admin_pauses_resumes_replays_and_finds_a_customers_events(client, admin_user, receiver, crm):
    client.force_login(admin_user)
    created = subscription_create(name="crm", target_url=receiver.url, purpose="sales",
                                  acting_user=TEST_ACTOR)
    receiver.secret = created.secret
    subscription = created.subscription
    record = one(crm, "C1", HELENE)
    deliveries_fan_out(subscription_id=subscription.pk)
    deliveries_send_due(subscription_id=subscription.pk)
    assert len(receiver.received) == 1

    client.post(f"/administration/subscriptions/{subscription.pk}/pause/")
    assert Subscription.objects.get().paused_at is not None
    client.post(f"/administration/subscriptions/{subscription.pk}/resume/")
    assert Subscription.objects.get().paused_at is None
    event_id = Delivery.objects.get().event_id
    client.post(f"/administration/subscriptions/{subscription.pk}/replay/", {"from_event": event_id})
    assert Delivery.objects.get().status == "pending"
    tested = client.post(f"/administration/subscriptions/{subscription.pk}/test/", follow=True)
    assert "HTTP 200" in tested.content.decode()

    found = client.get(f"/administration/events/?customer={record.customer.public_id}")
    assert f'data-event="{event_id}"' in found.content.decode()
