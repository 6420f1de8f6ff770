"""Golden customers and source records through the REST API: search, merged ids,
provenance, what each department sees, the GDPR access log, and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry
from rcu.models import Customer, SourceRecord
from rcu.services.customers import customers_recompute
from tests.factories import TEST_ACTOR, ingest
from tests.rcu.refusals import refused_fields

CUSTOMERS = "/api/v1/customers/"



def client_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def listed_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["public_id"] for c in response.json()["results"]]


def link(record: SourceRecord, customer: Customer) -> None:
    """What a merge does to the record and the customer it leaves (set up by hand)."""
    retired = record.customer
    SourceRecord.objects.filter(pk=record.pk).update(customer=customer)
    Customer.objects.filter(pk=retired.pk).update(merged_into=customer)
    customers_recompute(customer_ids=[customer.pk], acting_user=TEST_ACTOR)


# --- Search -------------------------------------------------------------------

@pytest.fixture
def two_customers(crm_customer, service_client_customer):
    return crm_customer, service_client_customer


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({"q": "HELENE.LEFEVRE@orange.fr"}, "crm"),
        ({"q": "75016"}, "crm"),
        ({"q": "06 12 34 56 78"}, "crm"),
        ({"phone": "+33 6 12 34 56 78"}, "crm"),
        ({"q": "lefevre"}, "crm"),
        ({"q": "jean pierre martin"}, "sc"),
        ({"q": "MARTIN Jean Pierre"}, "sc"),
        ({"name": "Martin"}, "sc"),
        ({"name": "hél lef"}, "crm"),
        ({"email": "JP.Martin@Free.fr"}, "sc"),
        ({"phone": "01.42.11.22.33"}, "crm"),
        ({"postcode": "69 003"}, "sc"),
        ({"name": "Lefèvre", "postcode": "75016"}, "crm"),
        ({"name": "Lefèvre", "postcode": "69003"}, None),
        ({"email": "nobody@example.fr"}, None),
        ({"phone": "not a phone"}, None),
        ({}, "both"),
    ],
)
def test_search_filters(dpo, two_customers, params, who):
    crm_customer, sc_customer = two_customers
    expected = {
        "crm": [crm_customer], "sc": [sc_customer], "both": [crm_customer, sc_customer], None: [],
    }[who]

    ids = listed_ids(client_as(dpo).get(CUSTOMERS, params))

    assert sorted(ids) == sorted(str(c.public_id) for c in expected)


def test_a_hyphenated_name_is_found_as_written(dpo, two_customers):
    ids = listed_ids(client_as(dpo).get(CUSTOMERS, {"name": "Jean-Pierre Martin"}))

    assert ids == [str(two_customers[1].public_id)]


def test_search_stays_within_the_department(steward_marketing, two_customers):
    ids = listed_ids(client_as(steward_marketing).get(CUSTOMERS, {"q": "martin"}))

    assert ids == []


def test_updated_since(dpo, two_customers):
    crm_customer, sc_customer = two_customers
    Customer.objects.filter(pk=sc_customer.pk).update(updated_at=timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=1)).isoformat()

    ids = listed_ids(client_as(dpo).get(CUSTOMERS, {"updated_since": since}))

    assert ids == [str(crm_customer.public_id)]


def test_an_unreadable_filter_is_a_400(dpo, two_customers):
    response = client_as(dpo).get(CUSTOMERS, {"updated_since": "last tuesday"})

    assert refused_fields(response) == ["updated_since"]


# --- Detail: merged ids, provenance, departments ------------------------------

def test_a_retired_id_resolves_to_its_survivor(dpo, crm, crm_customer):
    (record,) = ingest(crm, [{"id": "CRM-9", "first_name": "Helene", "last_name": "Lefevre"}])
    retired = record.customer
    link(record, crm_customer)

    response = client_as(dpo).get(f"{CUSTOMERS}{retired.public_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["public_id"] == str(crm_customer.public_id)
    assert body["merged_into"] is None
    assert body["merged_from"] == [str(retired.public_id)]
    assert {r["external_id"] for r in body["records"]} == {"CRM-1", "CRM-9"}
    assert str(retired.public_id) not in listed_ids(client_as(dpo).get(CUSTOMERS))


def test_a_retired_id_of_an_invisible_customer_is_404(steward_service_client, crm, crm_customer):
    (record,) = ingest(crm, [{"id": "CRM-9", "first_name": "Helene", "last_name": "Lefevre"}])
    retired = record.customer
    link(record, crm_customer)

    response = client_as(steward_service_client).get(f"{CUSTOMERS}{retired.public_id}/")

    assert response.status_code == 404


def test_detail_gives_golden_values_provenance_and_records(steward_marketing, crm_customer):
    body = client_as(steward_marketing).get(f"{CUSTOMERS}{crm_customer.public_id}/").json()

    assert body["email"] == "helene.lefevre@orange.fr"
    assert body["phone"] == "+33142112233"
    assert body["birth_date"] == "1984-03-12"
    assert body["provenance"]["email"] == {
        "source": "crm",
        "external_id": "CRM-1",
        "rule": "only_value",
        "business_ts": "2024-05-03T08:00:00+00:00",  # provenance is written in UTC
    }
    assert body["hidden_records"] == 0
    (record,) = body["records"]
    assert record["source"] == "crm"
    assert record["external_id"] == "CRM-1"
    assert record["raw"]["email"] == "Helene.Lefevre@Orange.fr"
    assert record["attributes"]["email"] == "helene.lefevre@orange.fr"
    assert record["quality_flags"] == []
    assert record["business_ts"] == "2024-05-03T10:00:00+02:00"


@pytest.fixture
def shared_customer(crm, service_client_source):
    """A person known to both the CRM (e-mail) and customer service (mobile), merged."""
    (crm_record,) = ingest(crm, [{
        "id": "CRM-7", "first_name": "Anne", "last_name": "Durand", "email": "anne.durand@example.fr",
    }])
    (sc_record,) = ingest(service_client_source, [{
        "id": "SC-7", "first_name": "Anne", "last_name": "Durand", "mobile": "06 98 76 54 32",
    }])
    link(sc_record, crm_record.customer)
    return crm_record.customer


@pytest.mark.parametrize(
    ("persona", "visible", "email_from", "mobile_from"),
    [
        ("steward_marketing", ["CRM-7"], "CRM-7", None),
        ("steward_service_client", ["SC-7"], None, "SC-7"),
        ("dpo", ["CRM-7", "SC-7"], "CRM-7", "SC-7"),
    ],
)
def test_each_department_sees_its_own_records_of_a_shared_customer(
    request, shared_customer, persona, visible, email_from, mobile_from
):
    client = client_as(request.getfixturevalue(persona))

    body = client.get(f"{CUSTOMERS}{shared_customer.public_id}/").json()

    assert sorted(r["external_id"] for r in body["records"]) == visible
    assert body["hidden_records"] == 2 - len(visible)
    # Golden values come from every source; a hidden record is named by its source only.
    assert body["email"] == "anne.durand@example.fr"
    assert body["mobile"] == "+33698765432"
    assert body["provenance"]["email"]["source"] == "crm"
    assert body["provenance"]["email"]["external_id"] == email_from
    assert body["provenance"]["mobile"]["source"] == "service_client"
    assert body["provenance"]["mobile"]["external_id"] == mobile_from
    listed = client.get(CUSTOMERS).json()["results"]
    assert [c["public_id"] for c in listed] == [str(shared_customer.public_id)]
    assert sorted(r["external_id"] for r in listed[0]["records"]) == visible


# --- Records ------------------------------------------------------------------

def test_records_filters(dpo, crm, crm_customer, service_client_customer):
    ingest(crm, [{"id": "CRM-5", "last_name": "Roux", "email": "roux@@mail"}])
    client = client_as(dpo)

    def external_ids(params: dict) -> list[str]:
        response = client.get("/api/v1/records/", params)
        assert response.status_code == 200, response.content
        return sorted(r["external_id"] for r in response.json()["results"])

    assert external_ids({}) == ["CRM-1", "CRM-5", "SC-1"]
    assert external_ids({"source": "service_client"}) == ["SC-1"]
    assert external_ids({"external_id": "CRM-5"}) == ["CRM-5"]
    assert external_ids({"customer": str(crm_customer.public_id)}) == ["CRM-1"]
    assert external_ids({"flag": "email.invalid"}) == ["CRM-5"]
    assert external_ids({"flag": "email"}) == []
    assert client.get("/api/v1/records/", {"customer": "nope"}).status_code == 400


def test_records_filter_by_a_retired_customer_id_gives_the_survivors_records(dpo, crm, crm_customer):
    (record,) = ingest(crm, [{"id": "CRM-9", "first_name": "Helene", "last_name": "Lefevre"}])
    retired = record.customer
    link(record, crm_customer)

    response = client_as(dpo).get("/api/v1/records/", {"customer": str(retired.public_id)})

    assert sorted(r["external_id"] for r in response.json()["results"]) == ["CRM-1", "CRM-9"]
    assert {r["customer_id"] for r in response.json()["results"]} == {str(crm_customer.public_id)}


# --- GDPR access log ----------------------------------------------------------

def test_reading_a_customer_is_logged(steward_marketing, crm_customer):
    client_as(steward_marketing).get(f"{CUSTOMERS}{crm_customer.public_id}/")

    entry = AccessLogEntry.objects.get()
    assert entry.user == steward_marketing
    assert entry.customer_public_id == crm_customer.public_id
    assert entry.purpose == "api_customer"


def test_a_list_page_logs_every_customer_on_it(dpo, crm_customer, service_client_customer):
    client_as(dpo).get(CUSTOMERS)

    logged = set(
        AccessLogEntry.objects.filter(user=dpo, purpose="api_customer_list")
        .values_list("customer_public_id", flat=True)
    )
    assert logged == {crm_customer.public_id, service_client_customer.public_id}


def test_reading_records_is_logged_against_their_customers(dpo, crm_customer):
    record = crm_customer.records.get()
    client = client_as(dpo)

    client.get(f"/api/v1/records/{record.pk}/")
    client.get("/api/v1/records/")

    assert sorted(AccessLogEntry.objects.values_list("purpose", "customer_public_id")) == [
        ("api_record", crm_customer.public_id),
        ("api_record_list", crm_customer.public_id),
    ]


def test_refused_and_empty_reads_log_nothing(steward_service_client, outsider, crm_customer):
    client_as(steward_service_client).get(f"{CUSTOMERS}{crm_customer.public_id}/")
    client_as(outsider).get(CUSTOMERS)
    APIClient().get(f"{CUSTOMERS}{crm_customer.public_id}/")

    assert not AccessLogEntry.objects.exists()


# --- Query counts -------------------------------------------------------------

def _people(count: int, prefix: str) -> list[dict]:
    return [
        {"id": f"{prefix}-{i}", "first_name": f"Prénom{i}", "last_name": f"Nom{i}",
         "email": f"p{i}@example.fr", "postcode": "75011", "updated": "2024-01-01 10:00"}
        for i in range(count)
    ]


def _customers_with_two_records(crm, service_client_source, count: int, batch: str = "A") -> None:
    crm_records = ingest(crm, _people(count, f"CRM{batch}"))
    sc_records = ingest(service_client_source, _people(count, f"SC{batch}"))
    for crm_record, sc_record in zip(crm_records, sc_records, strict=True):
        link(sc_record, crm_record.customer)


def _queries(user, url: str) -> int:
    """Queries of one request by a freshly loaded user (no permission cache yet)."""
    client = client_as(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


MAX_LIST_QUERIES = 8  # measured: 7 for a steward (permission lookups), 6 for a role, 5 for records


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo"])
@pytest.mark.parametrize("url", [CUSTOMERS, "/api/v1/records/"])
def test_lists_use_a_constant_number_of_queries(
    request, crm, service_client_source, django_assert_max_num_queries, persona, url
):
    user = request.getfixturevalue(persona)
    _customers_with_two_records(crm, service_client_source, 3)
    few = _queries(user, url)
    _customers_with_two_records(crm, service_client_source, 30, batch="B")
    client = client_as(user)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(url)

    assert response.json()["count"] >= 30
    assert _queries(user, url) == few


def test_customer_list_with_thirty_customers_of_two_records(
    crm, service_client_source, dpo, django_assert_max_num_queries
):
    _customers_with_two_records(crm, service_client_source, 30)
    client = client_as(dpo)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(CUSTOMERS)

    results = response.json()["results"]
    assert len(results) == 30
    assert all(len(c["records"]) == 2 for c in results)
