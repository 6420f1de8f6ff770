"""Batch matching runs: prepare, score partitions (in parallel), cluster and apply.

The `MatchRun` row is the truth; Celery tasks only trigger its steps, and each step can
be retried:

1. `match_run_prepare`: refresh generic values and (unless frozen) the model, fix the
   oversized blocks, clear the pairs to be rescored, create the partitions.
2. `match_run_score_partition`: one range of blocking-key buckets; its pairs and its
   "done" mark commit together, so a retried partition does nothing twice.
3. `match_run_finalize`: once every partition is done, cluster and apply in one
   transaction, and tell stewardship which pairs to review.

A full run rescores every pair; a pending run only the blocks of records waiting to be
matched (new or changed), then re-clusters what they touch.
"""

from __future__ import annotations

import time

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from rcu import hooks
from rcu.matching.keys import BUCKETS
from rcu.memory import frozen_gc, paused_gc
from rcu.models import (
    MatchPair,
    MatchRun,
    MatchRunPartition,
    PairDecision,
    PendingMatch,
    SourceRecord,
)
from rcu.services.locks import pending_matches_clear, retrying
from rcu.services.matching.context import match_context, match_settings_get
from rcu.services.matching.pairs import (
    match_pairs_store,
    oversized_keys,
    partition_pairs,
    shared_key_counts,
)
from rcu.services.matching.recluster import Scope, scope_expand, scope_recluster
from rcu.services.matching.training import (
    MIN_RECORDS,
    generic_values_refresh,
    match_settings_store_model,
    model_estimate,
)
from rcu.services.stats import planner_statistics_refresh

# Each record is read once per partition holding one of its blocks: more partitions
# spread the work over more workers, fewer read less.
DEFAULT_PARTITIONS = 8
# Fewer blocked pairs than this say too little about matches to estimate m from.
MIN_PAIRS_TO_LEARN = 500


def _enqueue(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args))


def match_run_create(*, full: bool, partitions: int = DEFAULT_PARTITIONS, acting_user=None) -> MatchRun:
    """Create a run and queue its first step."""
    from rcu.tasks import match_run_prepare_task

    partitions = max(1, min(partitions, BUCKETS))
    with transaction.atomic():
        run = MatchRun.objects.create(
            full=full, partitions=partitions,
            created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
        _enqueue(match_run_prepare_task, run.pk)
    return run


def _bucket_range(run: MatchRun, index: int) -> tuple[int, int]:
    size = BUCKETS / run.partitions
    return round(index * size), round((index + 1) * size) - 1


@transaction.atomic
def match_run_prepare(*, run: MatchRun, acting_user=None) -> MatchRun:
    from rcu.tasks import match_run_partition_task

    run = MatchRun.objects.select_for_update().get(pk=run.pk)
    if run.status != MatchRun.Status.PENDING:
        return run
    started = time.perf_counter()
    settings = match_settings_get()
    run.last_record_id = PendingMatch.objects.aggregate(m=Max("record_id"))["m"] or 0
    if run.full:
        run.last_record_id = max(
            run.last_record_id, SourceRecord.objects.aggregate(m=Max("pk"))["m"] or 0
        )
    # A pending run learns too while the model is new to the base: never estimated,
    # or estimated when the base was less than half its size.
    records_now = SourceRecord.objects.count()
    learned_from = (settings.model or {}).get("records", 0) if settings.model_estimated_at else 0
    learn = run.full or records_now >= 2 * learned_from
    counts = shared_key_counts(min(MIN_RECORDS, settings.max_block_size + 1))
    if learn:
        run.generic_values = generic_values_refresh(acting_user=acting_user, key_counts=counts)
    oversized = oversized_keys(settings.max_block_size, counts)
    if learn and not settings.model_frozen:
        with paused_gc():
            model, report = model_estimate(
                context=match_context(), oversized=oversized, key_counts=counts
            )
        if report.pairs >= MIN_PAIRS_TO_LEARN:
            match_settings_store_model(model={**model, "records": records_now}, acting_user=acting_user)
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
    if run.full:
        if connection.vendor == "postgresql":
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
        with connection.cursor() as cursor:
            for side in ("record_a_id", "record_b_id"):
                cursor.execute(
                    f"DELETE FROM rcu_matchpair WHERE {side} IN (SELECT record_id FROM rcu_pendingmatch)"
                )
        run.records = PendingMatch.objects.count()
    MatchRunPartition.objects.bulk_create(
        [MatchRunPartition(run=run, index=i) for i in range(run.partitions)], ignore_conflicts=True
    )
    run.status = MatchRun.Status.SCORING
    run.timings = {"prepare": round(time.perf_counter() - started, 3), "scoring": 0.0}
    run.save()
    for index in range(run.partitions):
        _enqueue(match_run_partition_task, run.pk, index)
    return run


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
            pairs, compared = partition_pairs(
                first_bucket=first, last_bucket=last, context=match_context(),
                oversized=frozenset(run.skipped_keys), pending_only=not run.full,
            )
        match_pairs_store(pairs, partition=index)
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


def match_run_finalize(*, run_id: int, acting_user=None) -> MatchRun:
    return match_run_finalize_reviewing(run_id=run_id, acting_user=acting_user)[0]


@retrying  # a steward moved records of the plan meanwhile: cluster again
@transaction.atomic
def match_run_finalize_reviewing(
    *, run_id: int, acting_user=None
) -> tuple[MatchRun, list[hooks.ReviewPair]]:
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
                PendingMatch.objects.filter(record_id__lte=run.last_record_id).values_list(
                    "record_id", flat=True
                )
            )
            scope = scope_expand(pending, max_records=None)
    timings["load"] = round(time.perf_counter() - started, 3)
    with frozen_gc():
        result = scope_recluster(
            scope, context=context, acting_user=acting_user or run.created_by,
            reason=f"matching run #{run.pk}", timings=timings,
        )
    pending_matches_clear(up_to=run.last_record_id)
    run.records_moved = len(result.plan.moves)
    run.customers_retired = len(result.plan.retired)
    run.candidates = len(result.review)
    run.status = MatchRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.timings = timings
    run.save()
    return run, result.review


def match_run_in_process(
    *, full: bool = False, partitions: int = DEFAULT_PARTITIONS, acting_user=None
) -> tuple[MatchRun, list[hooks.ReviewPair]]:
    """A run from start to end in this process and in the caller's transaction, its
    steps one after the other: what the queued tasks would do, with nothing queued
    (the audit of a file predicts the run an import triggers, then rolls it back)."""
    partitions = max(1, min(partitions, BUCKETS))
    run = MatchRun.objects.create(
        full=full, partitions=partitions,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    run = match_run_prepare(run=run, acting_user=acting_user)
    for index in range(run.partitions):
        match_run_score_partition(run_id=run.pk, index=index)
    return match_run_finalize_reviewing(run_id=run.pk, acting_user=acting_user)


def match_run_fail(*, run_id: int, message: str) -> None:
    MatchRun.objects.filter(pk=run_id).exclude(status=MatchRun.Status.SUCCEEDED).update(
        status=MatchRun.Status.FAILED, message=message[:2000], finished_at=timezone.now()
    )


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
