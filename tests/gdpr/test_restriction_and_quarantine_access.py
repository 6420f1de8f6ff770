"""Restriction through a restriction request, and the quarantine's page and API: the DPO
alone (the restriction of a customer directly: DPO and admin, tests/rcu/test_restriction_views.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from gdpr.models import QuarantinedRecord, RequestStep
from gdpr.services.scope import request_scope_set
from rcu.models import ChangeEvent, Customer
from rcu.services.erasure import persons_erase
from tests.factories import TEST_ACTOR, ingest
from tests.gdpr.builders import access_request

pytestmark = pytest.mark.django_db

HELENE = {"id": "CRM-1", "first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
          "email": "helene.lefevre@orange.fr", "city": "Paris"}
OTHERS = ["steward_marketing", "auditor", "admin_user", "outsider"]


@pytest.fixture
def restriction_request(dpo, crm):
    (record,) = ingest(crm, [HELENE])
    request = access_request(dpo=dpo, kind="restriction")
    request_scope_set(request=request, customer_public_ids=[record.customer.public_id], record_ids=[],
                      acting_user=dpo)
    return request, record.customer


@pytest.fixture
def held(crm):
    (record,) = ingest(crm, [HELENE])
    persons_erase(customer_ids=[record.customer_id], acting_user=TEST_ACTOR)
    ingest_api = APIClient()
    from tests.factories import make_user
    ingest_api.force_authenticate(make_user("feeder", roles=[], departments=["marketing"]))
    assert ingest_api.post("/api/v1/sources/crm/records/", HELENE, format="json").status_code == 202
    return QuarantinedRecord.objects.get()


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_dpo_restricts_a_requests_scope_and_lifts_it_with_the_trail(restriction_request, dpo):
    request, customer = restriction_request
    url = f"/api/v1/gdpr/requests/{request.pk}/restriction/"

    response = api_for(dpo).post(url, {"action": "restrict", "reason": "accuracy contested"}, format="json")

    assert response.status_code == 200 and response.json()["changed"] == [str(customer.public_id)]
    customer.refresh_from_db()
    assert customer.restricted_at is not None
    assert customer.restriction_reason == f"request {request.reference}: accuracy contested"
    assert ChangeEvent.objects.filter(customer_id=customer.pk, type="customer.restricted").exists()
    assert RequestStep.objects.filter(request=request, action="restricted").exists()
    page = page_html(dpo, reverse("gdpr:request_detail", args=[request.pk]))
    assert "request-restriction" in page and 'class="badge badge-warn"' in page

    response = api_for(dpo).post(url, {"action": "lift", "reason": "verified"}, format="json")
    assert response.json() == {"changed": [str(customer.public_id)], "unchanged": []}
    assert Customer.objects.get(pk=customer.pk).restricted_at is None
    assert RequestStep.objects.filter(request=request, action="restriction_lifted").exists()


def page_html(user, url: str) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_another_kind_of_request_restricts_nothing(dpo, crm):
    request = access_request(dpo=dpo)
    response = api_for(dpo).post(f"/api/v1/gdpr/requests/{request.pk}/restriction/",
                                 {"action": "restrict", "reason": "r"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_the_request_page_restricts_through_its_form(restriction_request, client, dpo):
    request, customer = restriction_request
    client.force_login(dpo)
    client.post(reverse("gdpr:request_restriction", args=[request.pk]),
                {"action": "restrict", "reason": "objection pending"})
    assert Customer.objects.get(pk=customer.pk).restricted_at is not None


@pytest.mark.parametrize("persona", OTHERS)
def test_nobody_but_the_dpo_restricts_through_a_request(restriction_request, request, persona, client):
    subject_request, customer = restriction_request
    user = request.getfixturevalue(persona)
    response = api_for(user).post(f"/api/v1/gdpr/requests/{subject_request.pk}/restriction/",
                                  {"action": "restrict", "reason": "r"}, format="json")
    assert response.status_code == 403
    client.force_login(user)
    assert client.post(reverse("gdpr:request_restriction", args=[subject_request.pk]),
                       {"action": "restrict", "reason": "r"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).restricted_at is None


def test_the_dpo_lists_releases_and_discards_through_the_api(held, dpo, crm):
    api = api_for(dpo)
    listed = api.get("/api/v1/gdpr/quarantine/").json()
    assert [(r["id"], r["source"], r["external_id"], r["status"]) for r in listed["results"]] == [
        (held.pk, "crm", "CRM-1", "held")]

    released = api.post(f"/api/v1/gdpr/quarantine/{held.pk}/release/", {"note": "new contract"}, format="json")

    assert released.status_code == 200
    body = released.json()
    assert body["status"] == "released" and body["raw"] == {} and body["customer_id"]
    assert api.get("/api/v1/gdpr/quarantine/").json()["results"] == []
    assert [r["status"] for r in api.get("/api/v1/gdpr/quarantine/", {"status": "all"}).json()["results"]] == ["released"]
    again = api.post(f"/api/v1/gdpr/quarantine/{held.pk}/discard/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert api.get("/api/v1/gdpr/quarantine/", {"status": "nonsense"}).status_code == 400


def test_the_dpo_discards_from_the_page(held, dpo, client):
    client.force_login(dpo)
    page = client.get(reverse("gdpr:quarantine")).content.decode()
    assert f'data-held="{held.pk}"' in page and "CRM-1" in page
    client.post(reverse("gdpr:quarantine_discard", args=[held.pk]))
    assert QuarantinedRecord.objects.get().status == "discarded"
    client.post(reverse("gdpr:quarantine_release", args=[held.pk]))  # decided: a message, nothing done
    assert QuarantinedRecord.objects.get().status == "discarded"


@pytest.mark.parametrize("persona", OTHERS)
def test_nobody_but_the_dpo_sees_or_decides_the_quarantine(held, request, persona, client):
    user = request.getfixturevalue(persona)
    api = api_for(user)
    assert api.get("/api/v1/gdpr/quarantine/").status_code == 403
    assert api.post(f"/api/v1/gdpr/quarantine/{held.pk}/release/", {}, format="json").status_code == 403
    assert api.post(f"/api/v1/gdpr/quarantine/{held.pk}/discard/", {}, format="json").status_code == 403
    client.force_login(user)
    assert client.get(reverse("gdpr:quarantine")).status_code == 403
    assert client.post(reverse("gdpr:quarantine_release", args=[held.pk])).status_code == 403
    assert client.post(reverse("gdpr:quarantine_discard", args=[held.pk])).status_code == 403
    assert QuarantinedRecord.objects.get().status == "held"


def test_anonymous_callers_are_refused(held, client):
    assert APIClient().get("/api/v1/gdpr/quarantine/").status_code == 401
    assert APIClient().post(f"/api/v1/gdpr/quarantine/{held.pk}/release/", {}, format="json").status_code == 401
    assert client.get(reverse("gdpr:quarantine")).status_code == 302
