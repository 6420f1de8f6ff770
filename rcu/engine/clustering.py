"""From scored pairs to golden-customer clusters, without chaining unrelated people.

Pairs scored at or above `auto_link` are linked automatically, strongest first, by
union-find. Transitivity is what makes that dangerous: A-B and B-C may both be strong
while A and C are plainly different people. So two clusters are only merged when nothing
spanning them says otherwise:

- a steward's cannot-link pair between them (reason "cannot_link"), or
- a scored pair between them below `review` — explicit evidence that they differ, a
  "soft cannot-link" (reason "conflicting_scores"). Pairs that were never scored are
  unknown, not evidence, and do not block.

Rules for steward decisions:

- Cannot-link is absolute: two records of a cannot-link pair never end in the same
  cluster, and a cannot-link pair is never proposed for review again.
- Must-link pairs are applied first, in (min id, max id) order, and override scores (a
  steward outranks the model). A must-link pair that is itself a cannot-link pair, or
  whose union would put the two records of a cannot-link pair together through a chain,
  contradicts another steward decision: it is not applied and is reported in
  `refused_must_links` with reason "cannot_link", for a steward to settle.

The result depends only on the sets of pairs and decisions, never on their order: ties
between equal probabilities are broken by (min id, max id).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

RefusalReason = Literal["cannot_link", "conflicting_scores"]
IdPair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two records and the probability that they are the same person; always a < b."""

    a: int
    b: int
    probability: float

    def __post_init__(self) -> None:
        if self.a == self.b:
            raise ValueError(f"a record cannot be paired with itself: {self.a}")
        if not 0.0 <= self.probability <= 1.0:  # also rejects NaN
            raise ValueError(f"probability out of [0, 1]: {self.probability!r}")
        if self.a > self.b:
            a, b = self.b, self.a
            object.__setattr__(self, "a", a)
            object.__setattr__(self, "b", b)

    @property
    def ids(self) -> IdPair:
        return (self.a, self.b)


@dataclass(frozen=True, slots=True)
class Clustering:
    """Clusters of two records or more, and what was not linked automatically."""

    clusters: list[frozenset[int]]  # sorted by min id
    # Auto-link pairs that were not applied, in the order they were considered.
    refused_links: list[tuple[ScoredPair, RefusalReason]]
    # Grey-zone pairs across clusters and auto-link pairs refused for conflicting scores,
    # most probable first; never a cannot-link pair.
    review_pairs: list[ScoredPair]
    # Must-link pairs that contradict a cannot-link decision, in (min id, max id) order.
    refused_must_links: list[tuple[IdPair, RefusalReason]]
    labels: Mapping[int, int] = field(repr=False)

    def cluster_of(self, record_id: int) -> int | None:
        """The cluster's label (its smallest record id), or None for a record left alone."""
        return self.labels.get(record_id)


def cluster(
    pairs: Iterable[ScoredPair],
    *,
    auto_link: float,
    review: float,
    cannot_link: Iterable[Collection[int]] = frozenset(),
    must_link: Iterable[Collection[int]] = frozenset(),
    conflict: float | None = None,
    separate: Iterable[Collection[int]] = frozenset(),
) -> Clustering:
    """Cluster records from their scored pairs and the stewards' decisions.

    `conflict` (default: `review`) is the probability under which a scored pair is
    evidence that its records differ and stops a chain; a pair between `conflict` and
    `review` is too weak either way (two sparse records of one person often are).
    `separate`: pairs that stop a chain whatever their score (the engine found them
    contradicting each other) while staying in review if scored there.
    """
    if not 0.0 <= review < auto_link <= 1.0:  # also rejects NaN
        raise ValueError(f"expected 0 <= review < auto_link <= 1, got {review=}, {auto_link=}")
    conflict = review if conflict is None else conflict
    if not 0.0 <= conflict <= review:
        raise ValueError(f"expected 0 <= conflict <= review, got {conflict=}, {review=}")

    scores = _best_scores(pairs)
    forbidden = {_id_pair(pair) for pair in cannot_link}
    required = sorted({_id_pair(pair) for pair in must_link})

    forest = _Forest(
        cannot_link=forbidden,
        below_review=[
            *(ids for ids, p in scores.items() if p < conflict),
            *(_id_pair(pair) for pair in separate),
        ],
    )

    refused_must_links: list[tuple[IdPair, RefusalReason]] = []
    for a, b in required:
        root_a, root_b = forest.find(a), forest.find(b)
        if root_a == root_b:
            continue
        if forest.conflict(root_a, root_b) == "cannot_link":
            refused_must_links.append(((a, b), "cannot_link"))
        else:
            forest.union(root_a, root_b)

    # Strongest first; (min id, max id) breaks ties so that input order never matters.
    auto_links = sorted((-p, a, b) for (a, b), p in scores.items() if p >= auto_link)
    refused_links: list[tuple[ScoredPair, RefusalReason]] = []
    for minus_p, a, b in auto_links:
        root_a, root_b = forest.find(a), forest.find(b)
        if root_a == root_b:
            continue
        reason = forest.conflict(root_a, root_b)
        if reason is not None:
            refused_links.append((ScoredPair(a, b, -minus_p), reason))
        else:
            forest.union(root_a, root_b)

    to_review = [
        (-p, a, b)
        for (a, b), p in scores.items()
        if review <= p < auto_link and forest.find(a) != forest.find(b)
    ]
    # A pair refused for conflicting scores is still across two clusters: clusters only grow.
    to_review += [
        (-pair.probability, pair.a, pair.b)
        for pair, reason in refused_links
        if reason == "conflicting_scores"
    ]
    review_pairs = [
        ScoredPair(a, b, -minus_p) for minus_p, a, b in sorted(to_review) if (a, b) not in forbidden
    ]

    clusters = sorted(forest.clusters(), key=min)
    labels: dict[int, int] = {}
    for members in clusters:
        labels.update(dict.fromkeys(members, min(members)))
    return Clustering(
        clusters=clusters,
        refused_links=refused_links,
        review_pairs=review_pairs,
        refused_must_links=refused_must_links,
        labels=labels,
    )


def _best_scores(pairs: Iterable[ScoredPair]) -> dict[IdPair, float]:
    """The highest probability of every unordered pair, keyed by (min id, max id)."""
    scores: dict[IdPair, float] = {}
    for pair in pairs:
        ids = (pair.a, pair.b)  # ScoredPair keeps a < b
        known = scores.get(ids)
        if known is None or pair.probability > known:
            scores[ids] = pair.probability
    return scores


def _id_pair(pair: Collection[int]) -> IdPair:
    ids = tuple(pair)
    if len(ids) != 2 or ids[0] == ids[1]:
        raise ValueError(f"a steward decision links two distinct records, got {pair!r}")
    a, b = ids
    return (a, b) if a < b else (b, a)


class _Forest:
    """Union-find over record ids, carrying the evidence against merging its clusters.

    `_conflicts[root]` maps every other cluster root that some cannot-link pair or some
    pair scored below review connects to this cluster, with the strongest such reason.
    Contracting that graph on every union makes the check before a merge a single dict
    lookup; a union relabels the entries of the smaller conflict map only.
    """

    def __init__(self, *, cannot_link: Iterable[IdPair], below_review: Iterable[IdPair]) -> None:
        self._parent: dict[int, int] = {}
        conflicts: dict[int, dict[int, RefusalReason]] = {}
        by_reason: tuple[tuple[RefusalReason, Iterable[IdPair]], ...] = (
            ("conflicting_scores", below_review), ("cannot_link", cannot_link),
        )
        for reason, pairs in by_reason:
            for a, b in pairs:
                conflicts.setdefault(a, {})[b] = reason
                conflicts.setdefault(b, {})[a] = reason
        self._conflicts = conflicts

    def _add_conflict(self, root_a: int, root_b: int, reason: RefusalReason) -> None:
        for root, other in ((root_a, root_b), (root_b, root_a)):
            conflicts = self._conflicts.setdefault(root, {})
            if conflicts.get(other) != "cannot_link":
                conflicts[other] = reason

    def find(self, record: int) -> int:
        parent = self._parent
        while (up := parent.get(record, record)) != record:
            # Path halving: point every other node at its grandparent on the way up.
            grandparent = parent.get(up, up)
            parent[record] = grandparent
            record = grandparent
        return record

    def conflict(self, root_a: int, root_b: int) -> RefusalReason | None:
        """Why the two clusters must stay apart, if some pair spanning them says so."""
        conflicts = self._conflicts.get(root_a)
        return conflicts.get(root_b) if conflicts else None

    def union(self, root_a: int, root_b: int) -> None:
        survivor, absorbed = root_a, root_b
        if len(self._conflicts.get(survivor, ())) < len(self._conflicts.get(absorbed, ())):
            survivor, absorbed = absorbed, survivor
        self._parent[absorbed] = survivor
        moved = self._conflicts.pop(absorbed, None)
        if not moved:
            return
        moved.pop(survivor, None)
        self._conflicts.get(survivor, {}).pop(absorbed, None)
        for other, reason in moved.items():
            del self._conflicts[other][absorbed]
            self._add_conflict(survivor, other, reason)

    def clusters(self) -> list[frozenset[int]]:
        """Every cluster of two records or more: each merged record and its root."""
        members: dict[int, list[int]] = {}
        for record in list(self._parent):
            root = self.find(record)
            members.setdefault(root, [root]).append(record)
        return [frozenset(group) for group in members.values()]
