"""Storing mapped rows: upsert by (source, external id), golden customer per new record.

Until matching decides otherwise, each new source record starts its own golden
customer. A changed record updates in place (its history shows the change) and its
customer's golden values are recomputed. An unchanged record writes nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from rcu import hooks
from rcu.db import copy_worthwhile, is_postgresql
from rcu.engine.types import MatchRecord
from rcu.ingestion.mapping import MappedRow
from rcu.models import Customer, ImportJob, SourceRecord, SourceSystem
from rcu.selectors.attributes import custom_attribute_names
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import Actor, changes_create, changes_update, rows_insert
from rcu.services.customers import customer_apply_golden, customers_recompute, golden_as_fields
from rcu.services.locks import records_lock, retrying, source_lock
from rcu.services.matching.keys import blocking_keys_of, match_keys_write
from rcu.services.matching.realtime import MatchOutcome, records_match
from rcu.services.stats import source_stats_add_new_records
from rcu.survivorship import RecordView, golden_values

_RECORD_UPDATE_FIELDS = [
    "raw", "attributes", "keys", "quality_flags", "business_ts", "payload_hash",
    "last_import_job", "deleted_at_source", "updated_at",
]


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    held: int = 0  # rows a receiver of `rcu.hooks.records_screen` held back (quarantine)
    record_ids: dict[str, int] = field(default_factory=dict)  # external id → record id


def _golden_for_new(source: SourceSystem, row: MappedRow):
    view = RecordView(
        source.code, row.external_id, source.trust_rank, row.business_ts, row.attributes, row.keys
    )
    return golden_values([view])


def _insert_new_by_orm(*, source, rows, job, acting_user, reason, create_customers=True) -> dict[str, int]:
    customers: list[Customer | None] = [None] * len(rows)
    if create_customers:
        new_customers = []
        for row in rows:
            customer = Customer()
            customer_apply_golden(customer, _golden_for_new(source, row))
            new_customers.append(customer)
        customers = list(
            changes_create(Customer, new_customers, acting_user=acting_user, reason=reason)
        )
    records = [
        SourceRecord(
            source=source,
            external_id=row.external_id,
            customer=customer,
            raw=row.raw,
            attributes=row.attributes,
            keys=row.keys,
            quality_flags=row.flags,
            business_ts=row.business_ts,
            payload_hash=row.payload_hash,
            last_import_job=job,
        )
        for row, customer in zip(rows, customers, strict=True)
    ]
    records = changes_create(SourceRecord, records, acting_user=acting_user, reason=reason)
    return {r.external_id: r.pk for r in records}


def _public_ids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs from one read of the system's random source: one per
    new customer, without a system call each."""
    random = os.urandom(16 * count)
    return [uuid.UUID(bytes=random[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _insert_new_by_copy(*, source, rows, job, now, acting_user, reason) -> dict[str, int]:
    custom = custom_attribute_names()
    customer_ids = rows_insert(
        model=Customer,
        rows=[
            {**golden_as_fields(_golden_for_new(source, row), custom), "public_id": public_id}
            for row, public_id in zip(rows, _public_ids(len(rows)), strict=True)
        ],
        now=now, acting_user=acting_user, reason=reason,
    )
    record_ids = rows_insert(
        model=SourceRecord,
        rows=[
            {
                "source_id": source.pk,
                "external_id": row.external_id,
                "customer_id": customer_id,
                "raw": row.raw,
                "attributes": row.attributes,
                "keys": row.keys,
                "quality_flags": row.flags,
                "business_ts": row.business_ts,
                "payload_hash": row.payload_hash,
                "last_import_job_id": job.pk if job else None,
            }
            for row, customer_id in zip(rows, customer_ids, strict=True)
        ],
        now=now, acting_user=acting_user, reason=reason,
    )
    return {row.external_id: record_id for row, record_id in zip(rows, record_ids, strict=True)}


def _records_by_external_id(source_id: int, external_ids: list[str]) -> list[SourceRecord]:
    """The source's records with these external ids.

    On PostgreSQL one probe of the unique index per id, whatever the planner believes:
    with `IN (…)` it scanned every record of the source when its statistics predated
    the source's growth (1.6 s a batch at 280,000 records, measured), and the statistics
    of a table growing by an import always lag."""
    if not external_ids:
        return []
    if not is_postgresql():
        return list(SourceRecord.objects.filter(source_id=source_id, external_id__in=external_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM unnest(%s::text[]) AS x(external_id) CROSS JOIN LATERAL "
            "(SELECT id FROM rcu_sourcerecord WHERE source_id = %s AND external_id = x.external_id "
            "LIMIT 1) AS r",
            [external_ids, source_id],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(SourceRecord.objects.filter(pk__in=ids)) if ids else []


# Runs in the caller's transaction without a savepoint: no caller goes on after its errors.
@transaction.atomic(savepoint=False)
def records_upsert(
    *,
    source: SourceSystem,
    rows: Sequence[MappedRow],
    acting_user: Actor,
    job: ImportJob | None = None,
    create_customers: bool = True,
    reason: str | None = None,
    screen: bool = True,
) -> UpsertResult:
    """Upsert one batch of mapped rows of one source, in one transaction.

    New records start their own golden customer, unless `create_customers` is off: then
    the caller matches them at once, in this transaction, and matching gives each its
    customer (so they are not queued for matching either). `reason` is what history
    records (by default the import job, or "ingest").
    """
    result = UpsertResult()
    if not rows:
        return result
    # Rows carrying an erased person's identifiers are held for the DPO, not stored.
    # (`screen` off: RCU mapping again what it already holds, nothing incoming.)
    held = hooks.records_screen(source=source, rows=rows, job=job, acting_user=acting_user) if screen else set()
    if held:
        rows = [row for index, row in enumerate(rows) if index not in held]
        result.held = len(held)
        if not rows:
            return result
    # Writers of one source are serialised: two imports never race on an external id.
    source_lock(source.pk)

    latest: dict[str, MappedRow] = {}
    for row in rows:
        earlier = latest.get(row.external_id)
        if earlier is not None:  # the same record sent twice in a batch: the later wins
            if earlier.payload_hash == row.payload_hash:
                result.unchanged += 1
            else:
                result.updated += 1
        latest[row.external_id] = row

    existing = {r.external_id: r for r in _records_by_external_id(source.pk, list(latest))}
    # Changed records are locked with their customers, customers first (the lock
    # order); their customer is the one read under the lock, a merge may have moved them.
    locked = records_lock(
        r.pk for ext, r in existing.items() if r.payload_hash != latest[ext].payload_hash
    )
    for record in existing.values():
        record.customer_id = locked.customer_of.get(record.pk, record.customer_id)
    now = timezone.now()
    reason = reason or (f"import #{job.pk}" if job else "ingest")

    new_rows = [row for ext, row in latest.items() if ext not in existing]
    changed_records: list[SourceRecord] = []
    previous_keys: list[tuple[int, list[str]]] = []
    for ext, row in latest.items():
        if ext not in existing:
            continue
        record = existing[ext]
        result.record_ids[ext] = record.pk
        if record.payload_hash == row.payload_hash and record.deleted_at_source is None:
            result.unchanged += 1
            continue
        # A record deleted at its source and sent again is back: restored, keyed and
        # matched again like a changed one.
        record.deleted_at_source = None
        previous_keys.append((record.pk, blocking_keys_of(record.keys)))
        record.raw = row.raw
        record.attributes = row.attributes
        record.keys = row.keys
        record.quality_flags = row.flags
        record.business_ts = row.business_ts
        record.payload_hash = row.payload_hash
        record.last_import_job = job
        record.updated_at = now
        changed_records.append(record)

    if new_rows:
        if not create_customers:
            ids = _insert_new_by_orm(source=source, rows=new_rows, job=job,
                                     acting_user=acting_user, reason=reason, create_customers=False)
        elif copy_worthwhile(len(new_rows)):
            ids = _insert_new_by_copy(source=source, rows=new_rows, job=job, now=now,
                                      acting_user=acting_user, reason=reason)
        else:
            ids = _insert_new_by_orm(source=source, rows=new_rows, job=job,
                                     acting_user=acting_user, reason=reason)
        result.created += len(ids)
        result.record_ids.update(ids)
        match_keys_write(
            records=[
                (ids[row.external_id], row.blocking_keys or blocking_keys_of(row.keys))
                for row in new_rows
            ],
            queue=create_customers,
        )
        if create_customers:  # otherwise the caller counts them once matched (lock order)
            source_stats_add_new_records(source=source, created=len(ids))

    if changed_records:
        changes_update(SourceRecord, changed_records, _RECORD_UPDATE_FIELDS,
                       acting_user=acting_user, reason=reason)
        result.updated += len(changed_records)
        match_keys_write(
            records=[(r.pk, blocking_keys_of(r.keys)) for r in changed_records],
            previous=previous_keys,
            queue=create_customers,
        )
        customers_recompute(
            customer_ids=[r.customer_id for r in changed_records if r.customer_id],
            acting_user=acting_user,
            reason=reason,
        )
    written = {*(row.external_id for row in new_rows), *(r.external_id for r in changed_records)}
    hooks.records_statements(
        source_id=source.pk,
        statements={
            result.record_ids[ext]: row.statements for ext, row in latest.items()
            if row.statements and ext in written
        },
        acting_user=acting_user,
    )
    return result


class RecordRefused(ValueError):
    """A single record could not be read or keyed; `field` names what is wrong."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


@dataclass(frozen=True)
class IngestOutcome:
    record: SourceRecord | None  # None: held
    customer: Customer | None
    status: str  # "created" | "updated" | "unchanged" | "held" (in quarantine, not stored)
    match: MatchOutcome | None = None  # None when the record did not change
    external_id: str = ""


@retrying
@transaction.atomic
def record_ingest(*, source: SourceSystem, payload: dict, acting_user: Actor) -> IngestOutcome:
    """Ingest one record sent by a source (the REST API), as an import would, and
    match it at once: the outcome says whether it joined a customer, started one, or
    awaits a steward."""
    if not source.active:
        raise RecordRefused("", f"source {source.code!r} is inactive")
    outcome = source_row_mapper(source).map(1, payload)
    if not isinstance(outcome, MappedRow):
        raise RecordRefused(outcome.field, outcome.reason)
    result = records_upsert(
        source=source, rows=[outcome], acting_user=acting_user, create_customers=False
    )
    if result.held:
        # An erased person sent again: held for the DPO (the hold commits), nothing stored.
        return IngestOutcome(record=None, customer=None, status="held", external_id=outcome.external_id)
    record_id = result.record_ids[outcome.external_id]
    status = "created" if result.created else "updated" if result.updated else "unchanged"
    match = None
    if status != "unchanged":
        known = MatchRecord(record_id, str(source.pk), {}, outcome.keys)
        match = records_match(
            record_ids=[record_id], reason="ingest",
            records={record_id: known}, created_now=status == "created",
        ).get(record_id)
    if result.created:
        # Counted after matching: the counters come last in the lock order.
        source_stats_add_new_records(source=source, created=result.created, customers=0)
    record = SourceRecord.objects.select_related("customer", "source").get(pk=record_id)
    assert record.customer is not None  # matching gave a new record its customer
    return IngestOutcome(record=record, customer=record.customer, status=status, match=match,
                         external_id=record.external_id)
