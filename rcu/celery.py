"""The Celery app: batch work (imports, matching runs) is chunked into idempotent tasks."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")

app = Celery("rcu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
