"""Restriction of processing (GDPR art. 18): the data is kept, but it leaves in no export,
marketing subscribers hear only that it is restricted, and no merge takes it, until the
DPO lifts the restriction."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from rcu.models import ChangeEvent, Customer, Delivery, Subscription
from rcu.selectors import restriction as restriction_selectors
from rcu.services.deliveries import deliveries_fan_out
from rcu.services.restriction import (
    RestrictionRefused,
    customer_restrict,
    customer_restriction_lift,
)
from rcu.services.subscriptions import subscription_create
from stewardship.models import MergeCandidate
from stewardship.services.bulk import candidates_bulk_decide
from stewardship.services.errors import DecisionConflict
from stewardship.services.merge import candidate_merge, customers_merge
from tests.factories import TEST_ACTOR, frozen_default_model, ingest
from tests.stewardship.ledger import candidate_between, match_batch, one

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "mobile": "06 12 34 56 78", "birth_date": "1984-03-12", "city": "Paris",
          "postcode": "75016", "address_line1": "12 rue de la Paix"}
PAUL = {"first_name": "Paul", "last_name": "Durand", "email": "paul.durand@free.fr", "city": "Lyon"}


def restrict(customer: Customer, user=TEST_ACTOR) -> Customer:
    return customer_restrict(customer=customer, reason="accuracy contested (art. 18.1.a)", acting_user=user)


def lift(customer: Customer, user=TEST_ACTOR) -> Customer:
    return customer_restriction_lift(customer=customer, reason="accuracy verified", acting_user=user)


def subscribe(name: str, purpose: str) -> Subscription:
    return subscription_create(
        name=name, target_url=f"http://127.0.0.1:9/{name}", purpose=purpose, acting_user=TEST_ACTOR,
        attributes=["first_name", "last_name", "email", "city"],
    ).subscription


def fanned_out(subscription: Subscription) -> list[tuple[str, str]]:
    """(event type, delivery status) of what this subscriber was given, in event order."""
    deliveries_fan_out(subscription_id=subscription.pk)
    return list(Delivery.objects.filter(subscription=subscription).order_by("event_id")
                .values_list("event__type", "status"))


def links_export(tmp_path) -> set[str]:
    out = tmp_path / "links.csv"
    call_command("export_links", str(out), stdout=io.StringIO())
    return {row["external_id"] for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}


def changes_export(tmp_path) -> list[dict]:
    out = tmp_path / "changes.jsonl"
    call_command("export_changes", str(out), "--format", "jsonl", stdout=StringIO())
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


# --- Setting and lifting ------------------------------------------------------------


def test_restricting_keeps_the_data_and_records_who_why_and_when(crm, dpo):
    helene = one(crm, "C1", HELENE).customer

    restrict(helene, dpo)

    helene.refresh_from_db()
    assert helene.restricted_at is not None and helene.email == "helene.lefevre@orange.fr"
    assert helene.restriction_reason == "accuracy contested (art. 18.1.a)"
    latest = helene.history.first()
    assert latest.history_user == dpo and latest.history_change_reason == "restricted (GDPR art. 18)"
    event = ChangeEvent.objects.filter(customer_id=helene.pk).latest("pk")
    assert event.type == "customer.restricted"
    # The event carries the date, never the reason (free text about the person).
    assert set(event.data) == {"restricted_at"} and event.changes == {}


def test_lifting_tells_the_golden_values_as_they_stand(crm):
    helene = one(crm, "C1", HELENE).customer
    restrict(helene)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])

    lift(helene)

    helene.refresh_from_db()
    assert helene.restricted_at is None and helene.restriction_reason == ""
    event = ChangeEvent.objects.filter(customer_id=helene.pk).latest("pk")
    assert event.type == "customer.restriction_lifted"
    assert event.changes["city"] == "Lyon" and event.changes["email"] == "helene.lefevre@orange.fr"


def test_restricting_twice_lifting_what_is_not_restricted_and_no_reason_are_refused(crm):
    helene = one(crm, "C1", HELENE).customer
    with pytest.raises(RestrictionRefused, match="not restricted"):
        lift(helene)
    with pytest.raises(RestrictionRefused, match="why"):
        customer_restrict(customer=helene, reason="  ", acting_user=TEST_ACTOR)
    restrict(helene)
    with pytest.raises(RestrictionRefused, match="already restricted"):
        restrict(helene)


# --- Propagation --------------------------------------------------------------------


def test_marketing_hears_only_that_the_customer_is_restricted_other_purposes_everything(crm):
    marketing = subscribe("newsletter", Subscription.Purpose.MARKETING)
    service = subscribe("helpdesk", Subscription.Purpose.SERVICE)
    helene = one(crm, "C1", HELENE).customer
    assert fanned_out(marketing) == [("customer.created", "pending")]
    restrict(helene)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])

    assert fanned_out(marketing) == [
        ("customer.created", "pending"), ("customer.restricted", "pending"),
        ("customer.updated", "skipped"),
    ]
    assert [kind for kind, _ in fanned_out(service)] == [
        "customer.created", "customer.restricted", "customer.updated",
    ]
    assert {status for _, status in fanned_out(service)} == {"pending"}


def test_lifting_lets_marketing_hear_again(crm):
    marketing = subscribe("newsletter", Subscription.Purpose.MARKETING)
    helene = one(crm, "C1", HELENE).customer
    restrict(helene)
    fanned_out(marketing)

    lift(helene)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])

    assert fanned_out(marketing)[-2:] == [
        ("customer.restriction_lifted", "pending"), ("customer.updated", "pending"),
    ]


def test_the_change_feed_of_a_marketing_subscriber_leaves_the_customer_out(crm, admin_user):
    marketing = subscribe("newsletter", Subscription.Purpose.MARKETING)
    helene = one(crm, "C1", HELENE).customer
    paul = one(crm, "C2", PAUL).customer
    restrict(helene)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])
    api = APIClient()
    api.force_authenticate(admin_user)

    body = api.get("/api/v1/events/", {"subscription": marketing.name}).json()

    told = [(r["data"]["customer_id"], r["type"]) for r in body["results"]]
    assert (str(helene.public_id), "customer.restricted") in told
    assert (str(helene.public_id), "customer.updated") not in told
    assert (str(helene.public_id), "customer.created") not in told
    assert (str(paul.public_id), "customer.created") in told


# --- Exports -------------------------------------------------------------------------


def test_exports_leave_a_restricted_customer_out_until_lifted(crm, tmp_path, admin_user):
    helene = one(crm, "C1", HELENE).customer
    one(crm, "C2", PAUL)
    api = APIClient()
    api.force_authenticate(admin_user)
    restrict(helene)

    assert links_export(tmp_path) == {"C2"}
    changes = changes_export(tmp_path)
    assert {(c["data"]["customer_id"], c["type"]) for c in changes if c["data"]["customer_id"] == str(helene.public_id)} == {
        (str(helene.public_id), "customer.restricted")
    }
    bulk = api.get("/api/v1/customers/", {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert [c["last_name"] for c in bulk["results"]] == ["Durand"]
    # A search still finds her, marked restricted: the data is kept and visible.
    found = api.get("/api/v1/customers/", {"email": HELENE["email"]}).json()["results"]
    assert [(c["last_name"], c["restricted"]) for c in found] == [("Lefèvre", True)]
    detail = api.get(f"/api/v1/customers/{helene.public_id}/").json()
    assert detail["restricted"] is True and detail["restricted_at"]

    lift(helene)

    assert links_export(tmp_path) == {"C1", "C2"}
    assert "customer.created" in {c["type"] for c in changes_export(tmp_path)
                                  if c["data"]["customer_id"] == str(helene.public_id)}
    bulk = api.get("/api/v1/customers/", {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert sorted(c["last_name"] for c in bulk["results"]) == ["Durand", "Lefèvre"]


# --- Merges ----------------------------------------------------------------------------


@pytest.fixture
def two_helenes(crm, eshop):
    frozen_default_model()
    return one(crm, "C1", HELENE), one(eshop, "E1", {**HELENE, "email": "h.lefevre@gmail.com"})


def test_a_steward_merge_of_a_restricted_customer_is_refused_naming_it(two_helenes, steward_everywhere):
    first, second = two_helenes
    restricted = restrict(first.customer)

    with pytest.raises(DecisionConflict, match=str(restricted.public_id)):
        customers_merge(customer_ids=[first.customer_id, second.customer_id], acting_user=steward_everywhere)
    candidate = candidate_between(first, second)
    with pytest.raises(DecisionConflict, match=r"art\. 18"):
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_everywhere)
    outcome = candidates_bulk_decide(candidate_ids=[candidate.pk], action="merge", acting_user=steward_everywhere)
    assert not outcome.decisions and str(restricted.public_id) in outcome.refused[0].detail
    assert Customer.objects.get(pk=second.customer_id).merged_into_id is None

    lift(first.customer)
    customers_merge(customer_ids=[first.customer_id, second.customer_id], acting_user=steward_everywhere)
    assert Customer.objects.filter(pk__in=[first.customer_id, second.customer_id], merged_into__isnull=False).count() == 1


@pytest.mark.parametrize("all_restricted_from", [50_000, 1])  # the asked ones, or all at once
def test_matching_sends_a_restricted_customers_pairs_to_review_with_the_reason(
    two_helenes, monkeypatch, all_restricted_from
):
    monkeypatch.setattr(restriction_selectors, "ALL_RESTRICTED_FROM", all_restricted_from)
    first, second = two_helenes
    match_batch()  # the same woman: linked automatically when nobody is restricted
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.customer_id == second.customer_id

    # Another copy arrives while she is restricted: it is not linked to her.
    restrict(first.customer)
    third = one(first.source, "C9", {**HELENE, "email": "helene.l@laposte.net"})
    match_batch(full=True)

    third.refresh_from_db()
    first.refresh_from_db()
    assert third.customer_id != first.customer_id
    assert Customer.objects.get(pk=first.customer_id).restricted_at is not None
    candidate = MergeCandidate.objects.get(status="open")
    assert {candidate.record_a_id, candidate.record_b_id} & {first.pk, second.pk}
    assert third.pk in {candidate.record_a_id, candidate.record_b_id}
    assert candidate.explanation["link_guard"] == "restricted"

    lift(first.customer)
    match_batch(full=True)
    third.refresh_from_db()
    assert third.customer_id == first.customer_id


def test_undoing_a_split_of_a_restricted_customer_is_refused(two_helenes, steward_everywhere):
    from stewardship.services.unmerge import decision_undo, records_detach

    first, second = two_helenes
    customers_merge(customer_ids=[first.customer_id, second.customer_id], acting_user=steward_everywhere)
    second.refresh_from_db()
    split = records_detach(customer_id=second.customer_id, record_ids=[second.pk], acting_user=steward_everywhere)
    first.refresh_from_db()
    restrict(first.customer)

    with pytest.raises(DecisionConflict, match=r"art\. 18"):
        decision_undo(decision_id=split.pk, acting_user=steward_everywhere)
