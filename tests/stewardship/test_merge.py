"""Merging golden customers (`customers_merge`, `candidate_merge`): records move to the
survivor, nothing is lost, the steward's choices are law, and the ledger can undo it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from rcu.attributes import ADDRESS_GROUP
from rcu.models import Customer, PairDecision, SourceRecord
from rcu.selectors.customers import customer_resolve
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict, DecisionInvalid
from stewardship.services.leases import candidate_claim
from stewardship.services.merge import candidate_merge, customers_merge
from stewardship.services.reject import candidate_reject
from tests.factories import frozen_default_model, ingest
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, MARC, PAUL
from tests.stewardship.ledger import (
    assert_every_record_in_exactly_one_active_customer,
    assert_source_stats_match_the_records,
    candidate_between,
    customer_of,
    customers_state,
    department_codes,
    fresh,
    match_batch,
    match_realtime,
    must_link_components,
    one,
    partition,
    placement,
)

pytestmark = pytest.mark.django_db

# Hélène as three sources know her: the CRM is the most trusted, the e-shop the least.
HELENE_CRM = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene@orange.fr",
              "mobile": "06 12 34 56 78", "address_line1": "12 rue de la Paix",
              "postcode": "75002", "city": "Paris", "updated": "2024-05-03 10:00"}
HELENE_ESHOP = {"first_name": "Helene", "last_name": "Lefevre", "email": "h.lefevre@gmail.com",
                "mobile": "06 12 34 56 78", "address_line1": "3 rue des Lilas",
                "postcode": "69003", "city": "Lyon", "updated": "2024-06-01 09:00"}
HELENE_SC = {"first_name": "Hélène", "last_name": "Lefèvre", "phone": "01 42 11 22 33",
             "postcode": "69003", "city": "Lyon", "updated": "2024-02-01 08:00"}


@pytest.fixture(autouse=True)
def known_model(db):
    frozen_default_model()


@pytest.fixture
def helene(crm, eshop, service_client_source):
    """Three records, three golden customers: the same woman, not linked yet."""
    return {
        "crm": one(crm, "C1", HELENE_CRM),
        "eshop": one(eshop, "E1", HELENE_ESHOP),
        "sc": one(service_client_source, "S1", HELENE_SC),
    }


def _merge_all(records, *, survivor=None, user=None, **kwargs) -> Decision:
    return customers_merge(
        customer_ids=[r.customer_id for r in records],
        survivor_id=survivor.customer_id if survivor is not None else None,
        acting_user=user, **kwargs,
    )


# --- Records move, customers redirect ---------------------------------------------------


def test_merge_moves_every_source_record_to_the_survivor(helene, steward_marketing):
    records = list(helene.values())
    decision = _merge_all(records, survivor=helene["eshop"], user=steward_marketing)
    survivor = helene["eshop"].customer_id
    assert decision.survivor_id == survivor
    assert {fresh(r).customer_id for r in records} == {survivor}
    assert partition() == {frozenset({"crm:C1", "eshop:E1", "service_client:S1"})}
    assert_every_record_in_exactly_one_active_customer()


def test_merged_customers_keep_their_ids_and_point_to_the_survivor(helene, steward_marketing):
    before = customers_state()
    _merge_all(list(helene.values()), survivor=helene["crm"], user=steward_marketing)
    after = customers_state()
    survivor = helene["crm"].customer_id
    assert set(after) == set(before)  # no customer deleted, none created
    for pk, row in after.items():
        assert row["public_id"] == before[pk]["public_id"]
        assert row["merged_into_id"] == (None if pk == survivor else survivor)
        assert customer_resolve(row["public_id"]).pk == survivor


def test_without_a_named_survivor_the_customer_with_most_records_survives(
    crm, eshop, service_client_source, steward_marketing
):
    small = one(crm, "C1", HELENE_CRM)
    big = ingest(eshop, [{"id": "E1", **HELENE_ESHOP}])[0]
    other = one(service_client_source, "S1", HELENE_SC)
    customers_merge(customer_ids=[big.customer_id, other.customer_id], survivor_id=big.customer_id,
                    acting_user=steward_marketing)
    decision = customers_merge(customer_ids=[small.customer_id, big.customer_id],
                               acting_user=steward_marketing)
    assert decision.survivor_id == big.customer_id


def test_a_chain_of_merges_resolves_to_the_last_survivor(helene, steward_marketing):
    first, second, third = (helene[k].customer for k in ("crm", "eshop", "sc"))
    customers_merge(customer_ids=[first.pk, second.pk], survivor_id=second.pk,
                    acting_user=steward_marketing)
    customers_merge(customer_ids=[second.pk, third.pk], survivor_id=third.pk,
                    acting_user=steward_marketing)
    for customer in (first, second, third):
        assert customer_resolve(customer.public_id).pk == third.pk
    assert Customer.objects.get(pk=first.pk).merged_into_id == second.pk  # the chain is kept


def test_merging_a_customer_already_merged_away_is_a_conflict(helene, steward_marketing):
    crm_customer, eshop_customer = helene["crm"].customer_id, helene["eshop"].customer_id
    customers_merge(customer_ids=[crm_customer, eshop_customer], survivor_id=crm_customer,
                    acting_user=steward_marketing)
    with pytest.raises(DecisionConflict):
        customers_merge(customer_ids=[eshop_customer, helene["sc"].customer_id],
                        acting_user=steward_marketing)


def test_the_survivor_must_be_one_of_the_merged_customers(helene, steward_marketing):
    with pytest.raises(DecisionInvalid) as error:
        customers_merge(customer_ids=[helene["crm"].customer_id, helene["eshop"].customer_id],
                        survivor_id=helene["sc"].customer_id, acting_user=steward_marketing)
    assert error.value.field == "survivor"


# --- Value choices ------------------------------------------------------------------------


def test_without_choices_survivorship_rules_decide_the_golden_values(helene, steward_marketing):
    _merge_all(list(helene.values()), survivor=helene["eshop"], user=steward_marketing)
    golden = customer_of(helene["eshop"])
    assert golden.email == "helene@orange.fr"  # the CRM is the most trusted source
    assert golden.provenance["email"]["rule"] == "trust_rank"
    assert golden.phone == "+33142112233"  # the only record that has one


def test_a_chosen_value_is_pinned_and_beats_the_trust_ranking(helene, steward_marketing):
    eshop = helene["eshop"]
    _merge_all([helene["crm"], eshop], choices={"email": eshop.pk}, user=steward_marketing)
    golden = customer_of(eshop)
    assert golden.email == "h.lefevre@gmail.com"
    assert golden.provenance["email"]["rule"] == "steward_choice"
    assert golden.pinned["email"] == {"source": "eshop", "external_id": "E1"}
    assert Decision.objects.get().choices == {"email": eshop.pk}


def test_a_pinned_value_survives_a_later_update_of_the_other_record(crm, helene, steward_marketing):
    eshop = helene["eshop"]
    _merge_all([helene["crm"], eshop], choices={"email": eshop.pk}, user=steward_marketing)
    # The CRM changes its record: the unpinned values follow it, the pinned one stays.
    ingest(crm, [{"id": "C1", **HELENE_CRM, "email": "helene.new@orange.fr",
                  "last_name": "Lefèvre-Martin", "updated": "2024-07-01 10:00"}])
    golden = customer_of(eshop)
    assert golden.last_name == "Lefèvre-Martin"  # recomputed from the new CRM values
    assert golden.email == "h.lefevre@gmail.com"
    assert golden.provenance["email"]["rule"] == "steward_choice"


def test_choosing_an_address_pins_the_whole_block(crm, eshop, steward_marketing):
    full = one(crm, "C1", HELENE_CRM)
    partial = one(eshop, "E1", {**HELENE_ESHOP, "address_line1": ""})  # no street line
    customers_merge(customer_ids=[full.customer_id, partial.customer_id],
                    choices={"address": partial.pk}, acting_user=steward_marketing)
    golden = customer_of(full)
    assert (golden.postcode, golden.city) == ("69003", "Lyon")
    # Never stitched: no street from the CRM on a Lyon postcode.
    assert golden.address_line1 == ""
    assert set(golden.pinned) == set(ADDRESS_GROUP)
    assert all(ref == {"source": "eshop", "external_id": "E1"} for ref in golden.pinned.values())


def test_choosing_one_address_field_pins_the_whole_block_too(crm, eshop, steward_marketing):
    full = one(crm, "C1", HELENE_CRM)
    other = one(eshop, "E1", HELENE_ESHOP)
    customers_merge(customer_ids=[full.customer_id, other.customer_id],
                    choices={"city": other.pk}, acting_user=steward_marketing)
    golden = customer_of(full)
    assert (golden.address_line1, golden.postcode, golden.city) == ("3 rue des Lilas", "69003", "Lyon")


@pytest.mark.parametrize(
    ("field", "record_key"),
    [
        ("email", "outsider"),  # a record that is not being merged
        ("phone", "eshop"),  # a record with no value for it
        ("favourite_colour", "eshop"),  # not an attribute at all
        ("email", "not a record id"),
    ],
)
def test_an_invalid_choice_is_refused_naming_the_field(
    helene, crm, steward_marketing, field, record_key
):
    stranger = one(crm, "C9", MARC)
    record_id = {"eshop": helene["eshop"].pk, "outsider": stranger.pk}.get(record_key, record_key)
    before = placement()
    with pytest.raises(DecisionInvalid) as error:
        _merge_all([helene["crm"], helene["eshop"]], choices={field: record_id},
                   user=steward_marketing)
    assert error.value.field == field
    assert field in str(error.value)
    assert placement() == before


# --- Steward decisions the merge obeys and writes ------------------------------------------


def test_merge_is_refused_when_a_steward_said_they_are_different_people(
    helene, steward_marketing, steward_service_client
):
    rejected = candidate_between(helene["crm"], helene["eshop"])
    candidate_reject(candidate_id=rejected.pk, acting_user=steward_service_client)
    before = placement()
    with pytest.raises(DecisionConflict, match="steward_sc"):
        _merge_all(list(helene.values()), user=steward_marketing)
    assert placement() == before
    assert not Decision.objects.filter(kind=Decision.Kind.MERGE).exists()


def test_merge_writes_must_links_joining_every_record_of_the_customer(
    crm, eshop, service_client_source, steward_marketing
):
    jeanne = ingest(crm, [{"id": "C1", **JEANNE}]) + ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_realtime(jeanne)  # the engine links them: one customer, two records
    paul = one(service_client_source, "S1", PAUL)
    customers_merge(customer_ids=[customer_of(jeanne[0]).pk, paul.customer_id],
                    acting_user=steward_marketing)
    records = [*jeanne, paul]
    assert must_link_components(r.pk for r in records) == [{r.pk for r in records}]
    assert set(PairDecision.objects.values_list("kind", flat=True)) == {"must_link"}


@pytest.mark.parametrize("run", ["realtime", "batch", "full batch"])
def test_a_later_matching_run_does_not_split_a_manual_merge(
    crm, eshop, service_client_source, steward_marketing, run
):
    # The engine links Jeanne's two records; a steward knows Paul's record is hers too
    # (a data-entry mix-up the engine scores as a different person).
    jeanne = ingest(crm, [{"id": "C1", **JEANNE}]) + ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_realtime(jeanne)
    paul = one(service_client_source, "S1", PAUL)
    match_realtime([paul])
    assert len(partition()) == 2
    customers_merge(customer_ids=[customer_of(jeanne[0]).pk, customer_of(paul).pk],
                    acting_user=steward_marketing)
    merged = partition()
    if run == "realtime":
        match_realtime([*jeanne, paul])
    else:
        # Every record changed since: the pending run re-clusters all of them.
        ingest(eshop, [{"id": "E1", **JEANNE_ESHOP, "city": "Lyon 3e"}])
        match_batch(full=run == "full batch")
    assert partition() == merged == {frozenset({"crm:C1", "eshop:E1", "service_client:S1"})}


# --- Candidates ---------------------------------------------------------------------------


def test_merge_closes_open_candidates_inside_the_merged_customer(helene, steward_marketing):
    inside = candidate_between(helene["crm"], helene["eshop"])
    also_inside = candidate_between(helene["eshop"], helene["sc"])
    _merge_all(list(helene.values()), user=steward_marketing)
    for candidate in (inside, also_inside):
        candidate.refresh_from_db()
        assert candidate.status == MergeCandidate.Status.MERGED
        assert candidate.decided_by == steward_marketing


def test_candidates_to_outside_customers_stay_open_with_their_departments_refreshed(
    helene, eshop, steward_marketing
):
    outsider = one(eshop, "E2", {**HELENE_ESHOP, "email": "other@gmail.com"})
    outside = candidate_between(helene["sc"], outsider)
    assert department_codes(outside) == {"service-client", "ecommerce"}
    _merge_all([helene["crm"], helene["sc"]], user=steward_marketing)
    outside.refresh_from_db()
    assert outside.status == MergeCandidate.Status.OPEN
    # Its customer now holds a CRM record: marketing has a say.
    assert department_codes(outside) == {"marketing", "service-client", "ecommerce"}


def test_candidate_merge_merges_both_customers_and_closes_the_candidate(helene, steward_marketing):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    decision = candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                               expected_updated_at=candidate.updated_at)
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.MERGED
    assert candidate.decided_by == steward_marketing and candidate.decided_at is not None
    assert decision.candidate_id == candidate.pk
    assert fresh(helene["crm"]).customer_id == fresh(helene["eshop"]).customer_id
    assert fresh(helene["sc"]).customer_id == helene["sc"].customer_id


def test_candidate_merge_takes_along_the_other_customers_the_steward_named(
    helene, steward_marketing
):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    candidate_between(helene["eshop"], helene["sc"])  # ties the third customer in
    candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                    also_customer_ids=[helene["sc"].customer_id])
    assert partition() == {frozenset({"crm:C1", "eshop:E1", "service_client:S1"})}


def test_a_customer_not_tied_to_the_candidate_cannot_be_taken_along(helene, steward_marketing):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    stranger = helene["sc"].customer
    with pytest.raises(DecisionInvalid) as refused:
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                        also_customer_ids=[stranger.pk])
    assert refused.value.field == "also_customers"
    assert str(stranger.public_id) in str(refused.value)
    assert len(partition()) == 3 and not Decision.objects.exists()
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN


def test_a_stale_candidate_is_a_conflict(helene, steward_marketing):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    seen = candidate.updated_at
    MergeCandidate.objects.filter(pk=candidate.pk).update(
        probability=0.9, updated_at=seen + timedelta(seconds=1)
    )  # matching scored it again meanwhile
    with translation.override("en"), pytest.raises(DecisionConflict, match="changed"):
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                        expected_updated_at=seen)
    assert not Decision.objects.exists()
    assert len(partition()) == 3


def test_a_candidate_leased_by_another_steward_is_a_conflict(
    helene, steward_marketing, steward_service_client
):
    candidate = candidate_between(helene["crm"], helene["sc"])
    assert candidate_claim(candidate=candidate, user=steward_service_client)
    with pytest.raises(DecisionConflict, match="steward_sc"):
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert not Decision.objects.exists()
    # The holder decides.
    candidate_merge(candidate_id=candidate.pk, acting_user=steward_service_client)
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.MERGED
    assert candidate.leased_by is None


def test_an_expired_lease_of_another_steward_does_not_block(
    helene, steward_marketing, steward_service_client
):
    candidate = candidate_between(helene["crm"], helene["sc"])
    MergeCandidate.objects.filter(pk=candidate.pk).update(
        leased_by=steward_service_client, leased_until=timezone.now() - timedelta(minutes=1)
    )
    candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert fresh(helene["crm"]).customer_id == fresh(helene["sc"]).customer_id


@pytest.mark.parametrize("decide", ["merge", "reject"])
def test_an_already_decided_candidate_is_a_conflict(
    helene, steward_marketing, steward_service_client, decide
):
    candidate = candidate_between(helene["crm"], helene["sc"])
    if decide == "merge":
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_service_client)
    else:
        candidate_reject(candidate_id=candidate.pk, acting_user=steward_service_client)
    after_first = placement()
    with pytest.raises(DecisionConflict, match="steward_sc"):
        candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert placement() == after_first
    assert Decision.objects.count() == 1


# --- Counts and history -------------------------------------------------------------------


def test_source_counts_are_right_right_after_a_merge(helene, crm, steward_marketing):
    ingest(crm, [{"id": "C2", **MARC}])
    assert_source_stats_match_the_records()
    _merge_all(list(helene.values()), user=steward_marketing)
    assert_source_stats_match_the_records()
    # Merging two customers that share a source: that source loses one customer.
    one(crm, "C3", {**HELENE_CRM, "email": "x@orange.fr"})
    customers_merge(customer_ids=[customer_of(helene["crm"]).pk,
                                  SourceRecord.objects.get(external_id="C3").customer_id],
                    acting_user=steward_marketing)
    assert_source_stats_match_the_records()


def test_every_change_of_a_merge_is_in_history_with_the_acting_steward(
    helene, steward_marketing
):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    started = timezone.now()
    decision = candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing,
                               choices={"email": helene["eshop"].pk}, reason="same mobile")
    assert decision.decided_by == steward_marketing and decision.reason == "same mobile"
    moved = SourceRecord.objects.get(pk=helene["crm"].pk if helene["crm"].customer_id
                                     != decision.survivor_id else helene["eshop"].pk)
    histories = {
        "moved record": moved.history.filter(history_date__gte=started),
        "survivor": Customer.objects.get(pk=decision.survivor_id).history.filter(
            history_date__gte=started),
        "merged away": Customer.objects.get(
            pk=next(pk for pk in (helene["crm"].customer_id, helene["eshop"].customer_id)
                    if pk != decision.survivor_id)
        ).history.filter(history_date__gte=started),
        "candidate": MergeCandidate.history.filter(id=candidate.pk, history_date__gte=started),
        "must-link": PairDecision.history.filter(history_date__gte=started),
        "decision": Decision.history.filter(id=decision.pk),
    }
    for what, rows in histories.items():
        assert rows.exists(), what
        assert {row.history_user_id for row in rows} == {steward_marketing.pk}, what


def test_a_merge_is_filed_under_the_departments_of_every_record_it_touched(
    helene, steward_marketing
):
    decision = _merge_all([helene["eshop"], helene["sc"]], user=steward_marketing)
    assert set(decision.departments.values_list("code", flat=True)) == {
        "ecommerce", "service-client"
    }


def test_a_merge_of_a_single_customer_is_refused(helene, steward_marketing):
    with pytest.raises(DecisionConflict):
        customers_merge(customer_ids=[helene["crm"].customer_id] * 2, acting_user=steward_marketing)


def test_nothing_is_written_when_a_merge_fails_halfway(helene, steward_marketing):
    before_customers, before_records = customers_state(), placement()
    with pytest.raises(DecisionInvalid):
        _merge_all(list(helene.values()), choices={"phone": helene["crm"].pk},
                   user=steward_marketing)
    assert customers_state() == before_customers and placement() == before_records
    assert not PairDecision.objects.exists()
