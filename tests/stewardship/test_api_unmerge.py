"""Unmerging a customer through the REST API: detaching records, undoing a decision
from the ledger, what the body must say, and the conflicts."""

from __future__ import annotations

import pytest

from rcu.models import Customer, PairDecision, SourceRecord
from rcu.roles import Role
from stewardship.models import Decision, MergeCandidate
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import records_detach
from tests.factories import TEST_ACTOR, make_user
from tests.rcu.refusals import error_body, refused_fields
from tests.stewardship.api_world import World, build_world, client_as, record


@pytest.fixture
def world(sources) -> World:
    return build_world(sources)


@pytest.fixture
def steward_ecommerce(db):
    return make_user("steward_ecommerce", roles=[Role.STEWARD], departments=["ecommerce"])


@pytest.fixture
def merge(world, steward_marketing) -> Decision:
    """Hélène's CRM and e-shop customers merged by the marketing steward."""
    return candidate_merge(
        candidate_id=world.candidates["marketing"].pk, acting_user=steward_marketing
    )


def unmerge(user, customer: Customer, body, **extra):
    return client_as(user).post(
        f"/api/v1/customers/{customer.public_id}/unmerge/", body, format="json", **extra
    )


def customer_id_of(record: SourceRecord) -> int:
    return SourceRecord.objects.get(pk=record.pk).customer_id


# --- Detach -------------------------------------------------------------------------

def test_detach_moves_the_records_into_a_new_customer(steward_marketing, world, merge):
    survivor = merge.survivor
    crm, eshop = world.records["crm"], world.records["eshop_helene"]

    response = unmerge(steward_marketing, survivor, {"records": [crm.pk], "reason": "not her"})

    assert response.status_code == 200, response.content
    body = response.json()
    decision = Decision.objects.get(pk=body["id"])
    new_customer = Customer.objects.get(pk=customer_id_of(crm))
    assert body["kind"] == "detach"
    assert body["survivor"] == str(new_customer.public_id)
    assert sorted(body["customers"]) == sorted([str(survivor.public_id), str(new_customer.public_id)])
    assert body["reason"] == "not her"
    assert body["decided_by"] == "steward_marketing"
    assert decision.decided_by == steward_marketing
    assert new_customer.pk != survivor.pk and new_customer.merged_into_id is None
    assert customer_id_of(eshop) == survivor.pk
    a, b = sorted([crm.pk, eshop.pk])
    assert PairDecision.objects.get(record_a_id=a, record_b_id=b).kind == PairDecision.Kind.CANNOT_LINK
    assert SourceRecord.history.filter(id=crm.pk).latest("history_date").history_user == steward_marketing


def test_a_retired_id_resolves_to_its_survivor(steward_marketing, world, merge):
    (retired,) = [c for c in merge.customers.all() if c.pk != merge.survivor_id]

    response = unmerge(steward_marketing, retired, {"records": [world.records["crm"].pk]})

    assert response.status_code == 200, response.content
    assert str(merge.survivor.public_id) in response.json()["customers"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda w, m: {}, ""),
        (lambda w, m: {"records": [w.records["crm"].pk], "decision": m.pk}, ""),
        (lambda w, m: {"records": []}, "records"),
        (lambda w, m: {"records": ["x"]}, "records.0"),
        (lambda w, m: {"records": w.records["crm"].pk}, "records"),
        (lambda w, m: {"decision": "x"}, "decision"),
        # Every record of the customer: it must keep one.
        (lambda w, m: {"records": [w.records["crm"].pk, w.records["eshop_helene"].pk]}, "records"),
        # A record marketing does not see (the e-shop's).
        (lambda w, m: {"records": [w.records["eshop_helene"].pk]}, "records"),
        (lambda w, m: {"records": [999_999]}, "records"),
        (lambda w, m: {"decision": 999_999}, "decision"),
        (lambda w, m: {"reason": "x" * 501, "decision": m.pk}, "reason"),
        (lambda w, m: ["records"], ""),
    ],
)
def test_a_wrong_request_is_a_400_naming_the_field(steward_marketing, world, merge, body, field):
    response = unmerge(steward_marketing, merge.survivor, body(world, merge))

    assert refused_fields(response)[0] == (field or None)
    assert Decision.objects.count() == 1
    assert customer_id_of(world.records["crm"]) == customer_id_of(world.records["eshop_helene"])


def test_a_visible_record_of_another_customer_cannot_be_detached(
    steward_marketing, crm, world, merge
):
    stranger = record(crm, "CRM-2", {"first_name": "Paul", "last_name": "Durand"})

    response = unmerge(
        steward_marketing, merge.survivor, {"records": [stranger.pk]}, HTTP_ACCEPT_LANGUAGE="en"
    )

    reason = f"Record {stranger.pk} does not belong to this customer."
    assert response.json() == {
        "detail": f"records: {reason}", "code": "invalid",
        "errors": [{"field": "records", "reason": reason}],
    }


# --- Undo -----------------------------------------------------------------------------

def test_undoing_a_merge_brings_both_customers_back(steward_marketing, world, merge):
    crm, eshop = world.records["crm"], world.records["eshop_helene"]
    (retired,) = [c for c in merge.customers.all() if c.pk != merge.survivor_id]

    response = unmerge(steward_marketing, merge.survivor, {"decision": merge.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "undo"
    assert body["undoes"] == merge.pk
    assert body["candidate"] == world.candidates["marketing"].pk
    assert customer_id_of(crm) != customer_id_of(eshop)
    retired.refresh_from_db()
    assert retired.merged_into_id is None
    merge.refresh_from_db()
    assert merge.undone_at is not None
    candidate = MergeCandidate.objects.get(pk=world.candidates["marketing"].pk)
    assert candidate.status == MergeCandidate.Status.OPEN


def test_undoing_twice_is_a_409(steward_marketing, merge):
    first = unmerge(steward_marketing, merge.survivor, {"decision": merge.pk})

    again = unmerge(steward_marketing, merge.survivor, {"decision": merge.pk})

    assert first.status_code == 200
    error_body(again, 409, "conflict")


def test_undoing_a_merge_changed_since_is_a_409(steward_marketing, world, merge):
    records_detach(
        customer_id=merge.survivor_id, record_ids=[world.records["eshop_helene"].pk],
        acting_user=TEST_ACTOR,
    )

    response = unmerge(steward_marketing, merge.survivor, {"decision": merge.pk})

    assert response.status_code == 409
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_undoing_a_detachment_puts_the_records_back(steward_marketing, world, merge):
    crm = world.records["crm"]
    detached = unmerge(steward_marketing, merge.survivor, {"records": [crm.pk]}).json()
    new_customer = Customer.objects.get(public_id=detached["survivor"])

    response = unmerge(steward_marketing, new_customer, {"decision": detached["id"]})

    assert response.status_code == 200, response.content
    assert customer_id_of(crm) == merge.survivor_id
    new_customer.refresh_from_db()
    assert new_customer.merged_into_id == merge.survivor_id


def test_an_undo_itself_cannot_be_undone(steward_marketing, merge):
    undo = unmerge(steward_marketing, merge.survivor, {"decision": merge.pk}).json()

    response = unmerge(steward_marketing, merge.survivor, {"decision": undo["id"]})

    assert refused_fields(response) == ["decision"]


def test_a_decision_on_another_customer_is_refused(steward_ecommerce, world, merge):
    """The e-shop steward decides both customers, but the decision must be this customer's."""
    other = candidate_merge(
        candidate_id=world.candidates["service"].pk, acting_user=steward_ecommerce
    )

    response = unmerge(steward_ecommerce, merge.survivor, {"decision": other.pk})

    assert refused_fields(response) == ["decision"]
    other.refresh_from_db()
    assert other.undone_at is None


def test_undoing_a_rejection_reopens_its_candidate(steward_marketing, world):
    """By a steward who may decide for both customers (the CRM's and the e-shop's)."""
    candidate = world.candidates["marketing"]
    rejection = candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    both = make_user("steward_both", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])

    response = unmerge(both, world.records["crm"].customer, {"decision": rejection.pk})

    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "reopen"
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN
    assert not PairDecision.objects.filter(kind=PairDecision.Kind.CANNOT_LINK).exists()

