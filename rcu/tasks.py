from __future__ import annotations

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError

from rcu.ingestion.readers import FileRefused
from rcu.models import ImportJob
from rcu.services.imports import import_job_run


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
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
