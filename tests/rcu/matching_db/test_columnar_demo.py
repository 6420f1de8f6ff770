"""On the demo base, a batch run scored columnar leaves what the row-by-row scoring
leaves: the same pairs (levels, weights, probabilities), the same customers and the
same review queue with the same explanations and guards."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import TestCase, override_settings

from rcu.engine.blocking import BUCKETS
from rcu.engine.scoring import HOUSEHOLD_EVIDENCE, levels_from_text
from rcu.models import MatchPair, SourceRecord
from rcu.services.demo import demo_seed
from rcu.services.matching import pairs as pairs_module
from rcu.services.matching.batch import match_run_create
from rcu.services.matching.context import match_context
from rcu.services.matching.pairs import (
    _partition_records_and_pairs,
    full_run_pairs,
    match_records_load,
    pairs_score_all,
    partition_pairs,
    partition_scores,
    partition_vectors,
)
from stewardship.models import MergeCandidate

pytestmark = pytest.mark.django_db

PARTITIONS = 3


@pytest.fixture
def demo_base(tmp_path):
    with TestCase.captureOnCommitCallbacks(execute=True):
        seeded = demo_seed(persons=150, seed=11, data_dir=tmp_path)
    assert seeded.seeded
    return get_user_model().objects.get(username="admin")


def _state_after_full_run(admin, *, columnar: bool) -> dict:
    """Pairs, customers and open candidates a full run leaves, in a savepoint rolled back."""
    sid = transaction.savepoint()
    try:
        with override_settings(RCU_COLUMNAR_SCORING=columnar), \
                TestCase.captureOnCommitCallbacks(execute=True):
            run = match_run_create(full=True, partitions=PARTITIONS, acting_user=admin)
        run.refresh_from_db()
        assert run.status == "succeeded", run.message
        groups: dict[int, set[int]] = {}
        for pk, customer_id in SourceRecord.objects.values_list("pk", "customer_id"):
            groups.setdefault(customer_id, set()).add(pk)
        return {
            "pairs": sorted(MatchPair.objects.values_list(
                "record_a_id", "record_b_id", "levels", "weight", "probability"
            )),
            "customers": {frozenset(g) for g in groups.values()},
            "candidates": sorted(
                MergeCandidate.objects.open().values_list(
                    "record_a_id", "record_b_id", "levels", "weight", "explanation"
                ),
                key=lambda row: (row[0], row[1]),
            ),
            "compared": run.pairs_compared,
        }
    finally:
        transaction.savepoint_rollback(sid)


def test_a_full_run_scored_columnar_leaves_what_row_by_row_scoring_leaves(demo_base):
    row = _state_after_full_run(demo_base, columnar=False)
    columnar = _state_after_full_run(demo_base, columnar=True)
    assert columnar["compared"] == row["compared"]
    assert columnar["pairs"] == row["pairs"]
    assert columnar["customers"] == row["customers"]
    assert columnar["candidates"] == row["candidates"]
    # Not vacuous: pairs linked, pairs queued for review, and guards on some of them.
    linked = sum(1 for group in row["customers"] if len(group) > 1)
    guards = Counter(explanation.get("link_guard") for *_, explanation in row["candidates"])
    assert linked and row["candidates"] and len(guards) > 1, (linked, guards)


def test_every_partition_keeps_the_same_pairs_either_way(demo_base):
    context = match_context()
    size = BUCKETS // PARTITIONS
    kept = 0
    for first in range(0, BUCKETS, size):
        bounds = {"first_bucket": first, "last_bucket": min(first + size, BUCKETS) - 1}
        columnar, compared = partition_pairs(
            **bounds, context=context, oversized=frozenset(), pending_run=None, columnar=True
        )
        row, row_compared = partition_pairs(
            **bounds, context=context, oversized=frozenset(), pending_run=None, columnar=False
        )
        assert compared == row_compared
        by_pair = sorted(columnar, key=lambda p: (p.a, p.b))
        assert by_pair == sorted(row, key=lambda p: (p.a, p.b))
        kept += len(row)
    assert kept


@pytest.mark.parametrize("slab", [None, 1000])
def test_a_full_run_lists_the_pairs_the_partitions_find_from_their_blocks(demo_base, slab, monkeypatch):
    """The pairs a full run lists once from the stored keys (`full_run_pairs`) are the
    pairs the partitions would find from their blocks and their records' keys: the same
    set, each pair once, in whichever partition."""
    if slab:  # the rows of the keys parsed as they come, in small slabs (PostgreSQL)
        monkeypatch.setattr(pairs_module, "_COPY_SLAB", slab)
    context = match_context()
    oversized = frozenset(sorted(context.skip_keys)[:1])  # a skipped block is left out
    pairs, _ = full_run_pairs(skip=context.skip_keys | oversized)
    listed = [tuple(pair) for pair in pairs.tolist()]
    _, from_blocks = _partition_records_and_pairs(
        first_bucket=0, last_bucket=BUCKETS - 1, context=context, oversized=oversized,
        pending_run=None,
    )
    expected = set(from_blocks)
    assert len(listed) == len(set(listed))
    assert set(listed) == expected and len(expected) > 100


def test_training_counts_the_vectors_of_its_share_of_pairs_as_scoring_pair_by_pair_does(demo_base):
    """What training learns from (`partition_vectors`, compared as arrays) is what
    `partition_scores` finds pair by pair: every comparison vector, counted alike."""
    context = match_context()
    bounds = {"first_bucket": 0, "last_bucket": BUCKETS // 2}
    counted = partition_vectors(**bounds, context=context, oversized=frozenset())
    row_by_row = Counter(
        pair.levels for pair in partition_scores(**bounds, context=context, oversized=frozenset())
    )
    assert counted == row_by_row
    assert sum(counted.values()) > 100 and len(counted) > 10


def test_pairs_scored_however_low_get_the_scores_of_the_row_by_row_scorer(demo_base):
    """The pairs within a component that clustering scores to stop chains
    (`pairs_score_all`) are mostly strangers' pairs, far below review: as arrays they
    get `Scorer.score`'s levels, weight and probability, to the bit."""
    context = match_context()
    ids = sorted(SourceRecord.objects.values_list("pk", flat=True))
    records = {i: context.scorer.prepare(r) for i, r in match_records_load(ids).items()}
    # Neighbours by id (often one person's records from two sources) and strangers.
    pairs = sorted(set(pairwise(ids))
                   | {(a, b) for a, b in zip(ids, ids[len(ids) // 2:], strict=False) if a < b})
    columnar = pairs_score_all(records=records, pairs=pairs, context=context, columnar=True)
    row = pairs_score_all(records=records, pairs=pairs, context=context, columnar=False)
    assert sorted(columnar, key=lambda p: (p.a, p.b)) == row
    probabilities = [p.probability for p in row]
    assert len(row) == len(pairs)
    assert min(probabilities) < 0.01 and max(probabilities) > context.auto_link


def test_a_stored_pair_is_explained_and_guarded_from_its_levels_as_from_its_records(demo_base):
    """The review queue's explanations come from the levels the run stored (no second
    comparison): the same explanation, term frequencies and guard included, as
    comparing the two records again; clustering's guards (`link_guard_stored`) too."""
    context = match_context()
    scorer = context.scorer
    stored = list(MatchPair.objects.values_list("record_a_id", "record_b_id", "levels", "weight"))
    records = {
        i: scorer.prepare(r)
        for i, r in match_records_load({r for a, b, *_ in stored for r in (a, b)}).items()
    }
    guards = set()
    for a, b, levels, weight in stored:
        explained = scorer.explain_scored_dict(records[a], levels_from_text(levels))
        assert explained == scorer.explain_pair_dict(records[a], records[b]), (a, b)
        # Clustering's guard, worked out once per vector, is the explanation's.
        assert scorer.link_guard_stored(levels, weight) == explained["link_guard"], (a, b)
        guards.add(explained["link_guard"])
    assert len(stored) > 100 and len(guards) > 2, guards
    assert HOUSEHOLD_EVIDENCE in guards  # the branch that depends on the weight
