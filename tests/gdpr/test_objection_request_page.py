"""The request page of an objection request: the DPO executes the objection with the
reason, lifts it, and the request's trail says both, with why."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gdpr.models import Objection
from gdpr.services.scope import request_scope_set
from tests.gdpr.builders import access_request
from tests.gdpr.consent_world import helene_with_an_email_optin, in_force

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return helene_with_an_email_optin()


@pytest.fixture
def objection_request(customer, dpo):
    subject_request = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=subject_request, customer_public_ids=[customer.public_id], record_ids=[],
                      acting_user=dpo)
    return subject_request


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, subject_request) -> str:
    return client.get(reverse("gdpr:request_detail", args=[subject_request.pk])).content.decode()


def execute(client: Client, subject_request, reason: str = "Lettre du 3 mars : ne plus être sollicitée"):
    return client.post(reverse("gdpr:request_objection", args=[subject_request.pk]), {"reason": reason})


def test_the_dpo_executes_the_objection_from_the_request_page_and_the_trail_says_why(
    customer, objection_request, dpo
):
    client = client_for(dpo)
    assert "data-execute-objection" in page(client, objection_request)
    answer = execute(client, objection_request)
    assert answer.status_code == 302 and answer["Location"] == reverse("gdpr:request_detail",
                                                                       args=[objection_request.pk])
    objection = Objection.objects.get(holder=customer)
    assert objection.request == objection_request and objection.recorded_by == dpo
    assert in_force(customer)[("newsletter", "email")] is False
    (step,) = objection_request.steps.filter(action="objection_recorded")
    assert step.by == dpo and "Lettre du 3 mars" in step.detail and step.detail.startswith("1 ")
    shown = page(client, objection_request)
    assert f'data-objection="{objection.pk}"' in shown and "Lettre du 3 mars" in shown


def test_lifting_from_the_request_page_is_in_the_requests_trail_with_why(customer, objection_request, dpo):
    client = client_for(dpo)
    execute(client, objection_request)
    objection = Objection.objects.get(holder=customer)
    answer = client.post(reverse("gdpr:objection_lift", args=[objection.pk]),
                         {"reason": "Retirée par téléphone le 9 avril", "back": "request"})
    assert answer["Location"].startswith(reverse("gdpr:request_detail", args=[objection_request.pk]))
    (step,) = objection_request.steps.filter(action="objection_lifted")
    assert step.by == dpo and step.detail == "Retirée par téléphone le 9 avril"
    assert "data-lifted" in page(client, objection_request)


def test_a_reason_is_required_and_a_closed_request_or_empty_scope_executes_nothing(customer, dpo):
    client = client_for(dpo)
    unscoped = access_request(dpo=dpo, kind="objection")
    execute(client, unscoped)
    assert not Objection.objects.exists()
    scoped = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=scoped, customer_public_ids=[customer.public_id], record_ids=[], acting_user=dpo)
    execute(client, scoped, reason="  ")
    assert not Objection.objects.exists() and not scoped.steps.filter(action="objection_recorded").exists()
    other = access_request(dpo=dpo)  # another kind of request: no panel, nothing recorded
    assert "data-execute-objection" not in page(client, other)
    execute(client, other)
    assert not Objection.objects.exists()


# Who may execute an objection: the DPO alone. Others are refused (403), or do not see
# the request at all (404).
EXECUTE = {"steward_marketing": {403}, "steward_service_client": {403}, "dpo": {302}, "admin": {403},
           "auditor": {403}, "outsider": {403}}


@pytest.mark.parametrize("persona", sorted(EXECUTE))
def test_permission_matrix_of_executing_an_objection_request(customer, objection_request, personas, persona):
    client = client_for(personas[persona])
    assert execute(client, objection_request).status_code in EXECUTE[persona]
    assert Objection.objects.exists() is (persona == "dpo")
    if persona != "dpo" and client.get(reverse("gdpr:request_detail", args=[objection_request.pk])).status_code == 200:
        assert "data-execute-objection" not in page(client, objection_request)  # no button they cannot use
