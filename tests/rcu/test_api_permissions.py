"""Who may call what on the REST API: every endpoint, every persona.

Marketing owns the CRM, service client owns the customer-service base. A steward
sees and feeds their department's source only; the DPO and the auditor read
everything and feed nothing; the admin does everything; the outsider sees empty
lists and gets 404 everywhere else; anonymous callers are turned away.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry
from rcu.models import Customer, ImportJob, SourceRecord
from rcu.services.tokens import api_token_create
from tests.factories import TEST_ACTOR

CRM, SC = "crm", "service_client"
PERSONAS = [
    "steward_marketing", "steward_service_client", "dpo", "admin_user", "auditor", "outsider",
    "anonymous",
]
# persona → sources it may see / may send data into
SEES = {
    "steward_marketing": {CRM},
    "steward_service_client": {SC},
    "dpo": {CRM, SC},
    "admin_user": {CRM, SC},
    "auditor": {CRM, SC},
    "outsider": set(),
}
FEEDS = {
    "steward_marketing": {CRM},
    "steward_service_client": {SC},
    "admin_user": {CRM, SC},
}


@dataclass
class World:
    """One object of each kind in each source, by source code."""

    customers: dict[str, Customer]
    records: dict[str, SourceRecord]
    jobs: dict[str, ImportJob]


@pytest.fixture
def world(crm, service_client_source, crm_customer, service_client_customer) -> World:
    return World(
        customers={CRM: crm_customer, SC: service_client_customer},
        records={CRM: crm_customer.records.get(), SC: service_client_customer.records.get()},
        jobs={
            CRM: ImportJob.objects.create(source=crm, file_name="crm.csv"),
            SC: ImportJob.objects.create(source=service_client_source, file_name="sc.csv"),
        },
    )


def client_for(request, persona: str) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(request.getfixturevalue(persona))
    return client


# --- Lists: 200 with only what the persona may see ----------------------------

LISTS = {
    "/api/v1/sources/": lambda world, code: code,
    "/api/v1/records/": lambda world, code: world.records[code].pk,
    "/api/v1/customers/": lambda world, code: str(world.customers[code].public_id),
    "/api/v1/imports/": lambda world, code: world.jobs[code].pk,
}
LIST_KEYS = {
    "/api/v1/sources/": "code",
    "/api/v1/records/": "id",
    "/api/v1/customers/": "public_id",
    "/api/v1/imports/": "id",
}


@pytest.mark.parametrize("url", list(LISTS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_only_visible_objects(request, world, persona, url):
    response = client_for(request, persona).get(url)

    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = {item[LIST_KEYS[url]] for item in response.json()["results"]}
    for code in (CRM, SC):
        assert (LISTS[url](world, code) in listed) == (code in SEES[persona]), code


# --- Details: 200 if visible, 404 otherwise -----------------------------------

DETAILS = {
    "source": lambda world, code: f"/api/v1/sources/{code}/",
    "record": lambda world, code: f"/api/v1/records/{world.records[code].pk}/",
    "customer": lambda world, code: f"/api/v1/customers/{world.customers[code].public_id}/",
    "import": lambda world, code: f"/api/v1/imports/{world.jobs[code].pk}/",
}


def _detail_expectation(persona: str, code: str) -> int:
    if persona == "anonymous":
        return 401
    return 200 if code in SEES[persona] else 404


@pytest.mark.parametrize(
    ("persona", "kind", "code", "expected"),
    [
        pytest.param(persona, kind, code, _detail_expectation(persona, code), id=f"{persona}-{kind}-{code}")
        for persona in PERSONAS
        for kind in DETAILS
        for code in (CRM, SC)
    ],
)
def test_detail_status(request, world, persona, kind, code, expected):
    response = client_for(request, persona).get(DETAILS[kind](world, code))

    assert response.status_code == expected


def test_unknown_objects_are_404_even_for_the_admin(admin_user, world):
    client = APIClient()
    client.force_authenticate(admin_user)

    for url in [
        "/api/v1/sources/nope/",
        "/api/v1/records/999999/",
        "/api/v1/customers/00000000-0000-0000-0000-000000000000/",
        "/api/v1/customers/not-a-uuid/",
        "/api/v1/imports/999999/",
        "/api/v1/sources/nope/records/",
    ]:
        method = client.post if url.endswith("/records/") else client.get
        assert method(url, {"id": "X"}, format="json").status_code == 404, url


# --- Writes: 201/202 if allowed, 403 if visible only, 404 if not visible ------

def _write_expectation(persona: str, code: str, success: int) -> int:
    if persona == "anonymous":
        return 401
    if code not in SEES[persona]:
        return 404
    return success if code in FEEDS.get(persona, set()) else 403


def _record_payload() -> dict:
    return {"id": "API-1", "first_name": "Camille", "last_name": "Roux", "email": "camille@roux.fr"}


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "records.csv", b"id;first_name;last_name\nF-1;Paul;Durand\n", content_type="text/csv"
    )


@pytest.mark.parametrize(
    ("persona", "code", "expected"),
    [
        pytest.param(persona, code, _write_expectation(persona, code, 201), id=f"{persona}-{code}")
        for persona in PERSONAS
        for code in (CRM, SC)
    ],
)
def test_post_record_status(request, world, persona, code, expected):
    response = client_for(request, persona).post(
        f"/api/v1/sources/{code}/records/", _record_payload(), format="json"
    )

    assert response.status_code == expected
    stored = SourceRecord.objects.filter(source__code=code, external_id="API-1").exists()
    assert stored == (expected == 201)


@pytest.mark.parametrize(
    ("persona", "code", "expected"),
    [
        pytest.param(persona, code, _write_expectation(persona, code, 202), id=f"{persona}-{code}")
        for persona in PERSONAS
        for code in (CRM, SC)
    ],
)
def test_post_import_status(request, settings, tmp_path, world, persona, code, expected):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(request, persona).post(
        f"/api/v1/sources/{code}/imports/", {"file": _upload()}, format="multipart"
    )

    assert response.status_code == expected
    jobs = ImportJob.objects.filter(source__code=code, file_name="records.csv")
    assert jobs.exists() == (expected == 202)


def test_steward_source_list_says_what_they_may_feed(steward_marketing, dpo, world):
    client = APIClient()
    client.force_authenticate(steward_marketing)
    (crm,) = client.get("/api/v1/sources/").json()["results"]
    assert crm["code"] == CRM
    assert crm["can_ingest"] is True
    assert crm["department"] == {"code": "marketing", "name": "marketing"}
    assert [m["attribute"] for m in crm["mappings"]][:3] == ["civility", "first_name", "last_name"]

    client.force_authenticate(dpo)
    assert client.get(f"/api/v1/sources/{CRM}/").json()["can_ingest"] is False


# --- Authentication -----------------------------------------------------------

def test_token_authentication_end_to_end(steward_marketing, world):
    key = api_token_create(user=steward_marketing, acting_user=TEST_ACTOR).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    listed = client.get("/api/v1/customers/")
    created = client.post("/api/v1/sources/crm/records/", _record_payload(), format="json")
    refused = client.post("/api/v1/sources/service_client/records/", _record_payload(), format="json")

    assert listed.status_code == 200
    assert [c["public_id"] for c in listed.json()["results"]] == [str(world.customers[CRM].public_id)]
    assert AccessLogEntry.objects.filter(user=steward_marketing, purpose="api_customer_list").count() == 1
    assert created.status_code == 201
    record = SourceRecord.objects.get(source__code=CRM, external_id="API-1")
    assert record.history.earliest("history_id").history_user == steward_marketing
    assert refused.status_code == 404


def test_wrong_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert client.get("/api/v1/sources/").status_code == 401


def test_session_authentication_needs_csrf_for_writes(steward_marketing, password, world):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=steward_marketing.username, password=password)

    assert client.get("/api/v1/sources/crm/").status_code == 200
    response = client.post("/api/v1/sources/crm/records/", _record_payload(), format="json")
    assert response.status_code == 403
    assert not SourceRecord.objects.filter(external_id="API-1").exists()
