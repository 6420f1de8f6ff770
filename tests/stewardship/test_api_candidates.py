"""Merge candidates through the REST API: what an item shows, filters, sorting,
pagination, query counts, and the merge and reject decisions with their conflicts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.pagination import PageNumberPagination

from gdpr.models import AccessLogEntry
from rcu.models import Customer, PairDecision, SourceRecord
from rcu.roles import Role
from rcu.services.matching.realtime import records_match
from stewardship.models import Decision, MergeCandidate
from stewardship.services.leases import candidate_claim
from stewardship.services.reject import candidate_reject
from tests.factories import TEST_ACTOR, frozen_default_model, ingest, make_user
from tests.rcu.refusals import error_body, refused_fields
from tests.stewardship.api_world import (
    CANDIDATES,
    EXPLANATION,
    HELENE,
    HELENE_ESHOP,
    SENTENCE_EN,
    World,
    build_world,
    client_as,
    open_candidate,
    record,
)
from tests.stewardship.ledger import candidate_between

# Queries of one list page, whatever its length (measured: 7 for a steward, 6 for a
# role that reads everything): the caller's permissions (2), the count, the page with
# its records, sources, customers and lease holders, the departments, the sources whose
# external ids the caller may read, and which of the page the caller may decide. Up to 2
# more the first time guardian looks up a content type in the process (then cached).
LIST_QUERY_BUDGET = 9
# One candidate: the list's, less the count, plus its two customers read apart (8), and
# the content types again when cold.
DETAIL_QUERY_BUDGET = 10


@pytest.fixture
def world(sources) -> World:
    return build_world(sources)


@pytest.fixture
def steward_ecommerce(db):
    return make_user("steward_ecommerce", roles=[Role.STEWARD], departments=["ecommerce"])

IDS_AND_TIMESTAMPS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"
)


def url(candidate: MergeCandidate, action: str = "") -> str:
    return f"{CANDIDATES}{candidate.pk}/" + (f"{action}/" if action else "")


def listed(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# --- What an item shows ---------------------------------------------------------

def test_an_item_shows_the_pair_its_score_and_why(steward_marketing, world):
    candidate = world.candidates["marketing"]
    crm, eshop = world.records["crm"], world.records["eshop_helene"]

    response = client_as(steward_marketing).get(CANDIDATES, HTTP_ACCEPT_LANGUAGE="en")

    (item,) = response.json()["results"]
    assert item["id"] == candidate.pk
    assert item["status"] == "open"
    assert item["probability"] == 0.82
    assert item["weight"] == EXPLANATION["total_weight"]
    assert item["levels"] == "f3,l2,b3,e0,a0"
    assert item["explanation"] == {**EXPLANATION, "probability": 0.82}
    assert item["sentence"] == SENTENCE_EN
    assert item["departments"] == ["ecommerce", "marketing"]
    assert item["record_a"] == {
        "id": crm.pk, "source": "crm", "external_id": "CRM-1",
        "customer_id": str(crm.customer.public_id),
    }
    # The e-shop is not marketing's source: its record is named, not identified.
    assert item["record_b"] == {
        "id": eshop.pk, "source": "eshop", "external_id": None,
        "customer_id": str(eshop.customer.public_id),
    }
    assert item["leased_by"] is None and item["leased_until"] is None
    assert item["decided_by"] is None and item["decided_at"] is None
    assert item["can_decide"] is True
    assert item["created_at"] and item["updated_at"]


def test_a_role_reading_everything_sees_every_external_id_and_decides_nothing(dpo, world):
    response = client_as(dpo).get(url(world.candidates["marketing"]))

    body = response.json()
    assert (body["record_a"]["external_id"], body["record_b"]["external_id"]) == ("CRM-1", "E-1")
    assert body["can_decide"] is False


def test_candidates_show_no_personal_values_and_are_not_logged_as_reads(dpo, world):
    client = client_as(dpo)

    pages = [client.get(CANDIDATES), client.get(url(world.candidates["marketing"]))]

    for page in pages:
        # Identifiers and timestamps are random digits: a postcode or a year may appear in them.
        text = IDS_AND_TIMESTAMPS.sub("", page.content.decode())
        for value in ("Hélène", "Lefèvre", "helene.lefevre", "Victor Hugo", "75016", "1984"):
            assert value not in text
    assert not AccessLogEntry.objects.exists()


def test_a_lease_shows_who_is_reviewing(steward_marketing, dpo, world):
    candidate = world.candidates["marketing"]
    candidate_claim(candidate=candidate, user=steward_marketing)

    item = client_as(dpo).get(url(candidate)).json()

    assert item["leased_by"] == "steward_marketing"
    assert item["leased_until"] is not None


# --- Filters and sorting ----------------------------------------------------------

@pytest.fixture
def queue(world, steward_marketing) -> dict[str, MergeCandidate]:
    """marketing: high score, held by steward_marketing; service: low score, free, newer."""
    marketing, service = world.candidates["marketing"], world.candidates["service"]
    MergeCandidate.objects.filter(pk=marketing.pk).update(
        probability=0.95, created_at=timezone.now() - timedelta(days=3)
    )
    MergeCandidate.objects.filter(pk=service.pk).update(probability=0.6)
    candidate_claim(candidate=marketing, user=steward_marketing)
    return {"marketing": marketing, "service": service}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["marketing", "service"]),
        ({"department": "marketing"}, ["marketing"]),
        ({"department": "service-client"}, ["service"]),
        ({"department": "ecommerce"}, ["marketing", "service"]),
        ({"department": "nowhere"}, []),
        ({"band": "high"}, ["marketing"]),
        ({"band": "medium"}, []),
        ({"band": "low"}, ["service"]),
        ({"source": "crm"}, ["marketing"]),
        ({"source": "service_client"}, ["service"]),
        ({"source": "eshop"}, ["marketing", "service"]),
        ({"min_score": "0.9"}, ["marketing"]),
        ({"max_score": "0.6"}, ["service"]),
        ({"min_score": "0.5", "max_score": "0.99"}, ["marketing", "service"]),
        ({"assignee": "held"}, ["marketing"]),
        ({"assignee": "free"}, ["service"]),
        ({"assignee": "steward_marketing"}, ["marketing"]),
        ({"assignee": "me"}, []),  # the DPO holds nothing
        ({"sort": "score"}, ["marketing", "service"]),
        ({"sort": "-score"}, ["service", "marketing"]),
        ({"sort": "age"}, ["marketing", "service"]),
        ({"sort": "-age"}, ["service", "marketing"]),
        ({"band": "high", "source": "service_client"}, []),
    ],
)
def test_filters_and_sorting(dpo, queue, params, expected):
    ids = listed(client_as(dpo).get(CANDIDATES, params))

    assert ids == [queue[name].pk for name in expected]


def test_assignee_me_is_the_caller(steward_marketing, queue):
    ids = listed(client_as(steward_marketing).get(CANDIDATES, {"assignee": "me"}))

    assert ids == [queue["marketing"].pk]


def test_an_expired_lease_is_free(dpo, queue):
    MergeCandidate.objects.filter(pk=queue["marketing"].pk).update(
        leased_until=timezone.now() - timedelta(minutes=1)
    )

    ids = listed(client_as(dpo).get(CANDIDATES, {"assignee": "free"}))

    assert ids == [queue["marketing"].pk, queue["service"].pk]


def test_open_candidates_by_default_any_status_on_request(dpo, world):
    rejected = world.candidates["service"]
    candidate_reject(candidate_id=rejected.pk, acting_user=TEST_ACTOR)
    client = client_as(dpo)

    assert listed(client.get(CANDIDATES)) == [world.candidates["marketing"].pk]
    assert listed(client.get(CANDIDATES, {"status": "rejected"})) == [rejected.pk]
    assert listed(client.get(CANDIDATES, {"status": "merged"})) == []
    assert sorted(listed(client.get(CANDIDATES, {"status": "all"}))) == sorted(
        c.pk for c in world.candidates.values()
    )


@pytest.mark.parametrize(
    "params",
    [{"band": "extreme"}, {"status": "pending"}, {"min_score": "high"}, {"sort": "name"}],
)
def test_an_unreadable_filter_is_a_400_naming_it(dpo, world, params):
    response = client_as(dpo).get(CANDIDATES, params)

    assert set(refused_fields(response)) == set(params)


def test_pages(monkeypatch, dpo, world):
    # The paginator reads PAGE_SIZE once, when DRF is imported.
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)
    client = client_as(dpo)

    first = client.get(CANDIDATES).json()
    second = client.get(CANDIDATES, {"page": 2}).json()

    assert first["count"] == 2 and first["next"] and first["previous"] is None
    assert [i["id"] for i in first["results"] + second["results"]] == [
        world.candidates["marketing"].pk, world.candidates["service"].pk
    ]


# --- Query counts -----------------------------------------------------------------

def _more_candidates(sources, count: int) -> None:
    crm_records = ingest(sources["crm"], [
        {"id": f"CRM-Q{i}", **HELENE, "email": f"q{i}@example.fr"} for i in range(count)
    ])
    eshop_records = ingest(sources["eshop"], [
        {"id": f"E-Q{i}", **HELENE_ESHOP, "email": f"q{i}@example.net"} for i in range(count)
    ])
    for a, b in zip(crm_records, eshop_records, strict=True):
        open_candidate(a, b, probability=0.7)


@pytest.mark.parametrize("persona", ["steward_marketing", "steward_ecommerce", "dpo"])
def test_the_list_costs_the_same_queries_whatever_its_length(
    request, sources, world, django_assert_max_num_queries, persona
):
    user = request.getfixturevalue(persona)

    def page_and_queries() -> tuple[int, int]:
        # A fresh user object each time: no permission cache carried over.
        client = client_as(type(user).objects.get(pk=user.pk))
        with django_assert_max_num_queries(LIST_QUERY_BUDGET), CaptureQueriesContext(
            connection
        ) as queries:
            response = client.get(CANDIDATES)
        assert response.status_code == 200
        return len(response.json()["results"]), len(queries)

    few, queries_for_few = page_and_queries()
    _more_candidates(sources, 12)
    many, queries_for_many = page_and_queries()

    assert many == few + 12
    assert queries_for_many == queries_for_few


def test_the_detail_costs_a_fixed_number_of_queries(
    steward_marketing, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(DETAIL_QUERY_BUDGET):
        response = client_as(steward_marketing).get(url(world.candidates["marketing"]))

    assert response.status_code == 200


# --- Merge ------------------------------------------------------------------------

def test_merge_joins_both_customers_with_the_chosen_values(steward_marketing, world):
    candidate = world.candidates["marketing"]
    crm, eshop = world.records["crm"], world.records["eshop_helene"]
    customers = {crm.customer, eshop.customer}

    response = client_as(steward_marketing).post(
        url(candidate, "merge"),
        {"choices": {"email": eshop.pk, "address": crm.pk}, "reason": "confirmed by phone"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    decision = Decision.objects.get()
    survivor = Customer.objects.get(pk=decision.survivor_id)
    assert body["id"] == decision.pk
    assert body["kind"] == "merge"
    assert body["candidate"] == candidate.pk
    assert body["survivor"] == str(survivor.public_id)
    assert sorted(body["customers"]) == sorted(str(c.public_id) for c in customers)
    assert body["choices"] == {"email": eshop.pk, "address": crm.pk}
    assert body["reason"] == "confirmed by phone"
    assert body["decided_by"] == "steward_marketing"
    assert body["undoes"] is None
    assert set(SourceRecord.objects.filter(pk__in=[crm.pk, eshop.pk]).values_list(
        "customer_id", flat=True
    )) == {survivor.pk}
    (retired,) = customers - {survivor}
    retired.refresh_from_db()
    assert retired.merged_into_id == survivor.pk
    assert (survivor.email, survivor.city) == ("h.lefevre@gmail.com", "Paris")
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.MERGED
    assert candidate.decided_by == steward_marketing


def test_an_empty_body_merges_with_the_defaults(steward_marketing, world):
    response = client_as(steward_marketing).post(url(world.candidates["marketing"], "merge"))

    assert response.status_code == 200, response.content
    assert response.json()["choices"] == {}


def test_a_second_merge_of_the_same_candidate_is_a_409(
    steward_marketing, steward_ecommerce, world
):
    candidate = world.candidates["marketing"]
    first = client_as(steward_marketing).post(url(candidate, "merge"), {}, format="json")

    again = client_as(steward_ecommerce).post(url(candidate, "merge"), {}, format="json")

    assert first.status_code == 200
    assert "steward_marketing" in error_body(again, 409, "conflict")["detail"]
    assert Decision.objects.count() == 1


def test_the_survivor_can_be_chosen(steward_marketing, world):
    eshop_customer = world.records["eshop_helene"].customer

    response = client_as(steward_marketing).post(
        url(world.candidates["marketing"], "merge"),
        {"survivor": str(eshop_customer.public_id)}, format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["survivor"] == str(eshop_customer.public_id)
    assert SourceRecord.objects.get(pk=world.records["crm"].pk).customer_id == eshop_customer.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda w: {"survivor": "00000000-0000-0000-0000-000000000000"}, "survivor"),
        (lambda w: {"survivor": "not-a-uuid"}, "survivor"),
        # A customer outside this merge.
        (lambda w: {"survivor": str(w.records["service_client"].customer.public_id)}, "survivor"),
        # A record of neither customer.
        (lambda w: {"choices": {"email": w.records["eshop_jean_pierre"].pk}}, "choices.email"),
        (lambda w: {"choices": {"email": "x"}}, "choices.email"),
        # The CRM record has no phone.
        (lambda w: {"choices": {"phone": w.records["crm"].pk}}, "choices.phone"),
        (lambda w: {"choices": {"shoe_size": w.records["crm"].pk}}, "choices.shoe_size"),
        (lambda w: {"choices": ["email"]}, "choices"),
        (lambda w: {"expected_updated_at": "yesterday"}, "expected_updated_at"),
        (lambda w: {"reason": "x" * 501}, "reason"),
        (lambda w: ["not", "an", "object"], ""),
    ],
)
def test_a_wrong_merge_request_is_a_400_naming_the_field(steward_marketing, world, body, field):
    response = client_as(steward_marketing).post(
        url(world.candidates["marketing"], "merge"), body(world), format="json"
    )

    assert refused_fields(response)[0] == (field or None)
    assert not Decision.objects.exists()
    world.candidates["marketing"].refresh_from_db()
    assert world.candidates["marketing"].status == MergeCandidate.Status.OPEN


def test_malformed_json_is_a_400(steward_marketing, world):
    response = client_as(steward_marketing).post(
        url(world.candidates["marketing"], "merge"), "{not json", content_type="application/json"
    )

    body = error_body(response, 400, "parse_error")
    assert [error["field"] for error in body["errors"]] == [None]


def test_merge_checks_the_version_the_steward_saw(steward_marketing, world):
    candidate = world.candidates["marketing"]
    client = client_as(steward_marketing)
    seen = client.get(url(candidate)).json()["updated_at"]
    stale = (candidate.updated_at - timedelta(seconds=5)).isoformat()

    refused = client.post(
        url(candidate, "merge"), {"expected_updated_at": stale}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    merged = client.post(url(candidate, "merge"), {"expected_updated_at": seen}, format="json")

    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("This candidate changed since you opened it")
    assert merged.status_code == 200, merged.content


def test_a_candidate_held_by_another_steward_is_a_409(
    steward_marketing, steward_ecommerce, world
):
    candidate = world.candidates["marketing"]
    candidate_claim(candidate=candidate, user=steward_ecommerce)

    response = client_as(steward_marketing).post(url(candidate, "merge"), {}, format="json")

    assert response.status_code == 409
    assert "steward_ecommerce" in response.json()["detail"]
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN


# --- Reject -------------------------------------------------------------------------

def test_reject_remembers_they_are_two_people(steward_marketing, world):
    candidate = world.candidates["marketing"]
    crm, eshop = world.records["crm"], world.records["eshop_helene"]

    response = client_as(steward_marketing).post(
        url(candidate, "reject"), {"reason": "two people"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "reject"
    assert body["survivor"] is None
    assert sorted(body["customers"]) == sorted(
        [str(crm.customer.public_id), str(eshop.customer.public_id)]
    )
    assert body["reason"] == "two people"
    assert PairDecision.objects.filter(
        record_a_id=crm.pk, record_b_id=eshop.pk, kind=PairDecision.Kind.CANNOT_LINK
    ).exists()
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.REJECTED


def test_a_rejected_candidate_can_be_neither_rejected_nor_merged_again(steward_marketing, world):
    candidate = world.candidates["marketing"]
    client = client_as(steward_marketing)
    client.post(url(candidate, "reject"), {}, format="json")

    assert client.post(url(candidate, "reject"), {}, format="json").status_code == 409
    assert client.post(url(candidate, "merge"), {}, format="json").status_code == 409
    assert Decision.objects.count() == 1


def test_reject_checks_the_version_the_steward_saw(steward_marketing, world):
    candidate = world.candidates["marketing"]
    stale = (candidate.updated_at - timedelta(seconds=5)).isoformat()

    response = client_as(steward_marketing).post(
        url(candidate, "reject"), {"expected_updated_at": stale}, format="json"
    )

    assert response.status_code == 409
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN


# --- End to end with the matching engine ---------------------------------------------

def test_a_candidate_found_by_matching_is_listed_and_merged(
    crm, service_client_source, steward_service_client
):
    frozen_default_model()
    jeanne = record(crm, "C1", {
        "first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": "1980-04-03",
        "email": "jeanne.lefevre@orange.fr", "mobile": "06 12 34 56 78",
        "address_line1": "12 rue de la Paix", "postcode": "75002", "city": "Paris",
    })
    sparse = record(service_client_source, "S1", {
        "first_name": "Jeanne", "last_name": "Lefevre", "postcode": "75002", "city": "Paris",
    })
    records_match(record_ids=[jeanne.pk, sparse.pk])
    client = client_as(steward_service_client)

    (item,) = client.get(CANDIDATES, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    merged = client.post(f"{CANDIDATES}{item['id']}/merge/", {}, format="json")

    assert item["departments"] == ["marketing", "service-client"]
    assert item["explanation"]["link_guard"] == "household_evidence"
    assert item["sentence"].endswith("what they have in common, one household could share, a steward must decide")
    assert (item["record_a"]["external_id"], item["record_b"]["external_id"]) == (None, "S1")
    assert merged.status_code == 200, merged.content
    assert SourceRecord.objects.get(pk=jeanne.pk).customer_id == SourceRecord.objects.get(
        pk=sparse.pk
    ).customer_id



def test_a_candidate_without_explanation_still_reads(dpo, world):
    candidate = world.candidates["marketing"]
    MergeCandidate.objects.filter(pk=candidate.pk).update(explanation={})

    response = client_as(dpo).get(url(candidate))

    assert response.status_code == 200
    assert response.json()["explanation"] is None
    assert response.json()["sentence"] == ""


def test_merge_takes_along_a_customer_tied_to_the_candidate(steward_marketing, world, sources):
    candidate = world.candidates["marketing"]
    crm, eshop = world.records["crm"], world.records["eshop_helene"]
    third = record(sources["crm"], "CRM-9", {**HELENE, "email": "lefevre.h@free.fr"})
    candidate_between(eshop, third, probability=0.7)  # the cluster the review shows

    response = client_as(steward_marketing).post(
        url(candidate, "merge"), {"also_customers": [str(third.customer.public_id)]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert len({r.customer_id for r in SourceRecord.objects.filter(
        pk__in=[crm.pk, eshop.pk, third.pk])}) == 1
    assert len(response.json()["customers"]) == 3


def test_merge_refuses_a_customer_not_tied_to_the_candidate(steward_marketing, world):
    candidate = world.candidates["marketing"]
    stranger = world.records["service_client"].customer

    response = client_as(steward_marketing).post(
        url(candidate, "merge"), {"also_customers": [str(stranger.public_id)]}, format="json"
    )

    assert refused_fields(response) == ["also_customers"]
    assert not Decision.objects.exists()
    assert SourceRecord.objects.get(pk=world.records["service_client"].pk).customer_id == stranger.pk


def test_a_claim_is_refused_while_another_steward_holds_the_candidate(
    steward_marketing, steward_ecommerce, world
):
    candidate = world.candidates["marketing"]
    first = client_as(steward_marketing).post(url(candidate, "claim"))
    assert first.status_code == 200
    assert first.json()["leased_by"] == "steward_marketing"

    second = client_as(steward_ecommerce).post(url(candidate, "claim"))
    assert second.status_code == 409
    assert "steward_marketing" in second.json()["detail"]
    # Giving it back frees it for the other steward.
    assert client_as(steward_ecommerce).delete(url(candidate, "claim")).status_code == 204
    candidate.refresh_from_db()
    assert candidate.leased_by.username == "steward_marketing"  # only the holder releases
    assert client_as(steward_marketing).delete(url(candidate, "claim")).status_code == 204
    assert client_as(steward_ecommerce).post(url(candidate, "claim")).status_code == 200
