"""Matching through the REST API: ingest returns the decision; search before create."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry
from rcu.models import SourceRecord
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_SPARSE, MARC

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(client, source: str, row: dict):
    return client.post(f"/api/v1/sources/{source}/records/", row, format="json")


def test_ingest_answers_with_the_match_decision(crm, eshop, admin_user):
    client = client_for(admin_user)
    first = send(client, "crm", {"id": "C1", **JEANNE})
    assert first.status_code == 201
    assert first.json()["match"]["decision"] == "new"
    second = send(client, "eshop", {"id": "E1", **JEANNE_ESHOP})
    assert second.status_code == 201, second.content
    body = second.json()
    assert body["match"]["decision"] == "linked"
    assert body["customer_id"] == first.json()["customer_id"]
    explanation = body["match"]["explanation"]
    assert explanation["link_guard"] is None
    assert {c["comparison"] for c in explanation["contributions"]} >= {"email", "birth_date"}
    assert body["match"]["probability"] >= 0.99


def test_an_unchanged_record_is_not_matched_again(crm, admin_user):
    client = client_for(admin_user)
    send(client, "crm", {"id": "C1", **JEANNE})
    again = send(client, "crm", {"id": "C1", **JEANNE})
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged" and again.json()["match"] is None


def test_a_grey_zone_record_is_reported_as_candidate(crm, service_client_source, admin_user):
    client = client_for(admin_user)
    send(client, "crm", {"id": "C1", **JEANNE})
    body = send(client, "service_client", {"id": "S1", **JEANNE_SPARSE}).json()
    assert body["match"]["decision"] == "candidate"
    assert body["match"]["explanation"]["link_guard"] == "household_evidence"


def search(client, **values):
    return client.post("/api/v1/match/", values, format="json")


def test_search_before_create_finds_the_customer_and_stores_nothing(crm, eshop, dpo, admin_user):
    send(client_for(admin_user), "crm", {"id": "C1", **JEANNE})
    send(client_for(admin_user), "eshop", {"id": "E9", **MARC})
    records = SourceRecord.objects.count()
    response = search(
        client_for(dpo), first_name="Jeanne", last_name="LEFEVRE",
        email="jeanne.lefevre@orange.fr", phone="0612345678",
    )
    assert response.status_code == 200, response.content
    hits = response.json()
    assert len(hits) == 1
    hit = hits[0]
    jeanne = SourceRecord.objects.get(external_id="C1").customer
    assert hit["customer"]["public_id"] == str(jeanne.public_id)
    assert hit["band"] == "auto_link"
    contributions = hit["explanation"]["contributions"]
    assert hit["explanation"]["prior_weight"] + sum(c["weight"] for c in contributions) == (
        hit["explanation"]["total_weight"]
    )
    assert SourceRecord.objects.count() == records
    assert AccessLogEntry.objects.filter(user=dpo, purpose="api_match_search").count() == 1


def test_search_before_create_only_shows_what_the_caller_may_see(
    crm, eshop, admin_user, steward_marketing, steward_service_client
):
    send(client_for(admin_user), "crm", {"id": "C1", **JEANNE})
    query = {"first_name": "Jeanne", "last_name": "Lefevre", "email": "jeanne.lefevre@orange.fr"}
    assert len(search(client_for(steward_marketing), **query).json()) == 1
    assert search(client_for(steward_service_client), **query).json() == []


def test_search_before_create_refuses_an_empty_record(dpo):
    response = search(client_for(dpo))
    assert response.status_code == 400


def test_search_before_create_needs_authentication(db):
    assert APIClient().post("/api/v1/match/", {"email": "a@b.fr"}, format="json").status_code in (
        401, 403,
    )
