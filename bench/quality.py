"""Pairwise matching quality against a ground truth, by counting, not enumerating pairs.

A *pair* is an unordered pair of distinct records. The true pairs are the pairs of records
of the same person (same person id in `truth`); the predicted pairs are the pairs of
records in the same predicted cluster. Then

    precision = |predicted ∩ true| / |predicted|,   recall = |predicted ∩ true| / |true|.

Counting is done with a (cluster, person) contingency table: a cluster of n records holds
C(n, 2) predicted pairs, a person with n records C(n, 2) true pairs, and the n records of
one person inside one cluster C(n, 2) true positives. Memory and time grow with the number
of records, never with the number of pairs, so a million records take a second or two.

Conventions:
- Records missing from `truth` (malformed lines, say) are ignored everywhere.
- Records of `truth` that no predicted cluster holds are singletons: the clusters may list
  only the records that were linked to something.
- With nothing predicted, precision is 1.0; with no true pair, recall is 1.0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping


def pairs(n: int) -> int:
    """C(n, 2): the unordered pairs among n records."""
    return n * (n - 1) // 2


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def _person_counts_by_cluster(
    predicted_clusters: Iterable[Iterable[Hashable]], truth: Mapping[Hashable, Hashable]
) -> tuple[list[Counter], dict[Hashable, int]]:
    """For each predicted cluster, how many of its records belong to each person; and the
    cluster index of every record listed (truth or not).

    A record listed in two clusters is an error: clusters must be disjoint.
    """
    by_cluster: list[Counter] = []
    cluster_of: dict[Hashable, int] = {}
    for members in predicted_clusters:
        index = len(by_cluster)
        persons: Counter = Counter()
        for record in members:
            if cluster_of.setdefault(record, index) != index:
                raise ValueError(f"record {record!r} is in two predicted clusters")
            person = truth.get(record)
            if person is not None:
                persons[person] += 1
        by_cluster.append(persons)
    return by_cluster, cluster_of


def _true_pairs(truth: Mapping[Hashable, Hashable]) -> int:
    return sum(pairs(n) for n in Counter(truth.values()).values())


def _quality(by_cluster: list[Counter], true_pairs: int) -> dict:
    predicted = sum(pairs(sum(persons.values())) for persons in by_cluster)
    true_positives = sum(pairs(n) for persons in by_cluster for n in persons.values())
    return {
        "true_pairs": true_pairs,
        "predicted_pairs": predicted,
        "true_positives": true_positives,
        "precision": _ratio(true_positives, predicted),
        "recall": _ratio(true_positives, true_pairs),
    }


def pairwise_quality(
    *,
    predicted_clusters: Iterable[Iterable[Hashable]],
    truth: Mapping[Hashable, Hashable],
) -> dict:
    """Pairwise precision and recall of a clustering.

    `predicted_clusters`: disjoint groups of record ids (singletons may be left out).
    `truth`: record id → person id, for every record of the data set.

    Returns {"true_pairs", "predicted_pairs", "true_positives", "precision", "recall"},
    counted over the records of `truth` only.
    """
    by_cluster, _ = _person_counts_by_cluster(predicted_clusters, truth)
    return _quality(by_cluster, _true_pairs(truth))


def review_quality(
    *,
    predicted_clusters: Iterable[Iterable[Hashable]],
    review_pairs: Iterable[tuple[Hashable, Hashable]],
    truth: Mapping[Hashable, Hashable],
) -> dict:
    """Recall of "automatic links plus a review queue".

    The automatic links are the `predicted_clusters`; `review_pairs` are pairs of records
    put to a steward, each standing for "should these two records' clusters be merged?".
    A true pair is *found* when its two records are in the same cluster, or when some
    review pair joins their two clusters directly (not through a chain of reviews). A
    record no cluster lists is its own singleton cluster.

    Returns everything `pairwise_quality` returns (for the automatic links alone), plus:
    - "review_items": distinct unordered pairs of clusters the review pairs join (review
      pairs inside one cluster are dropped: there is nothing left to decide);
    - "review_useful_items": those that join at least one true pair;
    - "review_true_positives": true pairs found through a review item;
    - "found_pairs": true_positives + review_true_positives;
    - "recall_with_review": found_pairs / true_pairs;
    - "review_precision": review_useful_items / review_items;
    - "review_per_true_pair": review_items / true_pairs, the queue's size relative to the
      number of true duplicate pairs.
    """
    by_cluster, cluster_of = _person_counts_by_cluster(predicted_clusters, truth)
    result = _quality(by_cluster, _true_pairs(truth))

    def cluster(record: Hashable) -> int:
        index = cluster_of.get(record)
        if index is None:  # a singleton nobody listed
            index = cluster_of[record] = len(by_cluster)
            person = truth.get(record)
            by_cluster.append(Counter({person: 1}) if person is not None else Counter())
        return index

    items: set[tuple[int, int]] = set()
    for a, b in review_pairs:
        ca, cb = cluster(a), cluster(b)
        if ca != cb:
            items.add((ca, cb) if ca < cb else (cb, ca))

    review_true_positives = 0
    useful = 0
    for ca, cb in items:
        small, large = sorted((by_cluster[ca], by_cluster[cb]), key=len)
        joined = sum(n * large[person] for person, n in small.items() if person in large)
        if joined:
            useful += 1
            review_true_positives += joined

    found = result["true_positives"] + review_true_positives
    result.update(
        review_items=len(items),
        review_useful_items=useful,
        review_true_positives=review_true_positives,
        found_pairs=found,
        recall_with_review=_ratio(found, result["true_pairs"]),
        review_precision=_ratio(useful, len(items)),
        review_per_true_pair=len(items) / result["true_pairs"] if result["true_pairs"] else 0.0,
    )
    return result
