"""Consents over the API: a customer's consents read and recorded, the contactable list a
marketing tool reads in bulk (restricted and objecting people left out), objection
requests executed and objections lifted; who may call what; the access pack's consents."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry, Objection
from gdpr.services.consents import objection_lift, objection_record
from gdpr.services.packs import SCHEMA_PATH, access_pack_build, pack_read
from gdpr.services.scope import request_scope_set
from rcu.models import Customer
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo
from tests.factories import TEST_ACTOR, ingest
from tests.gdpr.builders import access_request
from tests.gdpr.consent_world import (
    NEWSLETTER_EMAIL,
    a_no_copied_then_unmerged,
    consent_source,
    in_force,
    objection_lifter_of,
    tomorrow,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/gdpr/consents/"


@pytest.fixture
def crm(db):
    return consent_source("crm", department="marketing", trust_rank=1)


def person(external_id: str, last_name: str, optin: str = "oui", day: str = "01/02/2024", **values) -> dict:
    return {"id": external_id, "first_name": "Hélène", "last_name": last_name,
            "email": f"{last_name.lower()}@example.org", "mobile": "06 12 34 56 78",
            "updated": "2024-05-03 10:00", "optin_email": optin, "optin_date": day, **values}


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.public_id}/consents/"


def listed(user, **params) -> list[str]:
    response = api(user).get(LIST, {"purpose": "newsletter", "channel": "email", **params})
    assert response.status_code == 200, response.content
    return [row["last_name"] for row in response.json()["results"]]


# --- a customer's consents ----------------------------------------------------------------

def test_a_customers_consents_show_what_is_in_force_and_every_proof(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])
    response = api(dpo).post(url(record.customer), {
        "purpose": "newsletter", "channel": "email", "granted": False,
        "wording": "Formulaire de désabonnement v3",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["consents"] == [{"purpose": "newsletter", "channel": "email", "granted": False,
                                 "stated_at": body["consents"][0]["stated_at"]}]
    origins = [(s["origin"], s["granted"], s["source"], s["wording"]) for s in body["statements"]]
    assert origins == [("api", False, None, "Formulaire de désabonnement v3"), ("source", True, "crm", "")]
    assert api(dpo).get(url(record.customer)).json() == body
    assert AccessLogEntry.objects.filter(purpose="api_customer_consents",
                                         customer_public_id=str(record.customer.public_id)).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"purpose": "nonsense", "channel": "email", "granted": True, "wording": "v1"}, "purpose"),
    ({"purpose": "newsletter", "channel": "pigeon", "granted": True, "wording": "v1"}, "channel"),
    ({"purpose": "newsletter", "channel": "email", "granted": True}, "wording"),
    ({"purpose": "newsletter", "channel": "email", "granted": True, "wording": "v1",
      "stated_at": "2999-01-01T00:00:00Z"}, "stated_at"),
])
def test_a_wrong_statement_is_a_400_naming_the_field(crm, dpo, body, field):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])
    response = api(dpo).post(url(record.customer), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}
    assert [e["field"] for e in response.json()["errors"]] == [field]


# --- who may call what ----------------------------------------------------------------------

READERS = {"steward_marketing": 200, "steward_service_client": 404, "dpo": 200, "admin": 200,
           "auditor": 200, "outsider": 403}
WRITERS = {"steward_marketing": 201, "steward_service_client": 404, "dpo": 201, "admin": 403,
           "auditor": 403, "outsider": 403}
BULK = {"steward_marketing": 403, "steward_service_client": 403, "dpo": 200, "admin": 200,
        "auditor": 403, "outsider": 403}
OBJECTIONS = {"steward_marketing": 403, "steward_service_client": 403, "dpo": 200, "admin": 403,
              "auditor": 403, "outsider": 403}


@pytest.mark.parametrize("persona", sorted(READERS))
def test_permission_matrix_of_the_consent_endpoints(crm, personas, persona):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])
    user = personas[persona]
    assert api(user).get(url(record.customer)).status_code == READERS[persona]
    response = api(user).post(url(record.customer), {"purpose": "newsletter", "channel": "sms",
                                                     "granted": True, "wording": "v1"}, format="json")
    assert response.status_code == WRITERS[persona]
    assert api(user).get(LIST, {"purpose": "newsletter", "channel": "email"}).status_code == BULK[persona]
    assert api(user).get(LIST, {"purpose": "newsletter", "channel": "email", "export": "csv"}).status_code \
        == BULK[persona]
    objection = objection_record(customer=record.customer, reason="courrier", acting_user=TEST_ACTOR)
    lifted = api(user).post(f"/api/v1/gdpr/objections/{objection.pk}/lift/", {"reason": "retirée"},
                            format="json")
    assert lifted.status_code == OBJECTIONS[persona]
    subject_request = access_request(dpo=personas["dpo"], kind="objection")
    executed = api(user).post(f"/api/v1/gdpr/requests/{subject_request.pk}/objection/",
                              {"reason": "opposition"}, format="json")
    assert executed.status_code in ({409} if OBJECTIONS[persona] == 200 else {403, 404})


def test_lifting_an_objection_on_a_customer_the_caller_does_not_see_is_a_404(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])  # a marketing customer
    objection = objection_record(customer=record.customer, reason="courrier", acting_user=TEST_ACTOR)
    lift = f"/api/v1/gdpr/objections/{objection.pk}/lift/"
    other = api(objection_lifter_of("service-client")).post(lift, {"reason": "retirée"}, format="json")
    assert other.status_code == 404
    assert Objection.objects.get().lifted_at is None
    assert api(dpo).post(lift, {"reason": "retirée"}, format="json").status_code == 200
    assert Objection.objects.get().lifted_at is not None
    # The same rights in the customer's department lift it: the 404 was the department's.
    again = objection_record(customer=record.customer, reason="appel", acting_user=TEST_ACTOR)
    assert api(objection_lifter_of("marketing")).post(
        f"/api/v1/gdpr/objections/{again.pk}/lift/", {"reason": "retirée"}, format="json").status_code == 200


def test_after_an_unmerge_the_restored_customers_consents_show_the_proof_of_its_no(crm, dpo, steward_everywhere):
    shop = consent_source("shop", department="ecommerce", trust_rank=2)
    survivor, restored = a_no_copied_then_unmerged(crm, shop, undone_by=steward_everywhere)
    for customer in (restored, survivor):
        body = api(dpo).get(url(customer)).json()
        assert [c["granted"] for c in body["consents"] if (c["purpose"], c["channel"]) == ("newsletter", "email")] \
            == [False]
        assert [(s["origin"], s["granted"], s["wording"]) for s in body["statements"] if s["origin"] == "api"] \
            == [("api", False, "Désabonnement, formulaire v3")]


def test_anonymous_callers_are_refused(crm):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])
    assert api(None).get(url(record.customer)).status_code == 401
    assert api(None).get(LIST, {"purpose": "newsletter", "channel": "email"}).status_code == 401


def test_an_erased_or_unknown_customer(crm, dpo):
    response = api(dpo).get("/api/v1/customers/00000000-0000-0000-0000-000000000000/consents/")
    assert response.status_code == 404


# --- the contactable list --------------------------------------------------------------------

def test_the_contactable_list_leaves_out_withdrawn_restricted_and_objecting_people(crm, dpo):
    records = ingest(crm, [
        person("C1", "Aubert", optin_sms="oui"),
        person("C2", "Bernard", optin="non"),
        person("C3", "Caron"),  # restricted (art. 18)
        person("C4", "Dumas"),  # objects (art. 21), then a source says yes again
        person("C5", "Etienne", optin="", optin_sms="oui"),  # SMS only
    ])
    by_name = {r.customer.last_name: r.customer for r in records}
    Customer.objects.filter(pk=by_name["Caron"].pk).update(restricted_at=timezone.now())
    objection_record(customer=by_name["Dumas"], reason="lettre recommandée", acting_user=TEST_ACTOR)
    ingest(crm, [person("C4", "Dumas", day=tomorrow())])  # a later "yes" from the source
    assert in_force(by_name["Dumas"])[("newsletter", "email")] is True
    assert listed(dpo) == ["Aubert"]
    assert listed(dpo, purpose="offers", channel="sms") == ["Aubert", "Etienne"]


def test_once_the_objection_is_lifted_a_later_yes_lists_the_person_again(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Aubert")])
    objection = objection_record(customer=record.customer, reason="lettre", acting_user=TEST_ACTOR)
    ingest(crm, [person("C1", "Aubert", day=tomorrow())])  # a later "yes"
    assert listed(dpo) == []
    objection_lift(objection=objection, reason="La personne a retiré son opposition", acting_user=dpo)
    assert listed(dpo) == ["Aubert"]


def test_the_list_is_read_a_page_at_a_time_in_a_constant_number_of_queries(crm, dpo):
    ingest(crm, [person(f"C{i}", f"Nom{i:02d}") for i in range(7)])
    client = api(dpo)
    client.get(LIST, {"purpose": "newsletter", "channel": "email", "limit": 1})  # the user's permissions cached
    seen, after, pages = [], "", 0
    while True:
        params = {"purpose": "newsletter", "channel": "email", "limit": 3, **({"after": after} if after else {})}
        with CaptureQueriesContext(connection) as queries:
            body = client.get(LIST, params).json()
        pages += 1
        if pages == 1:
            first = len(queries)
        else:
            assert len(queries) == first  # no query per row
        seen += [row["last_name"] for row in body["results"]]
        if body["next"] is None:
            break
        after = body["next"]
    assert seen == [f"Nom{i:02d}" for i in range(7)] and pages == 3
    assert set(body["results"][0]) == {"customer", "granted_at", "civility", "first_name", "last_name", "email"}


def test_the_whole_list_as_csv(crm, dpo):
    ingest(crm, [person("C1", "Aubert"), person("C2", "Bernard", optin="non"), person("C3", "Caron")])
    response = api(dpo).get(LIST, {"purpose": "newsletter", "channel": "email", "export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["customer", "civility", "first_name", "last_name", "email", "granted_at"]
    assert [r[3] for r in rows[1:]] == ["Aubert", "Caron"]
    assert AccessLogEntry.objects.filter(purpose="export_contactable").exists()


def test_a_wrong_purpose_or_channel_is_a_400(dpo, crm):
    response = api(dpo).get(LIST, {"purpose": "nonsense", "channel": "email"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "purpose"
    assert api(dpo).get(LIST, {"purpose": "newsletter"}).status_code == 400


# --- objection requests -------------------------------------------------------------------------

def test_executing_an_objection_request_withdraws_every_marketing_consent_of_the_person(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Lefèvre", optin_sms="oui")])
    subject_request = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=subject_request, customer_public_ids=[record.customer.public_id],
                      record_ids=[], acting_user=dpo)
    response = api(dpo).post(f"/api/v1/gdpr/requests/{subject_request.pk}/objection/",
                             {"reason": "Ne souhaite plus recevoir de sollicitations"}, format="json")
    assert response.status_code == 200, response.content
    objection = Objection.objects.get(holder=record.customer)
    assert objection.request == subject_request and objection.reason.startswith("Ne souhaite")
    assert in_force(record.customer)[("newsletter", "email")] is False
    assert in_force(record.customer)[("offers", "sms")] is False
    assert subject_request.steps.filter(action="objection_recorded").exists()
    statements = api(dpo).get(url(record.customer)).json()["statements"]
    assert {s["request"] for s in statements if s["origin"] == "objection"} == {subject_request.reference}
    # Another kind of request records no objection.
    other = access_request(dpo=dpo)
    assert api(dpo).post(f"/api/v1/gdpr/requests/{other.pk}/objection/", {"reason": "x"},
                         format="json").status_code == 409


def test_executing_an_objection_request_again_is_a_409_saying_everyone_already_objects(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Lefèvre")])
    subject_request = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=subject_request, customer_public_ids=[record.customer.public_id],
                      record_ids=[], acting_user=dpo)
    execute = f"/api/v1/gdpr/requests/{subject_request.pk}/objection/"
    assert api(dpo).post(execute, {"reason": "lettre"}, format="json").status_code == 200
    again = api(dpo).post(execute, {"reason": "lettre"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409, again.content
    assert again.json()["detail"] == "Everyone in scope already objects: nothing was recorded."
    assert Objection.objects.filter(holder=record.customer).count() == 1


# --- the access pack --------------------------------------------------------------------------

def test_the_access_pack_holds_the_persons_consents_and_objections(crm, dpo):
    (record,) = ingest(crm, [person("C1", "Lefèvre", email="helene.lefevre@orange.fr")])
    objection_record(customer=record.customer, reason="lettre du 3 mars", acting_user=dpo)
    subject_request = access_request(dpo=dpo)
    request_scope_set(request=subject_request, customer_public_ids=[record.customer.public_id],
                      record_ids=[], acting_user=dpo)
    document = pack_read(access_pack_build(request=subject_request, acting_user=dpo))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    consents = document["consents"]
    assert {(c["purpose"], c["channel"], c["granted"]) for c in consents["in_force"]} >= {
        ("newsletter", "email", False)}
    source_said = [s for s in consents["statements"] if s["origin"] == "source"]
    assert [(s["source"], s["external_id"], s["granted"]) for s in source_said] == [("crm", "C1", True)]
    assert {s["by"] for s in consents["statements"] if s["origin"] == "objection"} == {"a member of staff"}
    assert [o["reason"] for o in consents["objections"]] == ["lettre du 3 mars"]
    assert NEWSLETTER_EMAIL  # the mapping the CRM's consent column uses


def pack_statements(dpo, customer: Customer) -> list[tuple[str, bool, str]]:
    subject_request = access_request(dpo=dpo)
    request_scope_set(request=subject_request, customer_public_ids=[customer.public_id], record_ids=[],
                      acting_user=dpo)
    document = pack_read(access_pack_build(request=subject_request, acting_user=dpo))
    return [(s["origin"], s["granted"], s["wording"]) for s in document["consents"]["statements"]
            if s["origin"] == "api"]


def test_the_access_pack_shows_a_no_once_merged_and_on_each_side_once_unmerged(crm, dpo, steward_everywhere):
    shop = consent_source("shop", department="ecommerce", trust_rank=2)
    (a,) = ingest(crm, [person("C1", "Lefèvre")])
    (b,) = ingest(shop, [person("S1", "Lefèvre")])
    decision = customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                               acting_user=TEST_ACTOR)
    survivor = Customer.objects.get(pk=a.customer_id)
    api(dpo).post(url(survivor), {"purpose": "newsletter", "channel": "email", "granted": False,
                                  "wording": "Désabonnement, formulaire v3"}, format="json")
    said = [("api", False, "Désabonnement, formulaire v3")]
    assert pack_statements(dpo, survivor) == said  # the copy on the customer merged in is not shown twice
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)
    # Unmerged, the shop's customer keeps the "no" (a copy): its pack shows the proof.
    assert pack_statements(dpo, Customer.objects.get(pk=b.customer_id)) == said
    assert pack_statements(dpo, Customer.objects.get(pk=a.customer_id)) == said
