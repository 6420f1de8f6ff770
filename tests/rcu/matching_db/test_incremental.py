"""Incremental matching: whatever came before, a pending run leaves what a full run would."""

from __future__ import annotations

import pytest

from rcu.models import MatchPair, PendingMatch
from tests.factories import TEST_ACTOR, ingest
from tests.rcu.matching_db.conftest import partition
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_LANDLINE, MARC, PAUL

pytestmark = pytest.mark.django_db


def stored_pairs() -> set[tuple[int, int, float]]:
    return {(a, b, round(p, 9)) for a, b, p in MatchPair.objects.values_list(
        "record_a_id", "record_b_id", "probability")}


def test_a_second_import_into_a_matched_base_matches_without_error(crm, eshop, run_match):
    """Jeanne's two records already share blocks; her third record joins them."""
    first = ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **PAUL}]) + ingest(
        eshop, [{"id": "E1", **JEANNE_ESHOP}, {"id": "E2", **MARC}])
    run_match(full=True)
    second = ingest(eshop, [{"id": "E9", **JEANNE_LANDLINE}])
    run = run_match()
    assert not PendingMatch.objects.exists()
    after_pending = (partition(first + second), stored_pairs())
    run_match(full=True)
    assert (partition(first + second), stored_pairs()) == after_pending
    assert run.records == 1


def test_a_record_changed_while_a_run_scores_stays_queued_for_the_next_run(crm, eshop, run_match,
                                                                          django_capture_on_commit_callbacks):
    from rcu.services.matching.batch import (
        match_run_create,
        match_run_finalize,
        match_run_prepare,
        match_run_score_partition,
    )

    (jeanne,) = ingest(crm, [{"id": "C1", **JEANNE}])
    run = match_run_create(full=False, partitions=1, acting_user=TEST_ACTOR)  # on commit: not started here
    run = match_run_prepare(run=run)
    assert PendingMatch.objects.get(record_id=jeanne.pk).claimed_by == run.pk
    ingest(crm, [{"id": "C1", **JEANNE, "city": "Lyon", "postcode": "69003"}])  # changed meanwhile
    match_run_score_partition(run_id=run.pk, index=0)
    match_run_finalize(run_id=run.pk)
    waiting = PendingMatch.objects.get(record_id=jeanne.pk)
    assert waiting.claimed_by is None, "the run cleared a change it never saw"
    run_match()
    assert not PendingMatch.objects.exists()


def test_a_run_created_while_another_scores_waits_and_starts_when_it_ends(crm, eshop):
    from django.test import TestCase

    from rcu.models import MatchRun
    from rcu.services.matching.batch import (
        match_run_create,
        match_run_finalize,
        match_run_prepare,
        match_run_score_partition,
    )

    ingest(crm, [{"id": "C1", **JEANNE}])
    first = match_run_prepare(run=match_run_create(full=False, partitions=1, acting_user=TEST_ACTOR))
    ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    second = match_run_prepare(run=match_run_create(full=False, partitions=1, acting_user=TEST_ACTOR))
    assert second.status == MatchRun.Status.PENDING
    assert second.message == f"waits for run #{first.pk}"
    match_run_score_partition(run_id=first.pk, index=0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        match_run_finalize(run_id=first.pk)
    second.refresh_from_db()
    assert second.status == MatchRun.Status.SUCCEEDED
    assert not PendingMatch.objects.exists()
    assert partition_of_all() == {frozenset({"crm:C1", "eshop:E1"})}


def partition_of_all():
    from rcu.models import SourceRecord

    return partition(list(SourceRecord.objects.all()))


def test_pairs_scored_under_other_thresholds_are_all_rescored_by_the_next_pending_run(
    crm, eshop, run_match,
):
    from rcu.models import MatchSettings

    ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **PAUL}])
    ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    run_match(full=True)
    settings = MatchSettings.objects.get(pk=1)
    settings.review = 0.01  # an administrator lowers the review threshold
    settings.save()
    ingest(eshop, [{"id": "E2", **MARC}])
    run = run_match()
    assert run.full, "a pending run under new thresholds must rescore every pair"
    assert "every pair rescored" in run.message
    after = (partition_of_all(), stored_pairs())
    run_match(full=True)
    assert (partition_of_all(), stored_pairs()) == after


def test_a_pending_run_under_the_same_settings_stays_pending(crm, eshop, run_match):
    ingest(crm, [{"id": "C1", **JEANNE}])
    run_match(full=True)
    ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    assert not run_match().full


@pytest.fixture
def small_blocks():
    from rcu.models import MatchSettings

    MatchSettings.objects.filter(pk=1).update(max_block_size=3)


def namesake(i: int) -> dict:
    """People sharing a surname and a town, and nothing else."""
    return {"first_name": f"Prénom{chr(65 + i)}", "last_name": "Martin", "postcode": "33000",
            "city": "Bordeaux", "birth_date": f"19{50 + i}-01-0{1 + i % 9}"}


@pytest.mark.parametrize("path", ["import", "ingest"])
def test_a_block_that_grows_oversized_drops_the_pairs_it_alone_made(crm, run_match, small_blocks, path):
    from rcu.services.ingestion import record_ingest

    ingest(crm, [{"id": f"N{i}", **namesake(i)} for i in range(2)])
    run_match(full=True)
    for i in range(2, 12):
        if path == "import":
            ingest(crm, [{"id": f"N{i}", **namesake(i)}])
        else:
            record_ingest(source=crm, payload={"id": f"N{i}", **namesake(i), "updated": ""}, acting_user=TEST_ACTOR)
    run_match()
    after = (partition_of_all(), stored_pairs())
    run_match(full=True)
    assert (partition_of_all(), stored_pairs()) == after


def test_a_block_back_under_its_limit_after_deletions_gives_its_pairs_again(crm, run_match, small_blocks):
    from rcu.services.source_deletions import records_delete_at_source

    ingest(crm, [{"id": f"N{i}", **namesake(i)} for i in range(12)])
    run_match(full=True)
    records_delete_at_source(source=crm, external_ids=[f"N{i}" for i in range(2, 12)],
                             acting_user=TEST_ACTOR, reason="deleted at the source")
    run_match()
    after = (partition_of_all(), stored_pairs())
    run_match(full=True)
    assert (partition_of_all(), stored_pairs()) == after


def test_a_merge_leaves_one_open_candidate_per_pair_of_customers_and_undo_restores_them(
    crm, eshop, run_match,
):
    from rcu.roles import Role
    from stewardship.models import MergeCandidate
    from stewardship.services.merge import candidate_merge
    from stewardship.services.unmerge import decision_undo
    from tests.factories import make_user
    from tests.rcu.matching_db.people import MARC_LYON

    def name_and_town(person):
        return {k: person[k] for k in ("first_name", "last_name", "postcode", "city")}

    # Three Marc Dubois of Lyon, two of them in one district: every pair in review.
    lyon_sparse, lyon, other_district_sparse = ingest(crm, [
        {"id": "C0", **name_and_town(MARC_LYON)}, {"id": "C1", **MARC_LYON},
        {"id": "C2", **name_and_town(MARC), "postcode": "69001", "city": "Lyon"},
    ])
    run_match()
    open_pairs = set(MergeCandidate.objects.open().values_list("record_a_id", "record_b_id"))
    assert open_pairs == {(lyon_sparse.pk, lyon.pk), (lyon_sparse.pk, other_district_sparse.pk),
                          (lyon.pk, other_district_sparse.pk)}
    # A steward of the CRM's department: undoing needs one (stewardship.selectors.access).
    admin = make_user("admin-merge", roles=[Role.STEWARD], departments=["marketing"])
    merged = MergeCandidate.objects.get(record_a_id=lyon_sparse.pk, record_b_id=other_district_sparse.pk)
    decision = candidate_merge(candidate_id=merged.pk, acting_user=admin)
    left = list(MergeCandidate.objects.open())
    assert len(left) == 1, "two open candidates for one pair of customers"
    after = (partition_of_all(), stored_pairs(),
             set(MergeCandidate.objects.open().values_list("record_a_id", "record_b_id")))
    run_match(full=True)
    assert (partition_of_all(), stored_pairs(),
            set(MergeCandidate.objects.open().values_list("record_a_id", "record_b_id"))) == after
    decision_undo(decision_id=decision.pk, acting_user=admin)
    assert set(MergeCandidate.objects.open().values_list("record_a_id", "record_b_id")) == open_pairs
