"""The subject requests' API: the DPO records and handles requests; refusals come in the
API's one error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from gdpr import deadlines
from gdpr.services.requests import subject_request_create
from rcu.normalisation.dates import paris_today

pytestmark = pytest.mark.django_db
URL = "/api/v1/gdpr/requests/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _record(api, **body):
    body.setdefault("kind", "access")
    body.setdefault("subject", {"email": "helene.lefevre@orange.fr"})
    return api.post(URL, body, format="json")


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and body["code"] == code
    return body


def test_the_dpo_records_a_request_and_reads_its_deadline_and_trail(dpo):
    api = _api(dpo)
    response = _record(api, subject={"email": "Helene.Lefevre@Orange.fr", "first_name": "Hélène"},
                       received_on="2026-01-31", channel="letter", language="en",
                       reply_to="12 av. Victor Hugo, Paris")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["reference"] == f"DSR-2026-{created['id']:05d}"
    assert (created["kind"], created["state"]) == ("access", "received")
    assert (created["received_on"], created["due_on"]) == ("2026-01-31", "2026-03-02")
    assert created["extended_due_on"] is None and created["deadline"] == "2026-03-02"
    assert created["subject"] == {"email": "Helene.Lefevre@Orange.fr", "first_name": "Hélène"}
    assert [s["action"] for s in created["steps"]] == ["received"]
    assert created["steps"][0]["by"] == "dpo" and created["possible_duplicates"] == []

    again = _record(api, subject={"email": "helene.lefevre@orange.fr"}).json()
    assert again["received_on"] == paris_today().isoformat()  # the default
    assert again["possible_duplicates"] == [
        {"id": created["id"], "reference": created["reference"], "kind": "access",
         "state": "received"},
    ]
    assert api.get(f"{URL}{created['id']}/").json()["id"] == created["id"]


def test_a_request_without_any_identifier_or_of_an_unknown_kind_is_a_400_naming_the_field(dpo):
    api = _api(dpo)
    body = _assert_error_shape(_record(api, subject={}), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["subject"]
    body = _assert_error_shape(_record(api, kind="everything"), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["kind"]
    future = (paris_today() + timedelta(days=2)).isoformat()
    body = _assert_error_shape(_record(api, received_on=future), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["received_on"]


def test_the_list_is_by_deadline_and_filters_by_kind_state_and_overdue(dpo):
    today = paris_today()
    late = subject_request_create(kind="access", received_on=today - timedelta(days=50),
                                  subject={"email": "a@example.fr"}, acting_user=dpo)
    fresh = subject_request_create(kind="erasure", received_on=today,
                                   subject={"email": "b@example.fr"}, acting_user=dpo)
    refused = subject_request_create(kind="access", received_on=today,
                                     subject={"email": "c@example.fr"}, acting_user=dpo)
    api = _api(dpo)
    api.post(f"{URL}{refused.pk}/refuse/", {"reason": "Pas de données."}, format="json")

    def ids(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [late.pk, fresh.pk]  # open ones, soonest deadline first
    assert ids(kind="erasure") == [fresh.pk]
    assert ids(overdue="true") == [late.pk]
    assert ids(overdue="false") == [fresh.pk]
    assert ids(state="closed") == [refused.pk]
    assert ids(state="refused") == [refused.pk]
    assert set(ids(state="all")) == {late.pk, fresh.pk, refused.pk}
    body = _assert_error_shape(api.get(URL, {"state": "lost"}), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["state"]
    assert api.get(URL).json()["results"][0]["overdue"] is True


def test_transitions_follow_the_state_machine_and_a_wrong_one_is_a_409(dpo):
    api = _api(dpo)
    pk = _record(api).json()["id"]
    moved = api.post(f"{URL}{pk}/transition/", {"state": "identity_to_verify", "note": "CNI"},
                     format="json")
    assert moved.status_code == 200 and moved.json()["state"] == "identity_to_verify"
    assert [n["text"] for n in moved.json()["notes"]] == ["CNI"]
    assert [letter["kind"] for letter in moved.json()["letters"]] == ["identity"]
    _assert_error_shape(
        api.post(f"{URL}{pk}/transition/", {"state": "done"}, format="json"), 409, "conflict")
    assert api.get(f"{URL}{pk}/").json()["state"] == "identity_to_verify"  # nothing written
    _assert_error_shape(
        api.post(f"{URL}{pk}/transition/", {"state": "refused"}, format="json"), 400, "invalid")
    verified = api.post(f"{URL}{pk}/identity/", {}, format="json").json()
    assert verified["state"] == "in_progress" and verified["identity_verified_by"] == "dpo"
    done = api.post(f"{URL}{pk}/transition/", {"state": "done"}, format="json").json()
    assert done["state"] == "done" and done["closed_at"] is not None


def test_extend_sets_three_months_once_and_is_a_409_past_the_first_deadline(dpo):
    api = _api(dpo)
    received = paris_today() - timedelta(days=5)
    pk = _record(api, received_on=received.isoformat()).json()["id"]
    _assert_error_shape(api.post(f"{URL}{pk}/extend/", {}, format="json"), 400, "invalid")
    extended = api.post(f"{URL}{pk}/extend/", {"reason": "Quatre sources."}, format="json")
    assert extended.status_code == 200
    assert extended.json()["extended_due_on"] == deadlines.extended_due_on(received).isoformat()
    assert extended.json()["deadline"] == extended.json()["extended_due_on"]
    assert [letter["kind"] for letter in extended.json()["letters"]] == ["extension"]
    body = _assert_error_shape(
        api.post(f"{URL}{pk}/extend/", {"reason": "again"}, format="json"), 409, "conflict")
    assert body["errors"] == []

    late = _record(api, received_on="2025-01-02").json()["id"]
    body = _assert_error_shape(
        api.post(f"{URL}{late}/extend/", {"reason": "too late"}, format="json"), 409, "conflict")
    assert "2025-02-03" in body["detail"]  # 2 February 2025 is a Sunday


def test_refuse_needs_a_reason_and_drafts_the_letter_naming_the_cnil(dpo):
    api = _api(dpo)
    pk = _record(api).json()["id"]
    body = _assert_error_shape(api.post(f"{URL}{pk}/refuse/", {"reason": ""}, format="json"),
                               400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["reason"]
    refused = api.post(f"{URL}{pk}/refuse/", {"reason": "Demande répétitive."}, format="json")
    assert refused.json()["state"] == "refused"
    assert refused.json()["refusal_reason"] == "Demande répétitive."
    (letter,) = refused.json()["letters"]
    assert letter["kind"] == "refusal" and "CNIL" in letter["body"]
    _assert_error_shape(api.post(f"{URL}{pk}/refuse/", {"reason": "x"}, format="json"),
                        409, "conflict")


def test_letters_are_drafted_edited_and_marked_sent_then_kept_as_sent(dpo):
    api = _api(dpo)
    pk = _record(api).json()["id"]
    letter = api.post(f"{URL}{pk}/letters/", {"kind": "acknowledgement"}, format="json").json()
    url = f"{URL}{pk}/letters/{letter['id']}/"
    edited = api.put(url, {"subject_line": "Votre demande", "body": "Bonjour."}, format="json")
    assert edited.status_code == 200 and edited.json()["body"] == "Bonjour."
    sent = api.post(f"{url}sent/", {}, format="json").json()
    assert sent["sent_on"] == paris_today().isoformat() and sent["sent_by"] == "dpo"
    _assert_error_shape(api.put(url, {"subject_line": "x", "body": "y"}, format="json"),
                        409, "conflict")
    assert [row["sent_on"] for row in api.get(f"{URL}{pk}/letters/").json()] == [sent["sent_on"]]
    assert api.post(f"{URL}{pk}/notes/", {"text": "Appelée."}, format="json").status_code == 201


def test_a_letter_of_another_request_is_not_found(dpo):
    api = _api(dpo)
    first, second = _record(api).json()["id"], _record(api).json()["id"]
    letter = api.post(f"{URL}{first}/letters/", {"kind": "answer"}, format="json").json()
    _assert_error_shape(api.post(f"{URL}{second}/letters/{letter['id']}/sent/", {}, format="json"),
                        404, "not_found")


# --- Who may ----------------------------------------------------------------------


@pytest.fixture
def a_request(dpo):
    return subject_request_create(kind="access", received_on=paris_today(),
                                  subject={"email": "x@example.fr"}, acting_user=dpo)


def _calls(pk: int):
    return [
        ("get", URL, None), ("post", URL, {"kind": "access", "subject": {"email": "y@example.fr"}}),
        ("get", f"{URL}{pk}/", None),
        ("post", f"{URL}{pk}/transition/", {"state": "in_progress"}),
        ("post", f"{URL}{pk}/identity/", {}),
        ("post", f"{URL}{pk}/extend/", {"reason": "r"}),
        ("post", f"{URL}{pk}/refuse/", {"reason": "r"}),
        ("post", f"{URL}{pk}/notes/", {"text": "t"}),
        ("get", f"{URL}{pk}/letters/", None),
        ("post", f"{URL}{pk}/letters/", {"kind": "answer"}),
    ]


@pytest.mark.parametrize("persona", ["steward_marketing", "auditor", "admin", "outsider"])
def test_nobody_but_the_dpo_may_call_the_requests_api(personas, a_request, persona):
    api = _api(personas[persona])
    for method, url, body in _calls(a_request.pk):
        response = getattr(api, method)(url, body, format="json")
        _assert_error_shape(response, 403, "permission_denied")
    a_request.refresh_from_db()
    assert a_request.state == "received" and a_request.steps.count() == 1


def test_anonymous_callers_are_refused_and_the_dpo_needs_no_staff_rights(dpo, a_request):
    for method, url, body in _calls(a_request.pk):
        response = getattr(APIClient(), method)(url, body, format="json")
        _assert_error_shape(response, 401, "not_authenticated")
    assert not dpo.is_staff and not dpo.is_superuser
    api = _api(dpo)
    for method, url, body in _calls(a_request.pk):
        assert getattr(api, method)(url, body, format="json").status_code in (200, 201), url


def test_structured_identifiers_are_kept_for_finding_the_person(dpo):
    api = _api(dpo)
    created = _record(api, subject={
        "customer_number": {"source": "eshop", "external_id": "ES-3003"},
        "address": {"address_line1": "12 bis av. Victor Hugo", "postcode": "75016"},
        "mobile": " 06 12 34 56 78 ", "email": "",
    })
    assert created.status_code == 201, created.content
    assert created.json()["subject"] == {
        "customer_number": {"source": "eshop", "external_id": "ES-3003"},
        "address": {"address_line1": "12 bis av. Victor Hugo", "postcode": "75016"},
        "mobile": "06 12 34 56 78",
    }
    body = _assert_error_shape(_record(api, subject={"customer_number": {"source": "crm"}}),
                               400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["subject.customer_number.external_id"]
