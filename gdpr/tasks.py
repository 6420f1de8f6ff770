"""Thin Celery tasks of the GDPR app."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from gdpr.services.access_log import access_log_purge


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def access_log_purge_task(self) -> int:
    """Nightly: access log entries past RCU_ACCESS_LOG_RETENTION_DAYS are deleted."""
    return access_log_purge()
