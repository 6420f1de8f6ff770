"""Thin Celery tasks of the quality app."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from quality.services import quality_snapshot_take
from rcu.actors import SystemActor


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             acks_late=True)
def quality_snapshot_task(self, user_id: int | None = None) -> str:
    """Take today's quality snapshot; a retry or a second run replaces today's figures."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    snapshot = quality_snapshot_take(acting_user=user or SystemActor(job="quality snapshot"))
    return f"{snapshot.taken_on}: {snapshot.duration_ms} ms"
