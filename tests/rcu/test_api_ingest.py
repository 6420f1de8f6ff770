"""Sending records and files through the REST API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from rcu.models import Customer, ImportJob, SourceRecord
from tests.rcu.refusals import refusals, refused_fields

URL = "/api/v1/sources/crm/records/"
PAYLOAD = {
    "id": "CRM-2001",
    "civility": "Mme",
    "first_name": "Hélène",
    "last_name": "Lefèvre",
    "email": "Helene.Lefevre@Orange.FR",
    "phone": "01 42 11 22 33",
    "mobile": "06.12.34.56.78",
    "postcode": "75016",
    "city": "Paris",
    "updated": "2024-05-03 10:00",
}



@pytest.fixture
def api(crm, steward_marketing) -> APIClient:
    client = APIClient()
    client.force_authenticate(steward_marketing)
    return client


def test_new_record_creates_a_golden_customer_with_normalised_values(api, steward_marketing):
    response = api.post(URL, PAYLOAD, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created"
    assert body["source"] == "crm"
    assert body["external_id"] == "CRM-2001"
    assert body["quality_flags"] == []
    assert body["attributes"]["email"] == "helene.lefevre@orange.fr"
    customer = Customer.objects.get(public_id=body["customer_id"])
    assert customer.email == "helene.lefevre@orange.fr"
    assert customer.phone == "+33142112233"
    assert customer.mobile == "+33612345678"
    assert customer.provenance["email"]["external_id"] == "CRM-2001"
    record = SourceRecord.objects.get(pk=body["record_id"])
    assert record.customer == customer
    assert record.raw == PAYLOAD  # kept exactly as received
    # Stored on behalf of the caller, then given its customer by RCU's own matching.
    stored, linked = record.history.order_by("history_id")
    assert (stored.history_type, stored.history_user) == ("+", steward_marketing)
    assert (linked.history_type, linked.history_user) == ("~", None)
    assert linked.history_change_reason == "real-time matching: ingest"


def test_sending_the_same_record_again_changes_nothing(api):
    first = api.post(URL, PAYLOAD, format="json").json()

    response = api.post(URL, PAYLOAD, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "unchanged"
    assert response.json()["customer_id"] == first["customer_id"]
    assert SourceRecord.objects.count() == 1
    assert Customer.objects.count() == 1
    # Created, then linked to its customer by matching; the second send adds nothing.
    assert SourceRecord.objects.get().history.count() == 2


def test_a_changed_record_is_updated_and_its_history_shows_it(api):
    first = api.post(URL, PAYLOAD, format="json").json()

    response = api.post(URL, {**PAYLOAD, "email": "h.lefevre@Free.fr"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "updated"
    assert body["customer_id"] == first["customer_id"]
    assert body["attributes"]["email"] == "h.lefevre@free.fr"
    record = SourceRecord.objects.get()
    # Created, linked by matching, then changed.
    assert [h.history_type for h in record.history.order_by("history_id")] == ["+", "~", "~"]
    assert record.history.order_by("history_id").last().attributes["email"] == "h.lefevre@free.fr"
    assert Customer.objects.get().email == "h.lefevre@free.fr"


def test_quality_problems_are_reported_but_the_record_is_kept(api):
    response = api.post(URL, {**PAYLOAD, "email": "helene@@orange"}, format="json")

    assert response.status_code == 201
    assert "email.invalid" in response.json()["quality_flags"]
    assert "email" not in response.json()["attributes"]


@pytest.mark.parametrize("external_id", [None, "", "   "])
def test_missing_external_id_is_refused_naming_the_field(api, external_id):
    payload = {k: v for k, v in PAYLOAD.items() if k != "id"}
    if external_id is not None:
        payload["id"] = external_id

    response = api.post(URL, payload, format="json")

    assert response.status_code == 400
    assert refusals(response) == {"id": ["missing external id"]}
    assert not SourceRecord.objects.exists()
    assert not Customer.objects.exists()


def test_a_nested_value_is_refused_naming_the_field(api):
    response = api.post(URL, {**PAYLOAD, "email": {"home": "a@b.fr"}}, format="json")

    assert response.status_code == 400
    assert list(refusals(response)) == ["email"]
    assert not SourceRecord.objects.exists()


@pytest.mark.parametrize("body", ['[{"id": "CRM-1"}]', '"CRM-1"', "42", "null"])
def test_a_body_that_is_not_an_object_is_refused(api, body):
    response = api.generic("POST", URL, body, content_type="application/json")

    assert response.status_code == 400
    assert list(refusals(response)) == [""]
    assert "object" in refusals(response)[""][0]
    assert not SourceRecord.objects.exists()


def test_malformed_json_is_refused(api):
    response = api.generic("POST", URL, '{"id": "CRM-1",', content_type="application/json")

    assert response.status_code == 400
    assert not SourceRecord.objects.exists()


def test_only_json_is_accepted(api):
    response = api.post(URL, PAYLOAD)  # multipart form

    assert response.status_code == 415
    assert not SourceRecord.objects.exists()


def test_an_inactive_source_refuses_records(api, crm):
    crm.active = False
    crm.save()

    response = api.post(URL, PAYLOAD, format="json")

    assert response.status_code == 400
    assert "inactive" in refusals(response)[""][0]
    assert not SourceRecord.objects.exists()


# --- Files --------------------------------------------------------------------

CSV = (
    "id;civility;first_name;last_name;birth_date;email;phone;mobile;address_line1;address_line2;"
    "postcode;city;country;updated\n"
    "F-1;M.;Paul;Durand;1980-02-01;Paul.Durand@Laposte.net;;06 11 22 33 44;3 rue des Lilas;;"
    "69003;Lyon;FR;2024-01-02 09:00\n"
    ";M.;Sans;Identifiant;;x@y.fr;;;;;;;;\n"
    "F-2;Mme;Zoé;Da Silva;;zoe@free.fr;;+33 7 11 22 33 44;;;13001;Marseille;FR;2024-01-03 09:00\n"
).encode()


def test_an_uploaded_file_becomes_a_job_that_imports_its_rows(
    api, settings, tmp_path, django_capture_on_commit_callbacks, steward_marketing
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("crm.csv", CSV, content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/sources/crm/imports/", {"file": upload}, format="multipart")

    assert response.status_code == 202
    queued = response.json()
    assert queued["source"] == "crm"
    assert queued["file_name"] == "crm.csv"
    assert queued["created_by"] == steward_marketing.username
    job = api.get(f"/api/v1/imports/{queued['id']}/").json()
    assert job["status"] == ImportJob.Status.SUCCEEDED, job["message"]
    assert (job["created_count"], job["rejected_count"]) == (2, 1)
    assert set(SourceRecord.objects.values_list("external_id", flat=True)) == {"F-1", "F-2"}


def test_an_upload_without_a_file_is_refused(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = api.post("/api/v1/sources/crm/imports/", {}, format="multipart")

    assert refused_fields(response) == ["file"]
    assert not ImportJob.objects.exists()
