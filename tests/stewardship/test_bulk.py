"""Bulk decisions on obvious candidates: one confirmation, each candidate its own decision
in the ledger (undone one by one), a cap per request, what cannot be decided left alone.
The service, the queue's pages and `POST /api/v1/candidates/bulk/`."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import Customer
from stewardship.models import Decision, MergeCandidate
from stewardship.services.bulk import BULK_MAX, candidates_bulk_decide
from stewardship.services.errors import DecisionInvalid
from stewardship.services.leases import candidate_claim
from stewardship.services.unmerge import decision_undo
from tests.rcu.refusals import error_body, refused_fields
from tests.stewardship.api_world import client_as
from tests.stewardship.builders import candidate_between, person

pytestmark = pytest.mark.django_db

BULK = "/api/v1/candidates/bulk/"
PERSONAS = ["steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"]


@pytest.fixture(autouse=True)
def no_matching_after_import(settings):
    settings.RCU_MATCH_AFTER_IMPORT = False


@pytest.fixture
def three(crm, eshop) -> list[MergeCandidate]:
    """Three obvious pairs in marketing's (and e-commerce's) queue."""
    return [
        candidate_between(crm, person(f"CRM-{i}", first_name=name),
                          eshop, person(f"WEB-{i}", first_name=name))
        for i, name in enumerate(["Hélène", "Paul", "Marie"])
    ]


@pytest.fixture
def foreign(service_client_source, eshop) -> MergeCandidate:
    """A pair of service-client's and e-commerce's: not in marketing's queue."""
    return candidate_between(service_client_source, person("SC-9", first_name="Zoé"),
                             eshop, person("WEB-9", first_name="Zoé"))


def merged_count() -> int:
    return Customer.objects.filter(merged_into__isnull=False).count()


def test_each_candidate_merged_gets_its_own_decision(three, steward_marketing):
    outcome = candidates_bulk_decide(candidate_ids=[c.pk for c in three], action="merge",
                                     reason="likely", acting_user=steward_marketing)
    assert [d.candidate_id for d in outcome.decisions] == [c.pk for c in three]
    assert not outcome.refused and merged_count() == 3
    assert {d.kind for d in outcome.decisions} == {Decision.Kind.MERGE}
    assert all(d.reason == "likely" and d.decided_by == steward_marketing
               for d in outcome.decisions)


def test_a_bulk_merge_is_undone_one_by_one(three, steward_marketing):
    outcome = candidates_bulk_decide(candidate_ids=[c.pk for c in three], action="merge",
                                     acting_user=steward_marketing)
    decision_undo(decision_id=outcome.decisions[1].pk, acting_user=steward_marketing)
    assert merged_count() == 2
    assert MergeCandidate.objects.get(pk=three[1].pk).status == MergeCandidate.Status.OPEN
    assert MergeCandidate.objects.get(pk=three[0].pk).status == MergeCandidate.Status.MERGED


def test_a_bulk_reject_rejects_each(three, steward_marketing):
    outcome = candidates_bulk_decide(candidate_ids=[c.pk for c in three], action="reject",
                                     acting_user=steward_marketing)
    assert len(outcome.decisions) == 3 and merged_count() == 0
    assert set(MergeCandidate.objects.values_list("status", flat=True)) == {"rejected"}


def test_what_cannot_be_decided_is_left_and_reported_the_rest_goes_ahead(
    three, foreign, steward_marketing, steward_everywhere
):
    candidate_claim(candidate=three[0], user=steward_everywhere)  # held by another
    outcome = candidates_bulk_decide(candidate_ids=[c.pk for c in (*three, foreign)],
                                     action="merge", acting_user=steward_marketing)
    refused = {r.candidate: r.code for r in outcome.refused}
    assert refused == {three[0].pk: "conflict", foreign.pk: "forbidden"}
    assert [d.candidate_id for d in outcome.decisions] == [three[1].pk, three[2].pk]
    assert MergeCandidate.objects.get(pk=foreign.pk).status == MergeCandidate.Status.OPEN


def test_more_than_the_cap_is_refused_whole(three, steward_marketing):
    with pytest.raises(DecisionInvalid) as refused:
        candidates_bulk_decide(candidate_ids=range(1, BULK_MAX + 2), action="merge",
                               acting_user=steward_marketing)
    assert refused.value.field == "candidates"
    assert merged_count() == 0


# --- API ----------------------------------------------------------------------------------


def test_the_api_answers_each_decision_and_each_refusal(three, foreign, steward_marketing):
    response = client_as(steward_marketing).post(BULK, {
        "action": "merge", "candidates": [c.pk for c in (*three, foreign)], "reason": "likely",
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [d["candidate"] for d in body["decisions"]] == [c.pk for c in three]
    assert all(d["kind"] == "merge" and d["reason"] == "likely" for d in body["decisions"])
    assert body["refused"] == [{"candidate": foreign.pk, "code": "forbidden",
                                "detail": body["refused"][0]["detail"]}]


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "merge", "candidates": []}, "candidates"),
    ({"action": "merge", "candidates": list(range(1, BULK_MAX + 2))}, "candidates"),
    ({"action": "explode", "candidates": [1]}, "action"),
    ({"action": "merge", "candidates": [2**70]}, "candidates.0"),  # beyond a 64-bit id
    ({"action": "merge", "candidates": [-3]}, "candidates.0"),
])
def test_a_bad_bulk_request_is_a_400_naming_the_field(steward_marketing, three, body, field):
    response = client_as(steward_marketing).post(BULK, body, format="json")
    assert field in refused_fields(response)
    assert merged_count() == 0


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_decide_marketings_candidates_in_bulk(personas, persona, three):
    response = client_as(personas[persona]).post(
        BULK, {"action": "merge", "candidates": [c.pk for c in three]}, format="json")
    if persona == "steward_marketing":
        assert response.status_code == 200 and merged_count() == 3
    elif persona == "steward_service_client":
        # A steward, but not of these queues: each refused, nothing merged.
        assert response.status_code == 200
        assert {r["code"] for r in response.json()["refused"]} == {"forbidden"}
        assert merged_count() == 0
    else:
        error_body(response, 403)
        assert merged_count() == 0


# --- Pages --------------------------------------------------------------------------------


def test_the_queue_offers_bulk_decisions_to_its_stewards(client, steward_marketing, auditor, three):
    client.force_login(steward_marketing)
    page = client.get(reverse("stewardship:queue"), {"department": "marketing"}).content.decode()
    assert 'id="bulk-merge"' in page
    client.force_login(auditor)
    page = client.get(reverse("stewardship:queue"), {"department": "marketing"}).content.decode()
    assert 'id="bulk-merge"' not in page


def test_one_confirmation_then_each_decided_with_its_undo(client, steward_marketing, three):
    client.force_login(steward_marketing)
    ids = [str(c.pk) for c in three]
    confirm = client.post(reverse("stewardship:bulk"),
                          {"action": "merge", "candidates": ids, "query": "department=marketing"})
    assert confirm.status_code == 200 and merged_count() == 0  # nothing yet
    page = confirm.content.decode()
    assert 'id="bulk-confirm-button"' in page and all(f'data-candidate="{i}"' in page for i in ids)
    done = client.post(reverse("stewardship:bulk"), {
        "action": "merge", "candidates": ids, "confirmed": "1", "reason": "likely",
        "query": "department=marketing",
    })
    assert done.status_code == 200 and merged_count() == 3
    page = done.content.decode()
    for decision in Decision.objects.filter(kind=Decision.Kind.MERGE):
        assert f'data-undo="{decision.pk}"' in page


@pytest.mark.parametrize("persona", ["dpo", "admin", "auditor", "outsider"])
def test_who_may_not_post_bulk_decisions(client, personas, persona, three):
    client.force_login(personas[persona])
    response = client.post(reverse("stewardship:bulk"), {
        "action": "merge", "candidates": [str(c.pk) for c in three], "confirmed": "1"})
    assert response.status_code == 403 and merged_count() == 0
