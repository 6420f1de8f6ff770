"""Finding the person: proposals scored and explained, look-alikes shown with what
contradicts them and left out unless the DPO ticks them; the scope the DPO confirms."""

from __future__ import annotations

import pytest

from gdpr.models import AccessLogEntry, ScopeItem
from gdpr.selectors.scope import request_matches
from gdpr.services.scope import ScopeInvalid, request_scope_set
from tests.gdpr.builders import access_request

pytestmark = pytest.mark.django_db


def by_customer(proposals):
    return {p.customer.pk: p for p in proposals.customers}


def test_the_person_is_suggested_and_the_lookalike_proposed_unchecked_with_its_contradictions(
    scenario, subject_request
):
    proposals = by_customer(request_matches(request=subject_request))

    person, lookalike = proposals[scenario.person.pk], proposals[scenario.lookalike.pk]
    assert person.suggested and person.checked
    assert {r.record.pk for r in person.records} == {r.pk for r in scenario.records}
    assert not lookalike.suggested and not lookalike.checked
    assert {"first_name", "birth_date"} <= {e.comparison for e in lookalike.contradictions}
    assert lookalike.records[0].link_guard.startswith("contradiction:")
    assert person.probability > 0.99 > lookalike.probability


def test_the_lookalike_is_out_of_scope_unless_the_dpo_confirms_it(scenario, subject_request, dpo):
    suggested = [p.customer.public_id for p in request_matches(request=subject_request).customers
                 if p.suggested]

    request_scope_set(request=subject_request, customer_public_ids=suggested, record_ids=[],
                      acting_user=dpo)
    in_scope = set(ScopeItem.objects.filter(request=subject_request, in_scope=True)
                   .values_list("customer_public_id", flat=True))
    assert scenario.person.public_id in in_scope
    assert scenario.lookalike.public_id not in in_scope

    request_scope_set(request=subject_request,
                      customer_public_ids=[*suggested, scenario.lookalike.public_id],
                      record_ids=[], acting_user=dpo)
    assert ScopeItem.objects.get(request=subject_request, customer=scenario.lookalike).in_scope


def test_a_confirmed_customer_brings_its_records_and_a_later_decision_sets_aside(
    scenario, subject_request, dpo
):
    outcome = request_scope_set(request=subject_request,
                                customer_public_ids=[scenario.person.public_id,
                                                     scenario.lookalike.public_id],
                                record_ids=[], acting_user=dpo)
    assert (outcome.customers, outcome.records) == (2, 4)

    outcome = request_scope_set(request=subject_request,
                                customer_public_ids=[scenario.person.public_id], record_ids=[],
                                acting_user=dpo)

    assert outcome.set_aside == 2  # the look-alike and its record
    item = ScopeItem.objects.get(request=subject_request, customer=scenario.lookalike)
    assert not item.in_scope and item.decided_by == dpo
    proposals = by_customer(request_matches(request=subject_request))
    assert proposals[scenario.lookalike.pk].in_scope is False
    assert proposals[scenario.person.pk].in_scope is True
    assert list(subject_request.steps.values_list("action", flat=True)) == [
        "received", "scope_confirmed", "scope_confirmed"]


def test_a_merged_away_customer_stands_for_its_survivor(scenario, subject_request, dpo):
    retired = scenario.decision.customers.exclude(pk=scenario.person.pk).first()

    request_scope_set(request=subject_request, customer_public_ids=[retired.public_id],
                      record_ids=[], acting_user=dpo)

    assert ScopeItem.objects.get(request=subject_request, customer__isnull=False).customer == \
        scenario.person


def test_unknown_ids_are_refused_and_nothing_is_written(scenario, subject_request, dpo):
    with pytest.raises(ScopeInvalid) as refused:
        request_scope_set(request=subject_request,
                          customer_public_ids=[scenario.person.public_id, "not-a-uuid"],
                          record_ids=[999_999], acting_user=dpo)
    assert refused.value.unknown_customers == ["not-a-uuid"]
    assert refused.value.unknown_records == [999_999]
    assert not ScopeItem.objects.filter(request=subject_request).exists()


def test_a_sources_customer_number_finds_the_record_through_its_index(scenario, dpo):
    request = access_request(
        dpo=dpo, customer_number={"source": "eshop", "external_id": "ES-3003"}
    )

    (proposal,) = request_matches(request=request).customers

    assert proposal.customer == scenario.person
    assert "customer_number" in proposal.found_by and proposal.suggested


def test_an_email_alone_finds_the_customer_holding_it(scenario, dpo):
    request = access_request(dpo=dpo, email="HELENE.Lefevre@orange.fr")

    proposals = by_customer(request_matches(request=request))

    assert "email" in proposals[scenario.person.pk].found_by
    assert scenario.lookalike.pk not in proposals


def test_a_phone_alone_finds_the_customer_holding_it(scenario, dpo):
    request = access_request(dpo=dpo, phone="06 98 76 54 32")

    proposals = by_customer(request_matches(request=request))

    assert "phone" in proposals[scenario.person.pk].found_by


def test_identifiers_that_match_nobody_propose_nobody(scenario, dpo):
    request = access_request(dpo=dpo, first_name="Zoé", last_name="Xylophone",
                             email="zx@example.org")

    assert request_matches(request=request).customers == []


def test_the_matches_api_lists_proposals_and_logs_the_search(scenario, subject_request, dpo_api):
    response = dpo_api.get(f"/api/v1/gdpr/requests/{subject_request.pk}/matches/")

    assert response.status_code == 200
    proposals = {c["public_id"]: c for c in response.json()["customers"]}
    person = proposals[str(scenario.person.public_id)]
    lookalike = proposals[str(scenario.lookalike.public_id)]
    assert person["suggested"] is True and len(person["records"]) == 3
    assert person["records"][0]["probability"] > 0.99
    assert lookalike["suggested"] is False
    assert {"first_name", "birth_date"} <= {c["comparison"] for c in lookalike["contradictions"]}
    logged = set(AccessLogEntry.objects.filter(purpose="gdpr_request_search")
                 .values_list("customer_public_id", flat=True))
    assert logged == {scenario.person.public_id, scenario.lookalike.public_id}


def test_the_scope_api_confirms_and_refuses_unknown_ids(scenario, subject_request, dpo_api):
    url = f"/api/v1/gdpr/requests/{subject_request.pk}/scope/"
    record = scenario.lookalike.records.get()

    response = dpo_api.post(url, {"customers": [str(scenario.person.public_id)],
                                  "records": [record.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"customers": 1, "records": 4, "set_aside": 0}

    refused = dpo_api.post(url, {"customers": ["00000000-0000-0000-0000-000000000000"]},
                           format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert refused.json()["errors"][0]["field"].startswith("customers")


def test_what_is_added_to_a_level_is_not_shown_to_the_dpo_as_evidence_of_its_own():
    """A rare surname's adjustment, or what a move's second difference gets back, is
    part of that comparison's weight: the DPO sees the surname agree and the address
    differ, not an address "agreement" of +5 bits."""
    from gdpr.selectors.scope import _evidence

    agreements, contradictions = _evidence({"contributions": [
        {"comparison": "last_name", "level": "exact", "weight": 8.0},
        {"comparison": "last_name", "level": "rare_value", "weight": 2.0},
        {"comparison": "address", "level": "different", "weight": -4.2},
        {"comparison": "phone", "level": "different", "weight": -6.8},
        {"comparison": "phone", "level": "with_another_difference", "weight": 5.4},
    ]})
    assert [(e.comparison, e.level) for e in agreements] == [("last_name", "exact")]
    assert all(e.level != "with_another_difference" for e in agreements + contradictions)
