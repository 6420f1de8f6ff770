"""Thin Celery tasks of the GDPR app: the request and pack rows are the truth."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from gdpr.services.access_log import access_log_purge
from gdpr.services.packs import access_pack_build_queued, access_packs_purge
from gdpr.services.reminders import deadline_reminders_send
from gdpr.services.retention import retention_purges_run
from rcu.services.periodic import recorded_task


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def access_pack_build_task(self, request_id: int, user_id: int) -> int | None:
    """Build a queued pack (idempotent: a pack built since it was queued is kept)."""
    pack = access_pack_build_queued(request_id=request_id, user_id=user_id)
    return pack.pk if pack is not None else None


@shared_task
def access_packs_purge_task() -> int:
    """The files of expired packs are deleted (the nightly run is retention_purge_task)."""
    return access_packs_purge()


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def access_log_purge_task(self) -> int:
    """Access log entries past RCU_ACCESS_LOG_RETENTION_DAYS are deleted (the nightly run
    is retention_purge_task)."""
    return access_log_purge()


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
@recorded_task
def retention_purge_task(self, *, run) -> None:
    """Nightly: every registered purge (gdpr.retention), counts recorded on the run."""
    retention_purges_run(run=run)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
@recorded_task
def deadline_reminders_task(self, *, run) -> None:
    """Daily: requests due soon or overdue noticed and e-mailed to the DPO, once."""
    deadline_reminders_send(run=run)
