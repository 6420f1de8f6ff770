"""Records their source no longer has: kept, flagged, left out of survivorship and matching.

A source says it deleted a customer in two ways: the ingest API's DELETE, or a full
snapshot import that does not hold the record any more. Nothing is dropped: the record
keeps its raw payload and history, and is flagged `deleted_at_source`. From then on it
gives no golden value (unless its customer has nothing else), has no blocking keys,
no scored pairs and no open merge candidate, and the records it tied together are
re-clustered as a full run would. Sending it again restores it (`records_upsert`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rcu import hooks
from rcu.models import ImportJob, MatchPair, PendingMatch, SourceRecord, SourceSystem
from rcu.services.changes import Actor, rows_update
from rcu.services.customers import customers_recompute
from rcu.services.locks import (
    LockOrderRetry,
    customers_lock,
    records_lock,
    retrying,
    source_lock,
)
from rcu.services.matching.context import match_context
from rcu.services.matching.keys import blocking_keys_of, blocks_resized_queue, match_keys_delete
from rcu.services.matching.pairs import chunked
from rcu.services.matching.recluster import scope_expand, scope_recluster

# Deletions are written this many records per transaction: a snapshot may retire a
# large share of a source, and each chunk is consistent on its own.
DELETION_CHUNK = 1000


@dataclass
class DeletionResult:
    deleted: int = 0  # records newly flagged
    already_deleted: int = 0
    unknown: list[str] = field(default_factory=list)  # external ids the source never sent
    record_ids: dict[str, int] = field(default_factory=dict)  # external id → record id


@retrying  # stopped by the lock order: run again from the start
@transaction.atomic
def _delete_chunk(
    *, source: SourceSystem, external_ids: Sequence[str], acting_user: Actor, reason: str,
    result: DeletionResult,
) -> None:
    source_lock(source.pk)  # the same first lock as every writer of a source's records
    rows = list(
        SourceRecord.objects.filter(source=source, external_id__in=external_ids).values_list(
            "pk", "external_id", "customer_id", "keys", "deleted_at_source"
        )
    )
    found = {external_id for _, external_id, *_rest in rows}
    result.unknown.extend(e for e in external_ids if e not in found)
    targets = []
    for pk, external_id, customer_id, keys, deleted_at in rows:
        result.record_ids[external_id] = pk
        if deleted_at is not None:
            result.already_deleted += 1
        else:
            targets.append((pk, customer_id, keys))
    if not targets:
        return
    ids = [pk for pk, _, _ in targets]
    # Who the deleted records were tied to: their customers' other records and the
    # records they were scored against. These are re-clustered without them. Every
    # customer the re-clustering can touch is in the scope read now (taking records and
    # pairs away only shrinks it): they are locked once, in id order.
    partners: set[int] = set()
    for chunk in chunked(ids):
        for a, b in MatchPair.objects.filter(
            Q(record_a_id__in=chunk) | Q(record_b_id__in=chunk)
        ).values_list("record_a_id", "record_b_id"):
            partners.update((a, b))
    customers = {customer_id for _, customer_id, _ in targets if customer_id}
    seeds = (partners | set(
        SourceRecord.objects.filter(customer_id__in=customers, deleted_at_source__isnull=True)
        .values_list("pk", flat=True)
    )) - set(ids)
    before = scope_expand(seeds)
    customers_lock(customers | {c for c, _ in before.records.values() if c is not None}, fields=())
    moved = records_lock(ids)  # customers held already; checks the records did not move
    if set(moved.customer_ids) - customers:
        raise LockOrderRetry("records deleted at source moved to another customer meanwhile")

    now = timezone.now()
    rows_update(
        model=SourceRecord, fields=["deleted_at_source"],
        values={pk: {"deleted_at_source": now} for pk in ids},
        now=now, acting_user=acting_user, reason=reason,
    )
    deleted_keys = [(pk, blocking_keys_of(keys)) for pk, _, keys in targets]
    match_keys_delete(records=deleted_keys)
    blocks_resized_queue(left={k for _, keys in deleted_keys for k in keys})
    for chunk in chunked(ids):
        PendingMatch.objects.filter(record_id__in=chunk).delete()
        MatchPair.objects.filter(Q(record_a_id__in=chunk) | Q(record_b_id__in=chunk)).delete()

    context = match_context()
    scope = scope_expand(seeds)  # within `before`, whose customers are locked
    recluster = scope_recluster(scope, context=context, acting_user=acting_user, reason=reason)
    # The customers that lost a contributor, whether or not anything moved.
    customers_recompute(
        customer_ids=customers - set(recluster.plan.retired), acting_user=acting_user,
        reason=reason,
    )
    # Open candidates of the deleted records are no longer proposed.
    hooks.review_pairs_found(record_ids=ids, review_pairs=[], acting_user=acting_user)
    result.deleted += len(ids)


def records_delete_at_source(
    *, source: SourceSystem, external_ids: Iterable[str], acting_user: Actor, reason: str,
) -> DeletionResult:
    """Flag these records of `source` as deleted at the source, in transactions of
    `DELETION_CHUNK` records. Unknown ids are listed, already deleted ones counted."""
    result = DeletionResult()
    wanted = sorted(set(external_ids))
    for start in range(0, len(wanted), DELETION_CHUNK):
        _delete_chunk(
            source=source, external_ids=wanted[start : start + DELETION_CHUNK],
            acting_user=acting_user, reason=reason, result=result,
        )
    return result


@dataclass(frozen=True)
class SnapshotOutcome:
    deleted: int
    refused: str  # why nothing was deleted, or ""


def import_job_apply_snapshot(*, job: ImportJob, acting_user: Actor, force: bool = False) -> SnapshotOutcome:
    """After a snapshot import succeeded: the source's records it did not hold are
    deleted at the source.

    Safe by default. A row rejected for a bad value still names a record the source has,
    so it is not deleted; when a rejected row names no record (unreadable, or without an
    external id) or some could not be stored (over the stored errors limit), nothing is
    deleted. A snapshot that would delete more than
    `RCU_SNAPSHOT_MAX_DELETED_PERCENT` of the source (an empty or cut file) deletes
    nothing unless `force`.
    """
    if job.rejected_count > job.row_errors.count():
        return SnapshotOutcome(0, "some rejected rows were not kept: nothing was deleted")
    unreadable = job.row_errors.filter(external_id="").count()
    if unreadable:
        return SnapshotOutcome(
            0,
            f"{unreadable} rejected row(s) have no readable external id, so the records they "
            "stand for are unknown: nothing was deleted (correct them and import again)",
        )
    kept_by_rejects = set(job.row_errors.exclude(external_id="").values_list("external_id", flat=True))
    live = SourceRecord.objects.filter(source=job.source, deleted_at_source__isnull=True)
    missing = [
        external_id
        for external_id in live.exclude(last_import_job=job).values_list("external_id", flat=True)
        if external_id not in kept_by_rejects
    ]
    if not missing:
        return SnapshotOutcome(0, "")
    percent = 100 * len(missing) / max(live.count(), 1)
    limit = settings.RCU_SNAPSHOT_MAX_DELETED_PERCENT
    if percent > limit and not force:
        return SnapshotOutcome(
            0,
            f"the snapshot would delete {len(missing)} records ({percent:.0f} % of the source), "
            f"more than the {limit} % allowed: nothing was deleted (import it again with "
            "--force-snapshot if this is right)",
        )
    result = records_delete_at_source(
        source=job.source, external_ids=missing, acting_user=acting_user,
        reason=f"deleted at source (snapshot import #{job.pk})",
    )
    ImportJob.objects.filter(pk=job.pk).update(deleted_count=result.deleted)
    return SnapshotOutcome(result.deleted, "")


def import_job_mark_seen(*, job: ImportJob, external_ids: Iterable[str]) -> None:
    """A snapshot import marks every record of its file as seen, unchanged ones too
    (created and changed ones already carry the job). Not history: bookkeeping only."""
    ids = list(external_ids)
    for chunk in chunked(ids):
        SourceRecord.objects.filter(source_id=job.source_id, external_id__in=chunk).exclude(
            last_import_job=job
        ).update(last_import_job=job)
