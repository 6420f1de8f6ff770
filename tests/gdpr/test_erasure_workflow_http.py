"""The erasure workflow over the API and the pages: who may do what (the permission
matrix), the whole flow through the API, the receipt as JSON and PDF."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from gdpr.models import ErasureStatus, RequestState
from gdpr.selectors.erasure import erasure_state
from gdpr.services.erasure_requests import request_erasure_ask
from gdpr.services.requests import subject_request_identity_verify
from gdpr.services.scope import request_scope_set
from gdpr.views.packs import pdf_available
from rcu.models import Customer
from rcu.roles import Role
from tests.factories import make_user
from tests.gdpr.builders import access_request
from tests.gdpr.test_erasure_workflow import PERSON_VALUES

pytestmark = pytest.mark.django_db

URL = "/api/v1/gdpr/requests/{pk}/erasure/"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def second_dpo(db):
    return make_user("dpo2", roles=[Role.DPO])


@pytest.fixture
def erasure(dpo, scenario):
    request = access_request(dpo=dpo, kind="erasure")
    subject_request_identity_verify(request=request, acting_user=dpo)
    request_scope_set(request=request, customer_public_ids=[scenario.person.public_id],
                      record_ids=[], acting_user=dpo)
    request.refresh_from_db()
    return request


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and body["code"] == code
    return body


def _api_calls(pk: int) -> list[tuple[str, str, dict | None]]:
    base = URL.format(pk=pk)
    until = (timezone.localdate() + timedelta(days=400)).isoformat()
    return [
        ("get", base, None),
        ("post", f"{base}holds/", {"source": "crm", "legal_basis": "b", "reason": "r",
                                   "keep_until": until}),
        ("delete", f"{base}holds/1/", None),
        ("post", f"{base}ask/", None),
        ("post", f"{base}approve/", None),
        ("post", f"{base}refuse/", {"reason": "r"}),
        ("post", f"{base}execute/", None),
        ("post", f"{base}acknowledgements/1/", {"note": "n"}),
        ("get", f"{base}receipt/", None),
    ]


APPROVER_CALLS = {"get", "approve/", "refuse/"}


@pytest.mark.parametrize("persona", ["steward_marketing", "auditor", "outsider"])
def test_nobody_but_the_dpo_and_approvers_may_call_the_erasure_api(personas, erasure, persona):
    api = _api(personas[persona])
    for method, url, body in _api_calls(erasure.pk):
        _error(getattr(api, method)(url, body, format="json"), 403, "permission_denied")
    assert erasure_state(erasure).approval is None and not erasure.legal_holds.exists()


def test_anonymous_callers_are_refused(erasure):
    for method, url, body in _api_calls(erasure.pk):
        _error(getattr(_api(), method)(url, body, format="json"), 401, "not_authenticated")


def test_an_admin_reads_and_decides_but_does_nothing_else(admin_user, dpo, erasure, scenario):
    api = _api(admin_user)
    request_erasure_ask(request=erasure, acting_user=dpo)
    for method, url, body in _api_calls(erasure.pk):
        response = getattr(api, method)(url, body, format="json")
        approver_call = (method == "get" and url.endswith("/erasure/")) or url.endswith(("approve/", "refuse/"))
        if approver_call:
            assert response.status_code in (200, 409), (url, response.content)
        else:
            _error(response, 403, "permission_denied")
    # Its approval counted (the refusal came after, on nothing waiting: 409).
    assert erasure_state(erasure).approval.status == ErasureStatus.APPROVED
    assert Customer.objects.filter(pk=scenario.person.pk).exists()


def test_the_whole_erasure_through_the_api(dpo, second_dpo, erasure, scenario, crm):
    dpo_api, second = _api(dpo), _api(second_dpo)
    base = URL.format(pk=erasure.pk)
    read = dpo_api.get(base)
    assert read.status_code == 200
    preview = read.json()["preview"]
    assert preview["records"] == 3 and {s["code"] for s in preview["sources"]} >= {crm.code}
    until = (timezone.localdate() + timedelta(days=3650)).isoformat()
    bad = dpo_api.post(f"{base}holds/", {"source": crm.code, "attributes": ["shoe_size"],
                                         "legal_basis": "b", "reason": "r", "keep_until": until},
                       format="json")
    assert _error(bad, 400, "invalid")["errors"][0]["field"].startswith("attributes")
    held = dpo_api.post(f"{base}holds/", {"source": crm.code, "attributes": ["last_name"],
                                          "legal_basis": "Code de commerce L123-22",
                                          "reason": "invoices", "keep_until": until}, format="json")
    assert held.status_code == 201, held.content
    assert held.json()["legal_holds"][0]["attributes"] == ["last_name"]
    assert dpo_api.post(f"{base}ask/").status_code == 200
    _error(dpo_api.post(f"{base}approve/"), 409, "conflict")  # who asked cannot approve
    _error(dpo_api.post(f"{base}execute/"), 409, "conflict")  # not approved yet
    assert second.post(f"{base}approve/").json()["approval"]["status"] == "approved"
    done = dpo_api.post(f"{base}execute/")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["state"] == RequestState.WAITING_FOR_SOURCES and body["preview"] is None
    assert body["approval"]["report"]["records"] == 3
    for ack in body["acknowledgements"]:
        if ack["kind"] == "source":
            answer = dpo_api.post(f"{base}acknowledgements/{ack['id']}/",
                                  {"note": "ticket 12 closed"}, format="json")
            assert answer.status_code == 200
    receipt = dpo_api.get(f"{base}receipt/")
    assert receipt.status_code == 200
    text = receipt.content.decode().lower()
    for value in (*PERSON_VALUES, str(scenario.person.public_id)):
        assert value.lower() not in text, value
    assert receipt.json()["approved"]["by"] == second_dpo.username


def test_the_receipt_waits_for_the_execution(dpo, erasure):
    _error(_api(dpo).get(f"{URL.format(pk=erasure.pk)}receipt/"), 409, "conflict")


def test_the_old_execute_endpoint_executes_an_approved_erasure_only(dpo, second_dpo, erasure, scenario):
    url = f"/api/v1/gdpr/requests/{erasure.pk}/execute/"
    _error(_api(dpo).post(url, {}, format="json"), 409, "conflict")
    request_erasure_ask(request=erasure, acting_user=dpo)
    _api(second_dpo).post(f"{URL.format(pk=erasure.pk)}approve/")
    response = _api(dpo).post(url, {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "erased"
    assert not Customer.objects.filter(pk=scenario.person.pk).exists()


# --- pages ---------------------------------------------------------------------------

def _page_urls(pk: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("gdpr:erasure", args=[pk])),
        ("post", reverse("gdpr:erasure_hold_add", args=[pk])),
        ("post", reverse("gdpr:erasure_hold_remove", args=[pk, 1])),
        ("post", reverse("gdpr:erasure_ask", args=[pk])),
        ("post", reverse("gdpr:erasure_approve", args=[pk])),
        ("post", reverse("gdpr:erasure_refuse", args=[pk])),
        ("post", reverse("gdpr:erasure_execute", args=[pk])),
        ("post", reverse("gdpr:erasure_acknowledge", args=[pk, 1])),
        ("get", reverse("gdpr:erasure_receipt", args=[pk])),
        ("get", reverse("gdpr:erasure_receipt_json", args=[pk])),
        ("get", reverse("gdpr:erasure_receipt_pdf", args=[pk])),
        ("get", reverse("gdpr:erasures")),
    ]


@pytest.mark.parametrize("persona", ["steward_marketing", "auditor", "outsider", None])
def test_nobody_but_the_dpo_and_approvers_see_or_act_on_the_erasure_pages(
    client, personas, erasure, persona
):
    if persona is not None:
        client.force_login(personas[persona])
    for method, url in _page_urls(erasure.pk):
        response = getattr(client, method)(url, {"reason": "r", "note": "n"})
        if persona is None:
            assert response.status_code == 302 and "/login" in response.url, url
        else:
            assert response.status_code == 403, url
    assert erasure_state(erasure).approval is None


def test_an_admin_approves_from_the_pages_and_nothing_more(client, admin_user, dpo, erasure):
    request_erasure_ask(request=erasure, acting_user=dpo)
    client.force_login(admin_user)
    listing = client.get(reverse("gdpr:erasures")).content.decode()
    assert f'data-erasure="{erasure.reference}"' in listing
    page = client.get(reverse("gdpr:erasure", args=[erasure.pk])).content.decode()
    assert 'id="erasure-approve"' in page and 'id="erasure-execute"' not in page
    for person_value in ("Hélène", "helene.lefevre@orange.fr"):
        assert person_value not in page  # an approver sees counts, not the person
    for method, url in _page_urls(erasure.pk):
        if url.endswith(("/erasure/", "/approve/", "/refuse/", "/erasures/")):
            continue
        assert getattr(client, method)(url, {"note": "n"}).status_code == 403, url
    client.post(reverse("gdpr:erasure_approve", args=[erasure.pk]))
    assert erasure_state(erasure).approval.status == ErasureStatus.APPROVED


def test_the_dpo_asks_a_second_dpo_approves_and_the_receipt_prints(
    client, dpo, second_dpo, erasure, scenario
):
    client.force_login(dpo)
    page = client.get(reverse("gdpr:erasure", args=[erasure.pk])).content.decode()
    assert 'data-store="rcu.SourceRecord"' in page and 'id="erasure-ask"' in page
    client.post(reverse("gdpr:erasure_ask", args=[erasure.pk]))
    page = client.get(reverse("gdpr:erasure", args=[erasure.pk])).content.decode()
    assert 'id="erasure-approve"' not in page  # who asked sees no approve button
    client.force_login(second_dpo)
    client.post(reverse("gdpr:erasure_approve", args=[erasure.pk]))
    client.force_login(dpo)
    answer = client.post(reverse("gdpr:erasure_execute", args=[erasure.pk]), follow=True)
    assert answer.status_code == 200
    assert 'data-ack-state="waiting"' in answer.content.decode()
    receipt_json = client.get(reverse("gdpr:erasure_receipt_json", args=[erasure.pk]))
    assert receipt_json.status_code == 200
    assert b'"reference"' in receipt_json.content
    if not pdf_available():
        pytest.skip("WeasyPrint cannot load here")
    pdf = client.get(reverse("gdpr:erasure_receipt_pdf", args=[erasure.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    try:
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True,
                              check=True).stdout.decode()
    except FileNotFoundError:
        return
    assert erasure.reference in text
    for value in (*PERSON_VALUES, str(scenario.person.public_id)):
        assert value not in text, value


def test_after_execution_the_request_page_and_its_scope_panel_show_nothing_of_the_person(
    client, dpo, second_dpo, erasure, scenario
):
    request_erasure_ask(request=erasure, acting_user=dpo)
    _api(second_dpo).post(f"{URL.format(pk=erasure.pk)}approve/")
    _api(dpo).post(f"{URL.format(pk=erasure.pk)}execute/")
    client.force_login(dpo)
    for url in (reverse("gdpr:request_detail", args=[erasure.pk]),
                reverse("gdpr:request_scope", args=[erasure.pk]),
                reverse("gdpr:erasure", args=[erasure.pk]),
                reverse("gdpr:erasure_receipt", args=[erasure.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for value in (*PERSON_VALUES, str(scenario.person.public_id)):
            assert value not in page, (url, value)
