"""The re-import quarantine: an erased person sent again is held for the DPO.

At erasure (`person_erasing_quarantine`, on `rcu.hooks.person_erasing`), the person's
identifiers are kept as keyed hashes (`gdpr.identifier_hashes`, key
`RCU_ERASURE_HASH_KEY` held outside the database) for `RCU_QUARANTINE_HASH_RETENTION_DAYS`.
Every batch the core is about to ingest (file import or API: `rcu.hooks.records_screen`)
is screened with one query (none while nothing was ever erased): a row carrying one of
these hashes is held (`QuarantinedRecord`) instead of ingested. The DPO then:

- releases it (`quarantined_record_release`): the hashes it matched are forgotten (the
  person is back, lawfully: a new contract, a new consent) and the row is ingested
  through the ingest path, matched at once;
- or discards it (`quarantined_record_discard`): the payload is deleted.

Either way the row stays as the trail (who, when, which kinds of identifier matched)
with its payload, external id and hashes emptied. docs/erasure.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gdpr.identifier_hashes import identifier_digests
from gdpr.models import ErasedIdentifier, QuarantinedRecord, QuarantineStatus
from rcu.db import chunks
from rcu.hooks import ErasureCount
from rcu.models import Customer, SourceRecord
from rcu.services.changes import actor_user
from rcu.services.ingestion import IngestOutcome, RecordRefused, record_ingest

COVERAGE = {
    "gdpr.ErasedIdentifier": "written: keyed hashes of the person's identifiers (the re-import "
    "quarantine), nothing reversible; purged after RCU_QUARANTINE_HASH_RETENTION_DAYS",
    "gdpr.QuarantinedRecord": "the person's held rows deleted (found by their identifiers' "
    "keyed hashes); decided rows hold no value",
}
GOLDEN_IDENTIFIERS = ("first_name", "last_name", "birth_date", "email", "phone", "mobile")


def _key() -> str:
    return settings.RCU_ERASURE_HASH_KEY


def retention() -> timedelta:
    return timedelta(days=settings.RCU_QUARANTINE_HASH_RETENTION_DAYS)


# --- At erasure ------------------------------------------------------------------------


def person_digests(*, customer_ids: Sequence[int], record_ids: Sequence[int]) -> dict[str, str]:
    """digest → kind of every identifier of the person: each record's (its source and
    external id, e-mail, phones, name with birth date) and the golden customers' (a
    rectified value is the person's too)."""
    key = _key()
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(record_ids))):
        for code, external_id, attributes in SourceRecord.objects.filter(pk__in=chunk).values_list(
            "source__code", "external_id", "attributes"
        ):
            found.update(identifier_digests(key=key, source=code, external_id=external_id,
                                            attributes=attributes or {}))
    for chunk in chunks(sorted(set(customer_ids))):
        for row in Customer.objects.filter(pk__in=chunk).values(*GOLDEN_IDENTIFIERS):
            found.update(identifier_digests(key=key, source="", external_id="", attributes=row))
    return found


def person_erasing_quarantine(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Any, preview: bool = False,
) -> list[ErasureCount]:
    """Keep the keyed hashes of the person's identifiers; delete the person's rows held in
    quarantine (a person erased again while a re-sent row of theirs waits)."""
    digests = person_digests(customer_ids=customer_ids, record_ids=record_ids)
    counts: list[ErasureCount] = []
    held = [
        pk for pk, row_digests in QuarantinedRecord.objects.filter(status=QuarantineStatus.HELD)
        .values_list("pk", "digests").iterator(chunk_size=2000)
        if digests.keys() & set(row_digests or ())
    ]
    if held:
        if not preview:
            QuarantinedRecord.objects.filter(pk__in=held).delete()
        counts.append(ErasureCount("gdpr.QuarantinedRecord", "deleted", len(held)))
    if digests:
        if not preview:
            now = timezone.now()
            ErasedIdentifier.objects.bulk_create(
                [ErasedIdentifier(kind=kind, digest=d, erased_at=now, expires_at=now + retention())
                 for d, kind in sorted(digests.items())],
                update_conflicts=True, unique_fields=["digest"], update_fields=["erased_at", "expires_at"],
            )
        counts.append(ErasureCount("gdpr.ErasedIdentifier", "written", len(digests)))
    return counts


# --- At ingestion ----------------------------------------------------------------------


def records_screen_quarantine(*, source: Any, rows: Sequence[Any], job: Any, acting_user: Any) -> set[int]:
    """Hold the rows carrying an erased person's identifier (`rcu.hooks.records_screen`):
    one query to know whether anything was ever erased, one (per 10,000 hashes) to match
    the batch's hashes."""
    if not ErasedIdentifier.objects.exists():
        return set()
    key = _key()
    per_row = [
        identifier_digests(key=key, source=source.code, external_id=row.external_id, attributes=row.attributes)
        for row in rows
    ]
    wanted = sorted({d for digests in per_row for d in digests})
    known: set[str] = set()
    for chunk in chunks(wanted):
        known.update(ErasedIdentifier.objects.filter(digest__in=chunk).values_list("digest", flat=True))
    if not known:
        return set()
    held: dict[int, QuarantinedRecord] = {}
    for index, (row, digests) in enumerate(zip(rows, per_row, strict=True)):
        matched = known & digests.keys()
        if matched:
            held[index] = QuarantinedRecord(
                source_id=source.pk, external_id=row.external_id[:200], raw=row.raw, line=row.line,
                import_job=job if job is not None and job.pk else None, digests=sorted(digests),
                matched=sorted({str(digests[d]) for d in matched}),
            )
    QuarantinedRecord.objects.bulk_create(held.values())
    return set(held)


# --- The DPO's decisions ------------------------------------------------------------------


class QuarantineConflict(Exception):
    """The row was decided meanwhile (released or discarded): nothing was written."""


@dataclass(frozen=True)
class ReleaseOutcome:
    held: QuarantinedRecord
    ingest: IngestOutcome


def _claim(held: QuarantinedRecord, *, status: str, acting_user: Any, note: str) -> QuarantinedRecord:
    """Decide the row once: a conditional UPDATE (two DPOs never both decide it)."""
    claimed = QuarantinedRecord.objects.filter(pk=held.pk, status=QuarantineStatus.HELD).update(
        status=status, decided_by=actor_user(acting_user), decided_at=timezone.now(), note=note[:500],
    )
    if not claimed:
        raise QuarantineConflict("this row was already decided")
    return QuarantinedRecord.objects.select_related("source").get(pk=held.pk)


def _empty(held: QuarantinedRecord) -> None:
    QuarantinedRecord.objects.filter(pk=held.pk).update(raw={}, external_id="", digests=[])


@transaction.atomic
def quarantined_record_release(*, held: QuarantinedRecord, acting_user: Any, note: str = "") -> ReleaseOutcome:
    """The DPO lets the person back: the hashes this row matched are forgotten and the row
    is ingested as the ingest API would (matched at once); the trail keeps who and when."""
    row = _claim(held, status=QuarantineStatus.RELEASED, acting_user=acting_user, note=note)
    ErasedIdentifier.objects.filter(digest__in=list(row.digests)).delete()
    try:
        outcome = record_ingest(source=row.source, payload=dict(row.raw), acting_user=acting_user)
    except RecordRefused as refused:
        raise QuarantineConflict(f"the source refuses the row now: {refused}") from refused
    _empty(row)
    row.refresh_from_db()
    return ReleaseOutcome(held=row, ingest=outcome)


@transaction.atomic
def quarantined_record_discard(*, held: QuarantinedRecord, acting_user: Any, note: str = "") -> QuarantinedRecord:
    """The DPO deletes the held row (the person stays erased); the trail keeps who and when."""
    row = _claim(held, status=QuarantineStatus.DISCARDED, acting_user=acting_user, note=note)
    _empty(row)
    row.refresh_from_db()
    return row


# --- Retention --------------------------------------------------------------------------


def quarantine_hashes_purge(*, now: datetime | None = None) -> int:
    """Delete the keyed hashes past their retention (`RCU_QUARANTINE_HASH_RETENTION_DAYS`
    after the erasure): a person erased that long ago is no longer held back. Returns how
    many were deleted. Run daily (the periodic tasks)."""
    now = now or timezone.now()
    deleted, _ = ErasedIdentifier.objects.filter(expires_at__lte=now).delete()
    return deleted
