"""What periodic work did: one row per run of a scheduled task (docs/configuration.md,
"Periodic work")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    """One run of a periodic task: when, how it ended and what it did (counts only: no
    personal data). The row is the truth of a run: `key` is its Celery task id (a
    redelivered or retried message has the same id, so it resumes this row instead of
    acting again), or, from `run_periodic`, the schedule entry and the minute it ran."""

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")

    class Trigger(models.TextChoices):
        BEAT = "beat", _("scheduler (Celery beat)")
        COMMAND = "command", _("run_periodic command")

    key = models.CharField(max_length=200, unique=True)
    task = models.CharField(_("task"), max_length=200)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # What the run did, by kind: {"access_log": 120, "identity_proofs": 2, …}.
    result = models.JSONField(_("result"), default=dict, blank=True)
    # The exception's class and the step it stopped at (never its message, which may
    # quote a value).
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        indexes = [
            # run_periodic's "when did this task last run", the dashboards' last runs.
            models.Index(fields=["task", "-started_at"], name="rcu_periodicrun_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.started_at:%Y-%m-%d %H:%M}"
