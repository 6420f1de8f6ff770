from __future__ import annotations

from contextlib import contextmanager, suppress

from celery import current_app, shared_task
from django.db import OperationalError
from django.utils import timezone

from rcu.ingestion.readers import FileRefused
from rcu.models import ImportAudit, ImportJob, MatchRun, Subscription
from rcu.services.deliveries import (
    change_events_compact,
    deliveries_fan_out,
    deliveries_send_due,
)
from rcu.services.import_audits import import_audit_run
from rcu.services.imports import import_job_run
from rcu.services.matching.batch import (
    match_run_fail,
    match_run_finalize,
    match_run_prepare,
    match_run_refresh_statistics,
    match_run_score_partition,
)

_RETRY = dict(
    bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True
)


@shared_task(**_RETRY)
def import_job_execute(self, job_id: int) -> str:
    """Run an import job; a retry resumes after the last committed batch."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    # A refused file: the job row carries the reason, and retrying would refuse again.
    with suppress(FileRefused):
        job = import_job_run(job=job)
    job.refresh_from_db(fields=["status"])
    return job.status


@shared_task(**_RETRY)
def import_audit_execute(self, audit_id: int) -> str:
    """Audit a file; a retry starts the audit again (it wrote nothing but its row)."""
    audit = ImportAudit.objects.filter(pk=audit_id).first()
    if audit is None:
        return "missing"
    return import_audit_run(audit=audit).status


@contextmanager
def _step_of(run_id: int, step: str):
    """A database hiccup is retried; any other error fails the run, saying where."""
    try:
        yield
    except OperationalError:
        raise
    except Exception as error:
        match_run_fail(run_id=run_id, message=f"{step}: {error!r}")
        raise


@shared_task(**_RETRY)
def match_run_prepare_task(self, run_id: int) -> str:
    """First step of a matching run; queues its partitions."""
    run = MatchRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    with _step_of(run_id, "prepare"):
        return match_run_prepare(run=run).status


@shared_task(**_RETRY)
def match_run_partition_task(self, run_id: int, index: int) -> bool:
    """Score one partition; the last partition to finish queues the clustering."""
    with _step_of(run_id, f"partition {index}"):
        last = match_run_score_partition(run_id=run_id, index=index)
    if last:
        match_run_finalize_task.delay(run_id)
    return last


@shared_task(**_RETRY)
def match_run_finalize_task(self, run_id: int) -> str:
    """Cluster and apply a run whose partitions are all scored (once, whoever calls)."""
    with _step_of(run_id, "clustering"):
        run = match_run_finalize(run_id=run_id)
    match_run_refresh_statistics(run=run)
    return run.status


@shared_task(**_RETRY)
def survivorship_recompute_task(self, version: int, acting_user_id: int | None) -> int:
    """Apply saved survivorship rules to the customers they may change (idempotent)."""
    from rcu.services.survivorship import survivorship_recompute

    return survivorship_recompute(version=version, acting_user_id=acting_user_id)


@shared_task(**_RETRY)
def subscriptions_kick(self) -> int:
    """Changes were committed: each active subscriber's delivery task is queued."""
    ids = list(Subscription.objects.filter(active=True, paused_at__isnull=True)
               .values_list("pk", flat=True))
    for subscription_id in ids:
        subscription_deliver.delay(subscription_id)
    return len(ids)


@shared_task(**_RETRY)
def subscription_deliver(self, subscription_id: int) -> int:
    """Fan the new events out into this subscriber's deliveries and send what is due.

    Queues itself again while more is due now, and for the earliest retry waiting
    (with a broker; run eagerly, retries wait for the next change or a replay)."""
    deliveries_fan_out(subscription_id=subscription_id)
    report = deliveries_send_due(subscription_id=subscription_id)
    eager = bool(current_app.conf.task_always_eager)
    if report.more_due and not report.paused:
        subscription_deliver.delay(subscription_id)
    elif report.next_attempt_at is not None and not report.paused and not eager:
        wait = max(1.0, (report.next_attempt_at - timezone.now()).total_seconds())
        subscription_deliver.apply_async((subscription_id,), countdown=wait)
    return report.delivered


@shared_task(**_RETRY)
def subscription_snapshot_task(self, subscription_id: int) -> int:
    """Write a subscriber's snapshot a chunk at a time, then send it.

    Each chunk is its own transaction: with a broker the task queues itself again after
    each, so a long snapshot never holds a worker (nor the subscriber's row) for long."""
    from rcu.services.snapshots import subscription_snapshot_continue

    done = subscription_snapshot_continue(subscription_id=subscription_id)
    eager = bool(current_app.conf.task_always_eager)
    while not done and eager:
        done = subscription_snapshot_continue(subscription_id=subscription_id)
    if not done:
        subscription_snapshot_task.delay(subscription_id)
    subscription_deliver.delay(subscription_id)
    return int(done)


@shared_task(**_RETRY)
def change_events_compact_task(self) -> int:
    """Nightly: change events past the retention, delivered everywhere, are deleted."""
    return change_events_compact()
