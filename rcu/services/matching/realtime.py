"""Real-time matching: one record (or a few) just ingested, and search before create."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction

from rcu.engine.scoring import PairScore, levels_from_text
from rcu.engine.types import MatchRecord
from rcu.models import SourceRecord
from rcu.normalisation.record import normalise_record
from rcu.services.changes import REALTIME_MATCHING
from rcu.services.locks import LockOrderRetry, customers_lock, pending_matches_release
from rcu.services.matching.context import MatchContext, match_context
from rcu.services.matching.pairs import (
    candidates_find,
    match_pairs_add,
    match_pairs_replace,
    match_records_load,
    pairs_score,
)
from rcu.services.matching.recluster import (
    Scope,
    scope_expand,
    scope_is_current,
    scope_recluster,
)

LINKED = "linked"
NEW = "new"
CANDIDATE = "candidate"
# A scope that still holds unlocked customers after this many rounds of locking them
# (records moving under our feet): start the transaction again.
SCOPE_ROUNDS = 5


@dataclass(frozen=True)
class MatchOutcome:
    """What matching decided for one record."""

    decision: str  # LINKED | NEW | CANDIDATE
    customer_id: int
    probability: float | None  # the record's best pair, if any was scored
    matched_record_id: int | None
    explanation: dict | None


def _scope_locked(seeds: Iterable[int], locked: set[int]) -> Scope:
    """The scope of these records, every customer in it locked (the lock order);
    `locked`: the customers this transaction locked already (updated).

    The customers are found without a lock, locked, and the scope checked again: a
    record cannot leave or join a customer once it is locked."""
    seeds = sorted(set(seeds))
    for _ in range(SCOPE_ROUNDS):
        scope = scope_expand(seeds)
        wanted = {c for c, _ in scope.records.values() if c is not None} - locked
        if not wanted:
            return scope
        customers_lock(wanted, fields=())
        locked |= wanted
        if scope_is_current(scope):
            return scope
    raise LockOrderRetry("the matching scope kept changing")


def _explanation(
    record_id: int, best: tuple, prepared: Mapping[int, MatchRecord], context: MatchContext
) -> dict:
    """The explanation of a record's best pair, term frequencies included, from the
    records just compared; the stored levels when the pair was scored earlier."""
    (_probability, _weight, levels), other_id = best
    scorer = context.scorer
    if record_id in prepared and other_id in prepared:
        return scorer.explain_pair_dict(prepared[record_id], prepared[other_id])
    return scorer.explain_dict(levels_from_text(levels))


# Runs in the caller's transaction without a savepoint: no caller goes on after its errors.
@transaction.atomic(savepoint=False)
def records_match(
    *, record_ids: Iterable[int], reason: str = "matching",
    context: MatchContext | None = None, records: Mapping[int, MatchRecord] | None = None,
    created_now: bool = False,
) -> dict[int, MatchOutcome]:
    """Match these records against the base now, and apply the decision (the engine's,
    recorded as `REALTIME_MATCHING` whoever sent the records).

    Each record is scored against the records sharing one of its blocking keys (read
    through the index), its pairs are stored, and the records tied to it are
    re-clustered (`scope_recluster`). Returns each record's outcome. `records`: those
    of them the caller already holds as the engine sees them (not read again).
    `created_now`: the records were created in this transaction, unqueued: they have no
    stored pair to replace nor queue entry to clear.
    """
    ids = sorted(set(record_ids))
    context = context or match_context()
    known = {i: r for i, r in (records or {}).items() if i in ids}
    records = {**match_records_load(i for i in ids if i not in known), **known}
    prepared: dict[int, MatchRecord] = {}
    pairs, _compared, _oversized = pairs_score(list(records.values()), context, prepared)
    # Every customer the pairs touch is locked before a pair is written.
    locked: set[int] = set()
    _scope_locked([*ids, *(r for p in pairs for r in (p.a, p.b))], locked)
    if created_now:
        match_pairs_add(pairs)
    else:
        match_pairs_replace(record_ids=ids, pairs=pairs)
    scope = _scope_locked(ids, locked)
    result = scope_recluster(
        scope, context=context, acting_user=REALTIME_MATCHING, reason=reason, known=prepared
    )
    if not created_now:
        pending_matches_release(ids)

    outcomes: dict[int, MatchOutcome] = {}
    in_review = {r for pair in result.review for r in (pair.record_a, pair.record_b)}
    for record_id in ids:
        if record_id not in result.clusters:
            continue
        members = result.clusters[record_id]
        best = max(
            ((info, a if b == record_id else b) for (a, b), info in scope.pairs.items()
             if record_id in (a, b)),
            key=lambda item: (item[0][0], -item[1]),
            default=None,
        )
        if len(members) > 1:
            decision = LINKED
        elif members & in_review:
            decision = CANDIDATE
        else:
            decision = NEW
        outcomes[record_id] = MatchOutcome(
            decision=decision,
            customer_id=result.customer_of[record_id],
            probability=best[0][0] if best else None,
            matched_record_id=best[1] if best else None,
            explanation=_explanation(record_id, best, prepared, context) if best else None,
        )
    return outcomes


@dataclass(frozen=True)
class SearchHit:
    customer_id: int
    record_id: int
    score: PairScore
    explanation: dict


def match_search(
    *, values: Mapping[str, str], default_region: str = "FR", limit: int = 10,
    customer_ids_allowed=None,
) -> list[SearchHit]:
    """The golden customers an unsaved record would match, best first, explained.

    Nothing is written. `values` are canonical attributes as a caller types them.
    Only customers at or above the review threshold are returned.
    """
    context = match_context()
    normalised = normalise_record(values, default_region=default_region)
    probe = MatchRecord(0, "", normalised.attributes, normalised.keys)
    search = candidates_find([probe], context)
    candidates = match_records_load(search.candidates.get(0, ()))
    if not candidates:
        return []
    customers = dict(
        SourceRecord.objects.filter(pk__in=list(candidates)).values_list("pk", "customer_id")
    )
    scorer = context.scorer
    prepared = scorer.prepare(probe)
    best: dict[int, tuple[PairScore, int]] = {}
    for record_id, record in candidates.items():
        score = scorer.score(prepared, scorer.prepare(record))
        if score.probability < context.review:
            continue
        customer_id = customers.get(record_id)
        if customer_id is None:
            continue
        known = best.get(customer_id)
        if known is None or score.probability > known[0].probability:
            best[customer_id] = (score, record_id)
    if customer_ids_allowed is not None:
        allowed = set(customer_ids_allowed(list(best)))
        best = {c: v for c, v in best.items() if c in allowed}
    ranked = sorted(best.items(), key=lambda item: (-item[1][0].probability, item[0]))[:limit]
    return [
        SearchHit(
            customer_id, record_id, score,
            scorer.explain_pair_dict(prepared, scorer.prepare(candidates[record_id])),
        )
        for customer_id, (score, record_id) in ranked
    ]
