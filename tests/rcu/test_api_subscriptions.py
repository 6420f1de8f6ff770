"""The propagation API: subscriptions (admins only), the change feed, and the
cross-reference a source reads to converge."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from rcu.models import Subscription
from stewardship.services.merge import customers_merge
from tests.factories import ingest
from tests.stewardship.ledger import one
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "birth_date": "1984-03-12", "city": "Paris"}
NEW = {"name": "crm-sync", "target_url": "https://crm.example.org/hooks", "purpose": "marketing",
       "event_types": ["customer.created", "customer.merged"], "attributes": ["email", "city"]}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def subscription(admin_user, settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    answer = client_for(admin_user).post("/api/v1/subscriptions/", NEW, format="json")
    assert answer.status_code == 201, answer.json()
    return Subscription.objects.get(name="crm-sync")


def test_an_admin_subscribes_a_system_and_sees_its_secret_once(admin_user):
    api = client_for(admin_user)
    created = api.post("/api/v1/subscriptions/", NEW, format="json")
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    listed = api.get("/api/v1/subscriptions/").json()
    assert [s["name"] for s in listed] == ["crm-sync"]
    assert "secret" not in listed[0]
    assert listed[0]["event_types"] == ["customer.created", "customer.merged"]


@pytest.mark.parametrize(("field", "value"), [
    ("event_types", ["customer.deleted"]),
    ("attributes", ["shoe_size"]),
    ("target_url", "https://10.0.0.5/hooks"),
    ("purpose", "curiosity"),
])
def test_a_subscription_refused_names_the_field(admin_user, settings, field, value):
    # Off for the target's check (an address literal: no name to resolve here).
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = field != "target_url"
    answer = client_for(admin_user).post("/api/v1/subscriptions/", {**NEW, field: value},
                                         format="json")
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo", "auditor", "outsider", "anonymous"])
def test_only_admins_read_or_change_subscriptions_and_the_feed(request, persona, subscription):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    api = client_for(user)
    expected = 401 if user is None else 403
    calls = [
        api.get("/api/v1/subscriptions/"),
        api.post("/api/v1/subscriptions/", {**NEW, "name": "other"}, format="json"),
        api.get(f"/api/v1/subscriptions/{subscription.pk}/"),
        api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"active": False}, format="json"),
        api.delete(f"/api/v1/subscriptions/{subscription.pk}/"),
        api.post(f"/api/v1/subscriptions/{subscription.pk}/rotate-secret/"),
        api.post(f"/api/v1/subscriptions/{subscription.pk}/replay/", {"from_event": 1}, format="json"),
        api.post(f"/api/v1/subscriptions/{subscription.pk}/test/"),
        api.get("/api/v1/events/?subscription=crm-sync"),
    ]
    assert [c.status_code for c in calls] == [expected] * len(calls)
    subscription.refresh_from_db()
    assert subscription.active


def test_the_feed_pages_events_after_a_cursor_projected_for_the_subscription(
    admin_user, subscription, crm, monkeypatch
):
    monkeypatch.setattr("rcu.apis.subscriptions.FEED_PAGE", 2)
    for n in range(3):
        one(crm, f"C{n}", {**HELENE, "first_name": f"Hélène{n}"})
    ingest(crm, [{"id": "C0", **HELENE, "city": "Lyon"}])  # an update: not subscribed
    api = client_for(admin_user)
    first = api.get("/api/v1/events/?subscription=crm-sync").json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert second["next"] is None
    results = first["results"] + second["results"]
    assert [r["type"] for r in results] == ["customer.created"] * 3
    assert all(set(r["data"]["attributes"]) <= {"email", "city"} for r in results)
    assert results[0]["id"] == f"evt_{results[0]['cursor']}"
    after = api.get(f"/api/v1/events/?subscription=crm-sync&after={results[-1]['cursor']}").json()
    assert after["results"] == []


def test_a_source_reads_which_customer_its_record_is_after_a_merge(
    admin_user, crm, eshop, steward_everywhere
):
    a = one(crm, "C/1", HELENE)
    b = one(eshop, "E1", HELENE)
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward_everywhere,
                    survivor_id=a.customer_id)
    answer = client_for(admin_user).get(f"/api/v1/sources/eshop/records/{quote('E1')}/")
    assert answer.status_code == 200
    assert answer.json() == {
        "customer_id": str(a.customer.public_id),
        "records": [{"source": "crm", "external_id": "C/1"}, {"source": "eshop", "external_id": "E1"}],
    }
    assert client_for(admin_user).get("/api/v1/sources/eshop/records/NOPE/").status_code == 404


def test_a_steward_sees_only_the_records_of_their_departments_in_a_cross_reference(
    steward_marketing, crm, eshop, steward_everywhere
):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", HELENE)
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward_everywhere)
    api = client_for(steward_marketing)
    assert api.get("/api/v1/sources/crm/records/C1/").json()["records"] == [
        {"source": "crm", "external_id": "C1"}]
    assert api.get("/api/v1/sources/eshop/records/E1/").status_code == 404


def test_an_admin_pauses_resumes_rotates_and_tests_a_subscription(admin_user, subscription):
    api = client_for(admin_user)
    paused = api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"paused": True}, format="json")
    assert paused.json()["paused"] is True
    resumed = api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"paused": False}, format="json")
    assert resumed.json()["paused"] is False
    old = Subscription.objects.get(pk=subscription.pk).secret
    rotated = api.post(f"/api/v1/subscriptions/{subscription.pk}/rotate-secret/").json()
    assert rotated["secret"] != old and rotated["secret"].startswith("whsec_")

    receiver = Receiver(secret=rotated["secret"]).start()
    try:
        api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"target_url": receiver.url},
                  format="json")
        tested = api.post(f"/api/v1/subscriptions/{subscription.pk}/test/").json()
    finally:
        receiver.stop()
    assert tested == {"status_code": 200, "error": ""}
    assert receiver.received[0].body["type"] == "test" and receiver.refused == 0


def test_updated_since_lists_the_ids_merged_away_with_their_survivor(
    admin_user, steward_marketing, crm, service_client_source, steward_everywhere
):
    a = one(crm, "C1", HELENE)
    b = one(service_client_source, "S1", HELENE)
    since = "2000-01-01T00:00:00Z"
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward_everywhere,
                    survivor_id=a.customer_id)
    for user in (admin_user, steward_marketing):  # the steward sees it through the survivor
        listed = client_for(user).get(f"/api/v1/customers/?updated_since={since}").json()["results"]
        merged_into = {c["public_id"]: c["merged_into"] for c in listed}
        assert merged_into == {str(a.customer.public_id): None,
                               str(b.customer.public_id): str(a.customer.public_id)}
    plain = client_for(admin_user).get("/api/v1/customers/").json()["results"]
    assert [c["public_id"] for c in plain] == [str(a.customer.public_id)]  # live ones only


def test_listing_subscriptions_measures_each_backlog_once(admin_user, settings,
                                                        django_assert_max_num_queries):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    api = client_for(admin_user)
    for name in ("one", "two", "three"):
        api.post("/api/v1/subscriptions/", {**NEW, "name": name}, format="json")
    # The list, then per subscription: pending, its oldest, events not fanned out, their oldest.
    with django_assert_max_num_queries(1 + 3 * 4 + 3):
        listed = api.get("/api/v1/subscriptions/")
    assert [s["pending"] for s in listed.json()] == [0, 0, 0]
