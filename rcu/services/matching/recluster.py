"""Re-clustering the records around some records, and writing the result.

The scope of a re-clustering is everything its records are tied to: their scored
pairs (at or above review), steward must-links, and the other records of their
current customers, followed until nothing new comes in. Within it, the clustering
reads only pairs and steward decisions, never the current customers, so the result
does not depend on the order in which records arrived or were matched. Current
customers only decide which customer ids survive (`plan_assignment`).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, pairwise

from django.db import connection
from django.utils import timezone

from rcu import hooks
from rcu.db import is_postgresql
from rcu.engine.assignment import AssignmentPlan, NewCustomer, plan_assignment
from rcu.engine.clustering import ScoredPair, cluster
from rcu.engine.fellegi_sunter import probability_from_weight, weight_from_probability
from rcu.engine.scoring import CONTRADICTION, POSSIBLE_TWINS, levels_from_text, levels_text
from rcu.engine.types import MatchRecord
from rcu.models import PairDecision
from rcu.selectors.restriction import restricted_among
from rcu.services.changes import Actor
from rcu.services.matching.apply import assignment_apply
from rcu.services.matching.context import MatchContext
from rcu.services.matching.pairs import chunked, match_records_load, pairs_score_all

# Components up to this size have every pair of their records scored, so that a chain of
# strong links cannot join two records whose direct score says they differ.
INTRA_SCORING_MAX = 60
# A pair scored under this probability is evidence that its records are different
# people: a chain of links may not join them. Between it and the review threshold a
# pair says too little either way (a sparse record against a full one).
CONFLICT_BELOW = 0.01
# A pair under review whose disagreements alone weigh this much against it (what takes
# even odds under CONFLICT_BELOW) stops a chain too, whatever its agreements: two
# namesakes in one town, with different addresses and phones, score 0.2 to 0.45 on
# their names and town, and a third record agreeing with each joined them (on the
# generated 100k base a fifth of the false links were such chains).
CONFLICT_AGAINST = weight_from_probability(CONFLICT_BELOW)
# A scope never grows past this many records (a pathological chain): it stops expanding.
SCOPE_MAX_RECORDS = 20_000

# The reason a review pair gives when one of its records belongs to a restricted customer.
RESTRICTED_GUARD = "restricted"

PairInfo = tuple[float, float, str]  # probability, weight, levels


@dataclass
class Scope:
    records: dict[int, tuple[int | None, int]] = field(default_factory=dict)  # id → (customer, source)
    pairs: dict[tuple[int, int], PairInfo] = field(default_factory=dict)
    must_link: set[tuple[int, int]] = field(default_factory=set)
    cannot_link: set[tuple[int, int]] = field(default_factory=set)
    # Records of restricted customers (GDPR art. 18), set by `scope_cluster`: held where
    # they are, their pairs with anyone else sent to review.
    held: set[int] = field(default_factory=set)


@dataclass
class ReclusterResult:
    clusters: dict[int, frozenset[int]] = field(default_factory=dict)  # record → its cluster
    review: list[hooks.ReviewPair] = field(default_factory=list)
    plan: AssignmentPlan = field(default_factory=AssignmentPlan)
    customer_of: dict[int, int] = field(default_factory=dict)  # record → customer after


def _id_list(ids: list[int]) -> tuple[str, list]:
    """A SQL test "column IN these ids": one array parameter on PostgreSQL."""
    if is_postgresql():
        return "= ANY(%s)", [ids]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _siblings_sql(ids: list[int]) -> tuple[str, list]:
    """(id, customer, source) of these records and of their customers' other records.

    Records deleted at their source take no part in matching: they are not read (they
    follow their customer, `assignment_apply`). A UNION, not an OR: each half uses its
    own index (primary key, customer)."""
    test, params = _id_list(ids)
    live = "deleted_at_source IS NULL"
    return (
        f"SELECT id, customer_id, source_id FROM rcu_sourcerecord WHERE id {test} AND {live} "
        "UNION SELECT id, customer_id, source_id FROM rcu_sourcerecord WHERE customer_id IN "
        f"(SELECT customer_id FROM rcu_sourcerecord WHERE id {test}) AND {live}",
        params + params,
    )


def _records_with_siblings(cursor, ids: list[int]) -> list[tuple[int, int | None, int]]:
    cursor.execute(*_siblings_sql(ids))
    return cursor.fetchall()


def _edges(cursor, ids: list[int]) -> list[tuple]:
    """Scored pairs and steward decisions touching these records, in one round trip."""
    test, params = _id_list(ids)
    cursor.execute(
        "SELECT record_a_id, record_b_id, probability, weight, levels, NULL FROM rcu_matchpair "
        f"WHERE record_a_id {test} "
        "UNION ALL SELECT record_a_id, record_b_id, probability, weight, levels, NULL "
        f"FROM rcu_matchpair WHERE record_b_id {test} "
        "UNION ALL SELECT record_a_id, record_b_id, NULL, NULL, NULL, kind FROM rcu_pairdecision "
        f"WHERE record_a_id {test} OR record_b_id {test}",
        params * 4,
    )
    return cursor.fetchall()


# Up to this many records, a round of `scope_expand` is one query; past it, the edges
# are read by their ids, which keeps the planner on the indexes.
ONE_QUERY_ROUND = 50


def _records_and_edges(cursor, ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    """These records with their customers' other records, and the scored pairs and
    steward decisions touching any of them."""
    if len(ids) > ONE_QUERY_ROUND:
        records = _records_with_siblings(cursor, ids)
        return records, [] if not records else _edges(cursor, [r[0] for r in records])
    siblings, params = _siblings_sql(ids)
    cursor.execute(
        f"WITH found AS ({siblings}) "
        "SELECT 0, id, customer_id, source_id, NULL, NULL, NULL, NULL FROM found "
        "UNION ALL SELECT 1, record_a_id, record_b_id, NULL, probability, weight, levels, NULL "
        "FROM rcu_matchpair WHERE record_a_id IN (SELECT id FROM found) "
        "UNION ALL SELECT 1, record_a_id, record_b_id, NULL, probability, weight, levels, NULL "
        "FROM rcu_matchpair WHERE record_b_id IN (SELECT id FROM found) "
        "UNION ALL SELECT 1, record_a_id, record_b_id, NULL, NULL, NULL, NULL, kind "
        "FROM rcu_pairdecision WHERE record_a_id IN (SELECT id FROM found) "
        "UNION ALL SELECT 1, record_a_id, record_b_id, NULL, NULL, NULL, NULL, kind "
        "FROM rcu_pairdecision WHERE record_b_id IN (SELECT id FROM found)",
        params,
    )
    records, edges = [], []
    for row in cursor.fetchall():
        if row[0]:
            edges.append((row[1], row[2], *row[4:]))
        else:
            records.append(row[1:4])
    return records, edges


def scope_expand(seed_ids: Iterable[int], *, max_records: int | None = SCOPE_MAX_RECORDS) -> Scope:
    """Everything the seed records are tied to, read through indexes: each round reads
    the records with their customers' other records, and the edges touching them."""
    scope = Scope()
    limit = max_records if max_records is not None else float("inf")
    frontier = set(seed_ids)
    visited: set[int] = set()  # a record deleted at source is asked for once, never found
    with connection.cursor() as cursor:
        while frontier and len(scope.records) < limit:
            visited |= frontier
            for chunk in chunked(sorted(frontier)):
                records, edges = _records_and_edges(cursor, chunk)
                for pk, customer_id, source_id in records:
                    scope.records.setdefault(pk, (customer_id, source_id))
                for a, b, probability, weight, levels, kind in edges:
                    if kind is None:
                        scope.pairs[(a, b)] = (probability, weight, levels)
                    elif kind == PairDecision.Kind.MUST_LINK:
                        scope.must_link.add((a, b))
                    else:
                        scope.cannot_link.add((a, b))
                        continue
                    frontier.update((a, b))
            frontier -= visited
            frontier -= scope.records.keys()
    # Decisions and pairs reaching outside the scope cannot be applied within it.
    inside = scope.records
    scope.pairs = {p: v for p, v in scope.pairs.items() if p[0] in inside and p[1] in inside}
    scope.must_link = {p for p in scope.must_link if p[0] in inside and p[1] in inside}
    scope.cannot_link = {p for p in scope.cannot_link if p[0] in inside and p[1] in inside}
    return scope


def scope_is_current(scope: Scope) -> bool:
    """Whether the scope's records still belong to the customers it read (one query):
    after locking, a scope read before the lock is still good when this holds."""
    if not scope.records:
        return True
    with connection.cursor() as cursor:
        current = {
            pk: (customer_id, source_id)
            for chunk in chunked(sorted(scope.records))
            for pk, customer_id, source_id in _records_with_siblings(cursor, chunk)
        }
    return current == scope.records


def _components(ids: Iterable[int], links: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for record in ids:
        groups[find(record)].append(record)
    return list(groups.values())


def _linkable(info: PairInfo, context: MatchContext) -> tuple[float, bool]:
    """The probability clustering sees, and whether the pair separates its records.

    A pair under review separates its records when its disagreements alone weigh
    `CONFLICT_AGAINST` against it (each household difference counted in full, the
    pair's probability too). A pair that may not be linked automatically
    (`Scorer.link_guard`) stays just under
    the auto-link threshold, so in review. A pair that contradicts something telling
    people apart separates its records, whatever its score: no chain through other
    records may join them (a twin and a record of the family without a first name; two
    namesakes born 30 years apart, scored 0.14 where the base learnt that birth dates
    often differ, and a dateless record like both); so does a pair that may
    be twins (`POSSIBLE_TWINS`: a record holding only an initial joins one of them at
    most). One that contradicts two such things (first name and birth date: spouses,
    siblings) is taken for two people, however much their household agrees: not
    proposed either.
    """
    probability, weight, levels = info
    scorer = context.scorer
    back = scorer.shared_back_stored(levels)
    # Judged as if every household difference counted in full: a pair of namesakes in
    # one town whose address and landline differ keeps stopping chains, though the
    # score itself counts one move once.
    apart = (
        (probability if back == 0.0 else probability_from_weight(weight - back)) < context.review
        and scorer.disagreement_stored(levels) < CONFLICT_AGAINST
    )
    guard = scorer.link_guard_stored(levels, weight)
    contradiction = guard is not None and guard.startswith(CONTRADICTION)
    if probability < context.review:
        return probability, apart or contradiction
    if guard is None:
        return probability, apart
    if contradiction and guard.count(",") >= 1:
        return 0.0, True
    separating = contradiction or guard == POSSIBLE_TWINS or apart
    if probability < context.auto_link:
        return probability, separating
    return max(context.review, math.nextafter(context.auto_link, 0.0)), separating


def _hold_restricted(
    scope: Scope, seen: dict[tuple[int, int], tuple[float, bool]], context: MatchContext,
) -> set[tuple[int, int]]:
    """A restricted customer (GDPR art. 18) is merged with nobody and loses no record
    until the restriction is lifted: its records stay together (must-links among them),
    every pair between one of them and another customer's record stays under the
    auto-link threshold (in review, with the reason "restricted"), and no steward
    must-link reaches across. Returns the must-links to cluster with; sets `scope.held`."""
    customers = {c for c, _ in scope.records.values() if c is not None}
    restricted = restricted_among(customers) if customers else set()
    if not restricted:
        scope.held = set()
        return scope.must_link
    customer_of = {r: c for r, (c, _) in scope.records.items()}
    scope.held = {r for r, c in customer_of.items() if c in restricted}

    def crosses(a: int, b: int) -> bool:
        return (a in scope.held or b in scope.held) and customer_of.get(a) != customer_of.get(b)

    below_auto = max(context.review, math.nextafter(context.auto_link, 0.0))
    for pair, (probability, separating) in seen.items():
        if crosses(*pair) and probability >= context.auto_link:
            seen[pair] = (below_auto, separating)
    must_link = {pair for pair in scope.must_link if not crosses(*pair)}
    members: dict[int, list[int]] = defaultdict(list)
    for record in sorted(scope.held):
        customer = customer_of[record]
        if customer is not None:  # held records belong to a restricted customer
            members[customer].append(record)
    for records in members.values():
        must_link.update(pairwise(records))
    return must_link


def _unscored_pairs_within(
    scope: Scope, components: list[list[int]], context: MatchContext
) -> None:
    """Score every pair of these components that is not scored yet, into the scope:
    the evidence that stops chains. All of them at once, as arrays."""
    if not components:
        return
    loaded = match_records_load(r for c in components for r in c)
    unscored = [
        (a, b)
        for component in components
        for a, b in combinations(sorted(component), 2)
        if (a, b) not in scope.pairs and a in loaded and b in loaded
    ]
    if not unscored:
        return
    prepare = context.scorer.prepare
    needed = {r for pair in unscored for r in pair}
    records = {i: prepare(r) for i, r in loaded.items() if i in needed}
    for score in pairs_score_all(records=records, pairs=unscored, context=context):
        scope.pairs[(score.a, score.b)] = (score.probability, score.weight, levels_text(score.levels))


def scope_cluster(scope: Scope, context: MatchContext) -> tuple[list[frozenset[int]], list[ScoredPair]]:
    """Clusters covering every record of the scope (singletons included), and the
    grey-zone pairs between clusters."""
    linked = set(scope.pairs) | scope.must_link
    components = _components(
        {r for pair in linked for r in pair}, linked
    )
    # Score every pair of small components that is not scored yet: the evidence that
    # stops chains.
    _unscored_pairs_within(
        scope, [c for c in components if 3 <= len(c) <= INTRA_SCORING_MAX], context
    )
    seen = {pair: _linkable(info, context) for pair, info in scope.pairs.items()}
    must_link = _hold_restricted(scope, seen, context)
    clustering = cluster(
        (ScoredPair(a, b, probability) for (a, b), (probability, _) in seen.items()),
        separate=[pair for pair, (_, separating) in seen.items() if separating],
        auto_link=context.auto_link,
        review=context.review,
        cannot_link=scope.cannot_link,
        must_link=must_link,
        conflict=CONFLICT_BELOW,
    )
    clusters = list(clustering.clusters)
    clustered = {r for c in clusters for r in c}
    clusters.extend(frozenset((r,)) for r in scope.records if r not in clustered)
    return clusters, clustering.review_pairs


def review_pairs_between_clusters(
    scope: Scope, clusters: list[frozenset[int]], review: list[ScoredPair], context: MatchContext,
    known: Mapping[int, MatchRecord] | None = None,
) -> list[hooks.ReviewPair]:
    """One grey-zone pair per pair of clusters: the most probable, explained from its
    records (`known`: those the caller holds, `prepare`d; the others are read)."""
    cluster_of = {r: i for i, members in enumerate(clusters) for r in members}
    best: dict[tuple[int, int], ScoredPair] = {}
    for pair in review:  # most probable first
        i, j = sorted((cluster_of[pair.a], cluster_of[pair.b]))
        best.setdefault((i, j), pair)
    result = []
    scorer = context.scorer
    known = known or {}
    wanted = {r for p in best.values() for r in (p.a, p.b)}
    records = {i: known[i] for i in wanted if i in known}
    records.update(
        (i, scorer.prepare(r)) for i, r in match_records_load(wanted - records.keys()).items()
    )
    for (i, j), pair in sorted(best.items()):
        probability, weight, levels = scope.pairs[(pair.a, pair.b)]
        # Scored in this run or under the same model (`MatchSettings.scored_with`): the
        # stored levels are the pair's, only term frequencies need a record.
        explanation = (
            scorer.explain_scored_dict(records[min(pair.a, pair.b)], levels_from_text(levels))
            if pair.a in records and pair.b in records
            else scorer.explain_dict(levels_from_text(levels))
        )
        if pair.a in scope.held or pair.b in scope.held:
            explanation = {**explanation, "link_guard": RESTRICTED_GUARD}
        sources = frozenset(scope.records[r][1] for r in clusters[i] | clusters[j])
        result.append(
            hooks.ReviewPair(pair.a, pair.b, probability, weight, levels, explanation, sources)
        )
    return result


def scope_recluster(
    scope: Scope, *, context: MatchContext, acting_user: Actor, reason: str = "matching",
    timings: dict | None = None, known: Mapping[int, MatchRecord] | None = None,
) -> ReclusterResult:
    """Cluster the scope, write the moves, and tell stewardship what to review."""
    timings = {} if timings is None else timings
    started = time.perf_counter()
    clusters, review = scope_cluster(scope, context)
    result = ReclusterResult()
    result.plan = plan_assignment(clusters, {r: c for r, (c, _) in scope.records.items()})
    timings["cluster"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    created = assignment_apply(
        plan=result.plan,
        records=scope.records,
        acting_user=acting_user,
        reason=reason,
        now=timezone.now(),
    )
    for members in clusters:
        for record in members:
            result.clusters[record] = members
            target = result.plan.moves.get(record)
            if target is None:
                kept = scope.records[record][0]
                assert kept is not None  # a record without a customer is always moved
                result.customer_of[record] = kept
            elif isinstance(target, NewCustomer):
                result.customer_of[record] = created[target]
            else:
                result.customer_of[record] = target
    timings["apply"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    result.review = review_pairs_between_clusters(scope, clusters, review, context, known)
    # Choosing and explaining the pairs is the engine's; storing them for stewards is not.
    timings["explain"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    hooks.review_pairs_found(record_ids=scope.records.keys(), review_pairs=result.review,
                             acting_user=acting_user)
    timings["candidates"] = round(time.perf_counter() - started, 3)
    return result
