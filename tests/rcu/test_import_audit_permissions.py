"""Who may audit a source's files: whoever may import into it, nobody else.

Marketing owns the CRM. The admin and marketing's steward may audit a CRM file and
read its reports; the service-client steward does not see the CRM (404); the auditor
and the DPO see it but may not import into it (403), the outsider sees nothing
(404); anonymous people are sent to sign in (UI) or
turned away (API, 401). The same rules hold for every page and endpoint.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from rcu.models import ImportAudit
from rcu.services.import_audits import import_audit_create, import_audit_run

pytestmark = pytest.mark.django_db

CSV = b"id;first_name;last_name\nX1;Zoe;Garnier\n;Sans;Id\n"
# persona → expected status: UI (GET pages), API
ALLOWED = {"admin_user", "steward_marketing"}
EXPECTED_UI = {
    "admin_user": 200, "steward_marketing": 200, "steward_service_client": 404,
    "auditor": 403, "dpo": 403, "outsider": 404, "anonymous": 302,
}
EXPECTED_API = {**EXPECTED_UI, "anonymous": 401}
PERSONAS = list(EXPECTED_UI)


@pytest.fixture
def crm_audit(crm, admin_user, tmp_path) -> ImportAudit:
    path = tmp_path / "crm.csv"
    path.write_bytes(CSV)
    return import_audit_run(audit=import_audit_create(source=crm, acting_user=admin_user, path=path))


@pytest.fixture
def people(steward_marketing, steward_service_client, auditor, dpo, outsider, admin_user):
    return None


def ui_client(client, request, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def api_client(request, persona) -> APIClient:
    api = APIClient()
    if persona != "anonymous":
        api.force_authenticate(request.getfixturevalue(persona))
    return api


@pytest.mark.parametrize("page", ["list", "detail", "compare"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_pages(client, request, people, crm_audit, persona, page):
    url = {
        "list": reverse("audit_list", args=["crm"]),
        "detail": reverse("audit_detail", args=["crm", crm_audit.pk]),
        "compare": reverse("audit_compare", args=["crm"]),
    }[page]
    response = ui_client(client, request, persona).get(url)
    assert response.status_code == EXPECTED_UI[persona]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_upload_page(client, request, people, crm, persona):
    response = ui_client(client, request, persona).post(
        reverse("audit_list", args=["crm"]), {"file": SimpleUploadedFile("f.csv", CSV)}
    )
    assert response.status_code == (302 if persona in ALLOWED | {"anonymous"} else EXPECTED_UI[persona])
    assert ImportAudit.objects.exists() == (persona in ALLOWED)


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_api_post(request, people, crm, persona):
    response = api_client(request, persona).post(
        "/api/v1/sources/crm/audits/", {"file": SimpleUploadedFile("f.csv", CSV)},
        format="multipart",
    )
    assert response.status_code == (201 if persona in ALLOWED else EXPECTED_API[persona])
    assert ImportAudit.objects.exists() == (persona in ALLOWED)


@pytest.mark.parametrize("endpoint", ["list", "detail"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_api_reads(request, people, crm_audit, persona, endpoint):
    url = "/api/v1/sources/crm/audits/" + (f"{crm_audit.pk}/" if endpoint == "detail" else "")
    response = api_client(request, persona).get(url)
    assert response.status_code == EXPECTED_API[persona]


def test_an_audit_is_read_only_under_its_own_source(request, admin_user, crm_audit, service_client_source):
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get(f"/api/v1/sources/service_client/audits/{crm_audit.pk}/").status_code == 404


def test_the_source_page_offers_the_audit_to_whoever_may_import(
    client, crm, steward_marketing, auditor
):
    client.force_login(steward_marketing)
    assert reverse("audit_list", args=["crm"]) in client.get(reverse("source_detail", args=["crm"])).content.decode()
    client.force_login(auditor)
    assert reverse("audit_list", args=["crm"]) not in client.get(reverse("source_detail", args=["crm"])).content.decode()
