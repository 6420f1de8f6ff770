"""Steward actions beyond the queue, over the REST API: correcting golden values
(`PATCH /api/v1/customers/{id}/`) and merging customers found by search
(`POST /api/v1/customers/merge/`), with who may do them (a matrix of personas)."""

from __future__ import annotations

import pytest

from rcu.models import Customer, SourceRecord
from rcu.roles import Role
from stewardship.models import Decision
from stewardship.services.corrections import CorrectionOrigin, customer_values_correct
from tests.factories import make_user
from tests.rcu.refusals import error_body, refused_fields
from tests.stewardship.api_world import HELENE, HELENE_ESHOP, JEAN_PIERRE, client_as, record

MERGE = "/api/v1/customers/merge/"


def detail(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.public_id}/"


def patch(user, customer, body):
    return client_as(user).patch(detail(customer), body, format="json")


@pytest.fixture
def helene_crm(crm) -> SourceRecord:
    return record(crm, "CRM-1", HELENE)


@pytest.fixture
def helene_crm_2(crm) -> SourceRecord:
    """Hélène again in the CRM, under another id, with her new address."""
    return record(crm, "CRM-2", {**HELENE_ESHOP, "email": "h.lefevre@gmail.com"})


@pytest.fixture
def jp_sc(service_client_source) -> SourceRecord:
    return record(service_client_source, "SC-1", JEAN_PIERRE)


@pytest.fixture
def people(personas, db):
    return {**personas, "steward_both": make_user(
        "steward_both", roles=[Role.STEWARD], departments=["marketing", "service-client"]
    )}


# --- Correcting ---------------------------------------------------------------------------


def test_a_steward_corrects_a_value_and_gets_the_ledger_entry(steward_marketing, helene_crm):
    customer = helene_crm.customer
    response = patch(steward_marketing, customer,
                     {"values": {"email": "Helene.Martin@Gmail.com"}, "reason": "called us"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "correct" and body["reason"] == "called us"
    assert body["decided_by"] == "steward_marketing"
    got = client_as(steward_marketing).get(detail(customer)).json()
    assert got["email"] == "helene.martin@gmail.com"


def test_null_unpins_over_the_api(steward_marketing, helene_crm):
    customer = helene_crm.customer
    patch(steward_marketing, customer, {"values": {"city": "Lyon", "postcode": "69003"},
                                        "reason": "moved"})
    response = patch(steward_marketing, customer, {"values": {"city": None}, "reason": "no"})
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.city == "Paris" and customer.pinned == {}


@pytest.mark.parametrize(("body", "field"), [
    ({"values": {"email": "not-an-address"}, "reason": "r"}, "values.email"),
    ({"values": {"mobile": "12"}, "reason": "r"}, "values.mobile"),
    ({"values": {"first_name": "A" * 151}, "reason": "r"}, "values.first_name"),
    ({"values": {"city": None, "postcode": "69003"}, "reason": "r"}, "values.postcode"),
    ({"values": {"colour": "blue"}, "reason": "r"}, "values.colour"),
    ({"values": {}, "reason": "r"}, "values"),
    ({"values": {"email": "a@b.fr"}}, "reason"),
])
def test_a_bad_correction_is_a_400_naming_the_field(steward_marketing, helene_crm, body, field):
    response = patch(steward_marketing, helene_crm.customer, body)
    assert field in refused_fields(response)
    assert not Decision.objects.exists()


CORRECT_ALLOWED = {"steward_marketing", "steward_both"}


@pytest.mark.parametrize("who", ["steward_marketing", "steward_both", "steward_service_client",
                                 "dpo", "admin", "auditor", "outsider"])
def test_who_may_correct_a_marketing_customer(people, helene_crm, who):
    response = patch(people[who], helene_crm.customer,
                     {"values": {"email": "x.y@gmail.com"}, "reason": "why"})
    customer = Customer.objects.get(pk=helene_crm.customer_id)
    if who in CORRECT_ALLOWED:
        assert response.status_code == 200, response.content
        assert customer.email == "x.y@gmail.com"
        return
    # A persona who cannot see the customer is told nothing of it (404); one who sees it
    # but may not decide is refused (403). Nothing changes either way.
    error_body(response, 404 if who in ("steward_service_client", "outsider") else 403)
    assert customer.email == "helene.lefevre@orange.fr"


def test_a_rectified_value_is_refused_to_a_steward_naming_why(steward_marketing, dpo, helene_crm):
    customer_values_correct(customer_id=helene_crm.customer_id, values={"email": "a.b@gmail.com"},
                            reason="art. 16", origin=CorrectionOrigin.RECTIFICATION,
                            acting_user=dpo)
    response = patch(steward_marketing, helene_crm.customer,
                     {"values": {"email": None}, "reason": "back to the source"})
    body = error_body(response, 403)
    assert "DPO" in body["detail"]


def test_the_customer_detail_still_answers_get(auditor, helene_crm):
    response = client_as(auditor).get(detail(helene_crm.customer))
    assert response.status_code == 200 and response.json()["email"] == "helene.lefevre@orange.fr"


# --- Merging customers found by search ----------------------------------------------------


def test_a_steward_merges_two_customers_found_by_search(steward_marketing, helene_crm,
                                                        helene_crm_2):
    a, b = helene_crm.customer, helene_crm_2.customer
    response = client_as(steward_marketing).post(MERGE, {
        "customers": [str(a.public_id), str(b.public_id)], "survivor": str(b.public_id),
        "choices": {"email": helene_crm_2.pk, "address": helene_crm.pk}, "reason": "same",
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "merge" and body["survivor"] == str(b.public_id)
    assert body["choices"] == {"email": helene_crm_2.pk, "address": helene_crm.pk}
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.merged_into_id == b.pk
    assert (b.email, b.city) == ("h.lefevre@gmail.com", "Paris")


def test_a_merge_by_search_is_undone_from_the_ledger(steward_marketing, helene_crm, helene_crm_2):
    a, b = helene_crm.customer, helene_crm_2.customer
    merged = client_as(steward_marketing).post(MERGE, {
        "customers": [str(a.public_id), str(b.public_id)], "reason": "same"}, format="json")
    survivor = Customer.objects.get(public_id=merged.json()["survivor"])
    response = client_as(steward_marketing).post(
        f"/api/v1/customers/{survivor.public_id}/unmerge/", {"decision": merged.json()["id"]},
        format="json")
    assert response.status_code == 200, response.content
    assert SourceRecord.objects.get(pk=helene_crm.pk).customer_id == a.pk
    assert SourceRecord.objects.get(pk=helene_crm_2.pk).customer_id == b.pk


@pytest.mark.parametrize(("body", "field"), [
    ({"customers": []}, "customers"),
    ({"customers": ["SELF"]}, "customers"),
    ({"customers": ["A", "B"], "choices": {"email": 0}}, "choices"),
    ({"customers": ["A", "B"], "survivor": "C"}, "survivor"),
])
def test_a_bad_merge_request_is_a_400_naming_the_field(steward_marketing, helene_crm,
                                                       helene_crm_2, body, field):
    ids = {"A": str(helene_crm.customer.public_id), "B": str(helene_crm_2.customer.public_id),
           "SELF": str(helene_crm.customer.public_id),
           "C": "00000000-0000-0000-0000-000000000000"}
    body = {**body, "customers": [ids[c] for c in body["customers"]]}
    if "survivor" in body:
        body["survivor"] = ids[body["survivor"]]
    response = client_as(steward_marketing).post(MERGE, body, format="json")
    fields = refused_fields(response)
    assert any(f and f.startswith(field) for f in fields), fields
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


MERGE_ALLOWED = {"steward_both"}


@pytest.mark.parametrize("who", ["steward_marketing", "steward_both", "steward_service_client",
                                 "dpo", "admin", "auditor", "outsider"])
def test_who_may_merge_a_marketing_and_a_service_client_customer(people, helene_crm, jp_sc, who):
    """Every customer merged must be one the caller decides for."""
    response = client_as(people[who]).post(MERGE, {
        "customers": [str(helene_crm.customer.public_id), str(jp_sc.customer.public_id)],
        "reason": "same"}, format="json")
    if who in MERGE_ALLOWED:
        assert response.status_code == 200, response.content
        assert Customer.objects.filter(merged_into__isnull=False).count() == 1
        return
    error_body(response, 404 if who in ("steward_marketing", "steward_service_client",
                                        "outsider") else 403)
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


def test_the_merge_route_is_not_taken_for_a_customer_id(auditor, helene_crm):
    response = client_as(auditor).get(MERGE)
    assert response.status_code in (403, 405)
