"""Pairwise quality counting: small hand-made cases whose answers are counted by hand."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from bench.quality import pairs, pairwise_quality, review_quality

# Persons: P has 3 records (a1 a2 a3: 3 true pairs), Q has 2 (b1 b2: 1 pair), R has 1.
TRUTH = {"a1": "P", "a2": "P", "a3": "P", "b1": "Q", "b2": "Q", "c1": "R"}


def brute_force(clusters, truth):
    """Enumerate every pair: the slow definition the counting must agree with."""
    cluster_of = {r: i for i, members in enumerate(clusters) for r in members}
    records = sorted(truth)
    true = {p for p in combinations(records, 2) if truth[p[0]] == truth[p[1]]}
    predicted = {
        p for p in combinations(records, 2)
        if p[0] in cluster_of and cluster_of[p[0]] == cluster_of.get(p[1])
    }
    return len(true), len(predicted), len(true & predicted)


def test_pairs():
    assert [pairs(n) for n in range(6)] == [0, 0, 1, 3, 6, 10]


def test_perfect_clustering():
    q = pairwise_quality(predicted_clusters=[["a1", "a2", "a3"], ["b1", "b2"], ["c1"]], truth=TRUTH)
    assert q == {"true_pairs": 4, "predicted_pairs": 4, "true_positives": 4,
                 "precision": 1.0, "recall": 1.0}


def test_split_person_loses_recall_not_precision():
    # a3 left alone: a1-a2 and b1-b2 found, a1-a3 and a2-a3 missed.
    q = pairwise_quality(predicted_clusters=[["a1", "a2"], ["a3"], ["b1", "b2"]], truth=TRUTH)
    assert (q["true_pairs"], q["predicted_pairs"], q["true_positives"]) == (4, 2, 2)
    assert q["precision"] == 1.0
    assert q["recall"] == pytest.approx(2 / 4)


def test_merged_persons_lose_precision_not_recall():
    # Everything in one cluster: C(6,2)=15 predicted pairs, 4 of them true.
    q = pairwise_quality(predicted_clusters=[list(TRUTH)], truth=TRUTH)
    assert (q["true_pairs"], q["predicted_pairs"], q["true_positives"]) == (4, 15, 4)
    assert q["precision"] == pytest.approx(4 / 15)
    assert q["recall"] == 1.0


def test_mixed_cluster_counts_intersections():
    # {a1, a2, b1}: 3 predicted pairs, only a1-a2 true. {a3, b2, c1}: 3 predicted, none true.
    q = pairwise_quality(predicted_clusters=[["a1", "a2", "b1"], ["a3", "b2", "c1"]], truth=TRUTH)
    assert (q["true_pairs"], q["predicted_pairs"], q["true_positives"]) == (4, 6, 1)
    assert q["precision"] == pytest.approx(1 / 6)
    assert q["recall"] == pytest.approx(1 / 4)


def test_records_missing_from_truth_are_ignored_and_unlisted_are_singletons():
    # "x" and "y" are not in truth: their pairs count nowhere. b1, b2, c1 not listed at all.
    q = pairwise_quality(predicted_clusters=[["a1", "a2", "x"], ["a3", "y"]], truth=TRUTH)
    assert (q["true_pairs"], q["predicted_pairs"], q["true_positives"]) == (4, 1, 1)
    assert q["recall"] == pytest.approx(1 / 4)


def test_empty_prediction_and_no_duplicates():
    q = pairwise_quality(predicted_clusters=[], truth=TRUTH)
    assert (q["predicted_pairs"], q["true_positives"], q["precision"], q["recall"]) == (0, 0, 1.0, 0.0)
    q = pairwise_quality(predicted_clusters=[["u", "v"]], truth={"u": 1, "v": 2})
    assert (q["true_pairs"], q["predicted_pairs"], q["precision"], q["recall"]) == (0, 1, 0.0, 1.0)


def test_generators_are_accepted():
    q = pairwise_quality(
        predicted_clusters=(iter(c) for c in [("a1", "a2", "a3")]), truth=TRUTH
    )
    assert q["true_positives"] == 3


def test_a_record_in_two_clusters_is_refused():
    with pytest.raises(ValueError, match="two predicted clusters"):
        pairwise_quality(predicted_clusters=[["a1", "a2"], ["a2", "a3"]], truth=TRUTH)


def test_agrees_with_brute_force_on_random_clusterings():
    rng = random.Random(7)
    for _ in range(200):
        records = [f"r{i}" for i in range(rng.randint(0, 25))]
        truth = {r: rng.randint(0, 6) for r in records}
        shuffled = [*records, "ghost1", "ghost2"]  # not in truth
        rng.shuffle(shuffled)
        clusters, i = [], 0
        while i < len(shuffled):
            size = rng.randint(1, 5)
            clusters.append(shuffled[i : i + size])
            i += size
        clusters = [c for c in clusters if rng.random() < 0.8]  # some records unlisted
        q = pairwise_quality(predicted_clusters=clusters, truth=truth)
        assert (q["true_pairs"], q["predicted_pairs"], q["true_positives"]) == brute_force(
            clusters, truth
        )


# --- review queue -------------------------------------------------------------------

def test_review_pair_joining_two_clusters_finds_their_cross_pairs():
    # Clusters {a1, a2} and {a3}; review pair (a2, a3) joins them: a1-a3 and a2-a3 found.
    q = review_quality(
        predicted_clusters=[["a1", "a2"], ["a3"], ["b1"], ["b2"]],
        review_pairs=[("a2", "a3")],
        truth=TRUTH,
    )
    assert q["true_positives"] == 1  # a1-a2, automatic
    assert q["review_true_positives"] == 2
    assert q["found_pairs"] == 3
    assert q["recall"] == pytest.approx(1 / 4)
    assert q["recall_with_review"] == pytest.approx(3 / 4)  # b1-b2 still missed
    assert (q["review_items"], q["review_useful_items"]) == (1, 1)
    assert q["review_precision"] == 1.0
    assert q["review_per_true_pair"] == pytest.approx(1 / 4)


def test_review_pairs_are_deduplicated_per_cluster_pair_and_inside_cluster_dropped():
    q = review_quality(
        predicted_clusters=[["a1", "a2"], ["a3"]],
        # Three record pairs, one cluster pair; (a1, a2) is inside a cluster.
        review_pairs=[("a1", "a3"), ("a3", "a2"), ("a2", "a3"), ("a1", "a2")],
        truth=TRUTH,
    )
    assert q["review_items"] == 1
    assert q["review_true_positives"] == 2  # counted once, not three times


def test_useless_review_items_count_in_queue_but_find_nothing():
    # b1, b2 and c1 are unlisted singletons; (b1, c1) is a wrong suggestion,
    # (b2, b1) a right one.
    q = review_quality(
        predicted_clusters=[["a1", "a2", "a3"]],
        review_pairs=[("b1", "c1"), ("b2", "b1")],
        truth=TRUTH,
    )
    assert q["true_positives"] == 3
    assert q["review_true_positives"] == 1
    assert q["recall_with_review"] == 1.0
    assert (q["review_items"], q["review_useful_items"]) == (2, 1)
    assert q["review_precision"] == pytest.approx(1 / 2)
    assert q["review_per_true_pair"] == pytest.approx(2 / 4)


def test_reviews_are_not_transitive():
    # {a1} - {a2} - {a3} reviewed as a chain: a1-a2 and a2-a3 found, a1-a3 not.
    q = review_quality(
        predicted_clusters=[["a1"], ["a2"], ["a3"]],
        review_pairs=[("a1", "a2"), ("a2", "a3")],
        truth=TRUTH,
    )
    assert q["found_pairs"] == 2


def test_review_of_mixed_clusters_counts_only_same_person_cross_pairs():
    # {a1, b1} x {a2, a3, b2}: cross pairs a1-a2, a1-a3, b1-b2 are true (3 of 6).
    q = review_quality(
        predicted_clusters=[["a1", "b1"], ["a2", "a3", "b2"]],
        review_pairs=[("b1", "a2")],
        truth=TRUTH,
    )
    assert q["true_positives"] == 1  # a2-a3
    assert q["review_true_positives"] == 3
    assert q["found_pairs"] == 4
    assert q["recall_with_review"] == 1.0


def test_review_without_pairs_equals_pairwise_quality():
    clusters = [["a1", "a2", "b1"], ["a3", "b2", "c1"]]
    q = review_quality(predicted_clusters=clusters, review_pairs=[], truth=TRUTH)
    base = pairwise_quality(predicted_clusters=clusters, truth=TRUTH)
    assert {k: q[k] for k in base} == base
    assert q["recall_with_review"] == q["recall"]
    assert (q["review_items"], q["review_precision"], q["review_per_true_pair"]) == (0, 1.0, 0.0)


def test_review_agrees_with_brute_force_on_random_cases():
    rng = random.Random(11)
    for _ in range(200):
        records = [f"r{i}" for i in range(rng.randint(2, 20))]
        truth = {r: rng.randint(0, 4) for r in records}
        shuffled = records[:]
        rng.shuffle(shuffled)
        clusters, i = [], 0
        while i < len(shuffled):
            size = rng.randint(1, 4)
            clusters.append(shuffled[i : i + size])
            i += size
        reviews = [tuple(rng.sample(records, 2)) for _ in range(rng.randint(0, 8))]
        cluster_of = {r: k for k, members in enumerate(clusters) for r in members}
        edges = {frozenset((cluster_of[a], cluster_of[b])) for a, b in reviews}
        edges = {e for e in edges if len(e) == 2}
        true = [p for p in combinations(records, 2) if truth[p[0]] == truth[p[1]]]
        found = sum(
            1 for a, b in true
            if cluster_of[a] == cluster_of[b] or frozenset((cluster_of[a], cluster_of[b])) in edges
        )
        q = review_quality(predicted_clusters=clusters, review_pairs=reviews, truth=truth)
        assert (q["true_pairs"], q["found_pairs"], q["review_items"]) == (len(true), found, len(edges))
