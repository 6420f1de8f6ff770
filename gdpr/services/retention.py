"""Retention: proofs of identity deleted once no longer needed, and the nightly run of
every registered purge (`gdpr.retention.RETENTION_PURGES`).

Proofs of identity (CNIL: a copy of an identity document may be asked for only when
there is a reasonable doubt about who is asking, and is kept only as long as needed to
verify it): a proof's file is deleted when its request closes (`_close` in
`gdpr.services.requests`), and, by this purge, `RCU_GDPR_IDENTITY_PROOF_DAYS` days after
the identity was verified (default 0: the next run after the verification), or at any
run after its request closed if the closing missed it (a file whose deletion failed).
The row stays, with `deleted_at`, and the request's trail says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from gdpr.models import RequestAttachment, RequestState
from gdpr.models.requests import AttachmentKind
from gdpr.retention import RETENTION_PURGES, RetentionPurge
from gdpr.services.requests import request_step_record
from rcu.models import PeriodicRun
from rcu.services.periodic import periodic_run_add

CHUNK = 1000


def identity_proofs_past_retention(*, now: datetime):
    kept_after_verification = timedelta(days=settings.RCU_GDPR_IDENTITY_PROOF_DAYS)
    return RequestAttachment.objects.filter(
        Q(request__state__in=RequestState.closed())
        | Q(request__identity_verified_at__lte=now - kept_after_verification),
        kind=AttachmentKind.IDENTITY_PROOF, deleted_at__isnull=True,
    )


def identity_proofs_purge(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Delete the files of proofs of identity past their retention (at most `limit`, in
    one transaction; the files go once it commits). Safe to run again."""
    now = now or timezone.now()
    purged = 0
    with transaction.atomic():
        proofs = list(identity_proofs_past_retention(now=now).select_related("request").order_by("pk")[:limit])
        by_request: dict[int, int] = {}
        for attachment in proofs:
            # Only the run that marks the row deletes the file and counts it.
            if not RequestAttachment.objects.filter(pk=attachment.pk, deleted_at__isnull=True).update(
                file="", deleted_at=now,
            ):
                continue
            if attachment.file.name:
                transaction.on_commit(partial(attachment.file.storage.delete, attachment.file.name))
            by_request[attachment.request_id] = by_request.get(attachment.request_id, 0) + 1
            purged += 1
        requests = {a.request_id: a.request for a in proofs}
        for request_id, count in by_request.items():
            request_step_record(request=requests[request_id], action="identity_proofs_deleted",
                                acting_user=None, detail=str(count))
    return purged


class PurgeFailed(Exception):
    """A purge stopped the run: `rcu_step` names it in the run's record."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.rcu_step = code


def retention_purge_run(*, purge: RetentionPurge, run: PeriodicRun, now: datetime,
                        chunk: int | None = None) -> int:
    """One purge to the end, chunk by chunk; each chunk's count is added to the run in
    the chunk's own transaction, so a run cut off midway counts exactly what it did."""
    chunk = chunk or CHUNK
    total = 0
    while True:
        with transaction.atomic():
            deleted = purge.purge(now=now, limit=chunk) if purge.chunked else purge.purge(now=now)
            periodic_run_add(run=run, counts={purge.code: deleted})
        total += deleted
        if not purge.chunked or deleted < chunk:
            return total


def retention_purges_run(*, run: PeriodicRun, now: datetime | None = None,
                         purges: tuple[RetentionPurge, ...] = RETENTION_PURGES) -> dict[str, int]:
    """Every registered purge, one after the other (a failing one does not stop the
    others; the first failure is raised at the end, so that the task is retried)."""
    now = now or timezone.now()
    failed: tuple[str, BaseException] | None = None
    for purge in purges:
        try:
            retention_purge_run(purge=purge, run=run, now=now)
        except Exception as error:
            failed = failed or (purge.code, error)
    if failed is not None:
        raise PurgeFailed(failed[0]) from failed[1]
    return dict(run.result)
