"""Batch matching runs: prepare, score partitions (in parallel), cluster and apply.

The `MatchRun` row is the truth; Celery tasks only trigger its steps, and each step can
be retried:

1. `match_run_prepare`: refresh generic values and (unless frozen) the model, fix the
   oversized blocks, clear the pairs to be rescored, create the partitions.
2. `match_run_score_partition`: one range of blocking-key buckets; its pairs and its
   "done" mark commit together, so a retried partition does nothing twice.
3. `match_run_finalize`: once every partition is done, cluster and apply in one
   transaction, and tell stewardship which pairs to review.

A full run rescores every pair; a pending run only the pairs holding a record waiting
to be matched (new or changed, claimed by the run at prepare), then re-clusters what
they touch. One run scores at a time: a run created meanwhile waits, and the run that
ends starts it. A pending run becomes a full one when the stored pairs were scored
under another model, thresholds or generic values (`MatchSettings.scored_with`); the
records of blocks that became oversized, or stopped being so, are rescored with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from rcu import hooks
from rcu.db import is_postgresql
from rcu.engine.blocking import BUCKETS, key_bucket, pairs_split
from rcu.engine.types import Comparison
from rcu.memory import frozen_gc, paused_gc
from rcu.models import (
    MatchKey,
    MatchPair,
    MatchRun,
    MatchRunPartition,
    MatchSettings,
    PairDecision,
    PendingMatch,
    SourceRecord,
)
from rcu.services.changes import Actor, SystemActor, actor_user
from rcu.services.locks import (
    pairs_of_claimed_records_delete,
    pending_matches_claim,
    pending_matches_clear,
    retrying,
)
from rcu.services.matching.context import (
    comparisons_current,
    match_context,
    match_settings_get,
    model_needs_training,
)
from rcu.services.matching.pairs import (
    full_run_pairs,
    listed_pairs_score,
    match_pairs_store,
    oversized_keys,
    pairs_from_bytes,
    pairs_to_bytes,
    partition_pairs,
    shared_key_counts,
)
from rcu.services.matching.recluster import Scope, scope_expand, scope_recluster
from rcu.services.matching.training import (
    MIN_RECORDS,
    generic_values_refresh,
    match_settings_store_model,
    model_train,
)
from rcu.services.stats import planner_statistics_refresh

# Partitions of a run whose number is not asked for. Each record is read once per
# partition it has pairs in: more partitions spread the work over more workers, fewer
# read less. A pending run takes ranges of buckets (its records' blocks); a full run as
# many as its listed pairs need, about this many each (a 1M base: 11.7M pairs, two
# partitions of about 2.3 GB each at most).
DEFAULT_PARTITIONS = 8
PAIRS_PER_PARTITION = 6_000_000
# Fewer blocked pairs than this say too little about matches to train m from.
MIN_PAIRS_TO_LEARN = 500


def _enqueue(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args))


def match_run_create(
    *, full: bool, acting_user: Actor, partitions: int | None = None
) -> MatchRun:
    """Create a run and queue its first step. A pending run asked for while another run
    has not started yet is that run: it will take on every record waiting when it
    starts (its first step is queued again, in case the first message was lost).
    `partitions`: how many scoring tasks; by default chosen when the run starts."""
    from rcu.tasks import match_run_prepare_task

    partitions = 0 if partitions is None else max(1, min(partitions, BUCKETS))
    with transaction.atomic():
        waiting = None if full else (
            MatchRun.objects.filter(status=MatchRun.Status.PENDING).order_by("pk").first()
        )
        run = waiting or MatchRun.objects.create(
            full=full, partitions=partitions,
            created_by=actor_user(acting_user),
        )
        _enqueue(match_run_prepare_task, run.pk)
    return run


def records_rematch(*, customer_ids: Iterable[int], acting_user: Actor) -> int:
    """Queue the records of these customers for matching and ask for a pending run.

    A steward's decision changes what matching must obey (must-links, cannot-links):
    the next run re-clusters what it touched, as a full run would. Returns how many
    records were queued."""
    from rcu.services.matching.keys import pending_queue

    ids = sorted(
        SourceRecord.objects.filter(
            customer_id__in=sorted(set(customer_ids)), deleted_at_source__isnull=True
        ).values_list("pk", flat=True)
    )
    if ids:
        pending_queue(ids)
        match_run_create(full=False, acting_user=acting_user)
    return len(ids)


IN_PROGRESS = (MatchRun.Status.SCORING, MatchRun.Status.CLUSTERING)


def _run_next() -> None:
    """Start the oldest run waiting for the one that just ended, if any."""
    from rcu.tasks import match_run_prepare_task

    waiting = (
        MatchRun.objects.filter(status=MatchRun.Status.PENDING).order_by("pk")
        .values_list("pk", flat=True).first()
    )
    if waiting is not None:
        _enqueue(match_run_prepare_task, waiting)


def _last_skipped_keys() -> frozenset[str]:
    """The oversized blocks the stored pairs were made without: the last run's."""
    last = (
        MatchRun.objects.filter(status=MatchRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk").values_list("skipped_keys", flat=True).first()
    )
    return frozenset(last or ())


def _bucket_range(run: MatchRun, index: int) -> tuple[int, int]:
    size = BUCKETS / run.partitions
    return round(index * size), round((index + 1) * size) - 1


def model_to_learn(
    settings: MatchSettings, *, full: bool, records_now: int,
    comparisons: tuple[Comparison, ...] | None = None,
) -> bool:
    """Whether a run learns the model: a full run always; a pending run too while the
    model is new to the base: never trained, trained when the base was less than half
    its size, or learnt for other comparisons (custom attributes changed, an upgrade of
    the engine). A try that found too few blocked pairs waits for the base to double
    (`learning_tried_at_records`), instead of every run of a small base paying for
    training in vain."""
    if full:
        return True
    fits = not model_needs_training(settings, comparisons or comparisons_current())
    trained_from = (settings.model or {}).get("records", 0) if settings.model_trained_at and fits else 0
    return records_now >= 2 * max(trained_from, settings.learning_tried_at_records)


@transaction.atomic
def match_run_prepare(*, run: MatchRun) -> MatchRun:
    """The run's first step (it acts as itself, see `run_actor`): claim the records
    waiting, learn the model when it is new to the base, split the work in partitions."""
    from rcu.tasks import match_run_partition_task

    # Every run not ended is locked, in id order: two prepares cannot both see no run
    # in progress.
    unfinished = {
        r.pk: r for r in MatchRun.objects.select_for_update().filter(
            status__in=[MatchRun.Status.PENDING, *IN_PROGRESS]
        ).order_by("pk")
    }
    run = unfinished.get(run.pk) or MatchRun.objects.get(pk=run.pk)
    if run.status != MatchRun.Status.PENDING:
        return run
    busy = [r.pk for r in unfinished.values() if r.status in IN_PROGRESS]
    if busy:
        run.message = f"waits for run #{busy[0]}"
        run.save(update_fields=["message"])
        return run
    started = time.perf_counter()
    settings = match_settings_get()
    # The run takes on every record waiting now; one changed again later is queued
    # again (claim cleared) and left for the next run.
    run.records = pending_matches_claim(run_id=run.pk)
    run.last_record_id = PendingMatch.objects.aggregate(m=Max("record_id"))["m"] or 0
    if run.full:
        run.last_record_id = max(
            run.last_record_id, SourceRecord.objects.aggregate(m=Max("pk"))["m"] or 0
        )
    records_now = SourceRecord.objects.count()
    learn = model_to_learn(settings, full=run.full, records_now=records_now)
    counts = shared_key_counts(min(MIN_RECORDS, settings.max_block_size + 1))
    if learn:
        run.generic_values = generic_values_refresh(acting_user=run_actor(run), key_counts=counts)
    oversized = oversized_keys(settings.max_block_size, counts)
    if learn and not settings.model_frozen:
        with paused_gc():
            model, report = model_train(
                context=match_context(), oversized=oversized, key_counts=counts
            )
        learned = report.pairs >= MIN_PAIRS_TO_LEARN
        MatchSettings.objects.filter(pk=settings.pk).update(
            learning_tried_at_records=0 if learned else records_now
        )
        if learned:
            match_settings_store_model(
                model={**model, "records": records_now}, acting_user=run_actor(run)
            )
            run.message = (
                f"model: EM {report.iterations} iterations over {report.pairs:.0f} blocked "
                f"pairs, prior {report.prior:.6f}"
            )
        else:
            run.message = (
                f"model kept: {report.pairs:.0f} blocked pairs are too few to learn from"
            )
    context = match_context()
    oversized = frozenset(k for k in oversized if k not in context.skip_keys)
    run.skipped_keys = sorted(oversized)
    run.oversized_blocks = len(oversized)
    if not run.full and _scored_under_another_digest(settings, context.digest):
        run.full = True
        run.message = "; ".join(filter(None, [
            run.message,
            "every pair rescored: the model, thresholds or generic values changed "
            "since the stored pairs were scored",
        ]))
    if not run.full:
        run.records += _claim_blocks_that_changed_size(
            run_id=run.pk, changed=oversized ^ _last_skipped_keys()
        )
    if run.full:
        if is_postgresql():
            with connection.cursor() as cursor:
                # Foreign keys are checked at commit: rows this transaction wrote must be
                # checked first, or PostgreSQL refuses to truncate under them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("TRUNCATE rcu_matchpair")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            MatchPair.objects.all().delete()
        run.records = SourceRecord.objects.count()
    else:
        pairs_of_claimed_records_delete(run_id=run.pk)
    # A full run lists its pairs now, once, from the stored keys, in as few partitions
    # as memory allows (a record is read once per partition it has pairs in); a pending
    # run's partitions find theirs (the pairs of the records it claimed) from their blocks.
    listed: list[np.ndarray | None]
    if run.full:
        pairs, buckets = full_run_pairs(skip=context.skip_keys | oversized)
        run.partitions = run.partitions or max(1, math.ceil(len(pairs) / PAIRS_PER_PARTITION))
        listed = list(pairs_split(pairs, buckets, run.partitions))
        del pairs, buckets
    else:
        run.partitions = run.partitions or DEFAULT_PARTITIONS
        listed = [None] * run.partitions
    MatchRunPartition.objects.bulk_create(
        [
            MatchRunPartition(run=run, index=i, pairs=None if part is None else pairs_to_bytes(part))
            for i, part in enumerate(listed)
        ],
        ignore_conflicts=True,
    )
    del listed
    run.status = MatchRun.Status.SCORING
    run.timings = {"prepare": round(time.perf_counter() - started, 3), "scoring": 0.0}
    run.save()
    for index in range(run.partitions):
        _enqueue(match_run_partition_task, run.pk, index)
    return run


def _scored_under_another_digest(settings, digest: str) -> bool:
    """Whether the stored pairs were scored under another model, thresholds or generic
    values. A base that has never recorded it (pairs stored before runs recorded it,
    or by real-time ingests alone) takes the current digest as its own."""
    return bool(settings.scored_with) and settings.scored_with != digest


def _claim_blocks_that_changed_size(*, run_id: int, changed: frozenset[str]) -> int:
    """Queue (claimed by this run) the records of blocks that became oversized since the
    last run, or stopped being so: their pairs depend on it. Returns how many."""
    if not changed:
        return 0
    claimed = 0
    keys = sorted(changed)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        ids = sorted(set(
            MatchKey.objects.filter(
                bucket__in={key_bucket(k) for k in chunk}, key__in=chunk
            ).values_list("record_id", flat=True)
        ))
        # Queued if not yet, then claimed (records the run claimed already count again).
        PendingMatch.objects.bulk_create(
            [PendingMatch(record_id=i) for i in ids], batch_size=2000, ignore_conflicts=True
        )
        claimed += pending_matches_claim(run_id=run_id, record_ids=ids)
    return claimed


def match_run_score_partition(*, run_id: int, index: int) -> bool:
    """Score one partition; True when it was the last one to finish."""
    with transaction.atomic():
        run = MatchRun.objects.get(pk=run_id)
        chunk = MatchRunPartition.objects.select_for_update().get(run_id=run_id, index=index)
        if chunk.done or run.status != MatchRun.Status.SCORING:
            return False
        started = time.perf_counter()
        first, last = _bucket_range(run, index)
        with paused_gc():
            if chunk.pairs is not None:
                pairs, compared = listed_pairs_score(
                    pairs=pairs_from_bytes(chunk.pairs), context=match_context()
                )
            else:
                pairs, compared = partition_pairs(
                    first_bucket=first, last_bucket=last, context=match_context(),
                    oversized=frozenset(run.skipped_keys),
                    pending_run=None if run.full else run.pk,
                )
        match_pairs_store(pairs, partition=index)
        chunk.pairs = None
        chunk.done = True
        chunk.pairs_compared = compared
        chunk.pairs_kept = len(pairs)
        chunk.seconds = time.perf_counter() - started
        chunk.save()
        MatchRun.objects.filter(pk=run_id).update(
            partitions_done=F("partitions_done") + 1,
            pairs_compared=F("pairs_compared") + compared,
            pairs_kept=F("pairs_kept") + len(pairs),
        )
    return not MatchRunPartition.objects.filter(run_id=run_id, done=False).exists()


def _full_scope(last_record_id: int) -> Scope:
    scope = Scope()
    # Records deleted at their source take no part: they follow their customer.
    for pk, customer_id, source_id in SourceRecord.objects.filter(
        deleted_at_source__isnull=True
    ).values_list("pk", "customer_id", "source_id").iterator(chunk_size=20_000):
        scope.records[pk] = (customer_id, source_id)
    for a, b, probability, weight, levels in MatchPair.objects.values_list(
        "record_a_id", "record_b_id", "probability", "weight", "levels"
    ).iterator(chunk_size=20_000):
        scope.pairs[(a, b)] = (probability, weight, levels)
    for a, b, kind in PairDecision.objects.values_list("record_a_id", "record_b_id", "kind"):
        if a in scope.records and b in scope.records:  # not a record deleted at source
            (scope.must_link if kind == PairDecision.Kind.MUST_LINK else scope.cannot_link).add((a, b))
    return scope


def run_actor(run: MatchRun) -> SystemActor:
    """A run's changes are RCU's, named after the run, whoever asked for it."""
    return SystemActor(job=f"matching run #{run.pk}", started_by_id=run.created_by_id)


def match_run_finalize(*, run_id: int) -> MatchRun:
    return match_run_finalize_reviewing(run_id=run_id)[0]


@retrying  # a steward moved records of the plan meanwhile: cluster again
@transaction.atomic
def match_run_finalize_reviewing(*, run_id: int) -> tuple[MatchRun, list[hooks.ReviewPair]]:
    """`match_run_finalize`, also returning the grey-zone pairs handed to stewardship
    (none when the run was not ready, or already finalised)."""
    run = MatchRun.objects.select_for_update().get(pk=run_id)
    if run.status != MatchRun.Status.SCORING or MatchRunPartition.objects.filter(
        run_id=run_id, done=False
    ).exists():
        return run, []
    run.status = MatchRun.Status.CLUSTERING
    run.save(update_fields=["status"])
    timings = dict(run.timings)
    timings["scoring"] = round(
        sum(MatchRunPartition.objects.filter(run_id=run_id).values_list("seconds", flat=True)), 3
    )
    started = time.perf_counter()
    context = match_context()
    with paused_gc():
        if run.full:
            scope = _full_scope(run.last_record_id)
        else:
            pending = list(
                PendingMatch.objects.filter(claimed_by=run.pk).values_list("record_id", flat=True)
            )
            scope = scope_expand(pending, max_records=None)
    timings["load"] = round(time.perf_counter() - started, 3)
    with frozen_gc():
        result = scope_recluster(
            scope, context=context, acting_user=run_actor(run), reason="matching",
            timings=timings,
        )
    pending_matches_clear(run_id=run.pk)
    MatchSettings.objects.filter(pk=1).update(scored_with=context.digest)
    run.records_moved = len(result.plan.moves)
    run.customers_retired = len(result.plan.retired)
    run.candidates = len(result.review)
    run.status = MatchRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.timings = timings
    run.save()
    _run_next()
    return run, result.review


def match_run_in_process(
    *, acting_user: Actor, full: bool = False, partitions: int | None = None
) -> tuple[MatchRun, list[hooks.ReviewPair]]:
    """A run from start to end in this process and in the caller's transaction, its
    steps one after the other: what the queued tasks would do, with nothing queued
    (the audit of a file predicts the run an import triggers, then rolls it back)."""
    partitions = 0 if partitions is None else max(1, min(partitions, BUCKETS))
    run = MatchRun.objects.create(
        full=full, partitions=partitions,
        created_by=actor_user(acting_user),
    )
    run = match_run_prepare(run=run)
    if run.status == MatchRun.Status.PENDING:  # another run is under way: one at a time
        raise MatchRunBusy(run.message)
    for index in range(run.partitions):
        match_run_score_partition(run_id=run.pk, index=index)
    return match_run_finalize_reviewing(run_id=run.pk)


class MatchRunBusy(RuntimeError):
    """A run is scoring or clustering: another cannot start before it ends."""


def match_run_fail(*, run_id: int, message: str) -> None:
    """Fail a run; its claimed records wait for the next run, which starts now."""
    with transaction.atomic():
        failed = MatchRun.objects.filter(pk=run_id).exclude(
            status__in=[MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED]
        ).update(status=MatchRun.Status.FAILED, message=message[:2000], finished_at=timezone.now())
        if failed:
            _run_next()


def match_run_refresh_statistics(*, run: MatchRun) -> bool:
    """After a run that wrote many rows (candidates and pairs go in by COPY), refresh
    the planner's statistics: real-time lookups otherwise pick slow plans until
    autovacuum runs. Returns whether it ran."""
    written = run.records_moved + run.customers_retired + run.candidates + run.pairs_kept
    if written < django_settings.RCU_ANALYZE_AFTER_ROWS:
        return False
    return planner_statistics_refresh(
        tables=["rcu_customer", "rcu_sourcerecord", "rcu_matchpair", "stewardship_mergecandidate"]
    )
