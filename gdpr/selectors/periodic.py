"""What the DPO dashboard shows of the periodic work: the deadline reminders of open
requests (the in-app notice) and the last run of each GDPR periodic task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gdpr.models import DeadlineReminder
from gdpr.models.requests import OPEN_STATES
from gdpr.retention import retention_purge_labels
from gdpr.selectors.requests import user_handles_requests
from rcu.models import PeriodicRun

NOTICES_SHOWN = 20
GDPR_TASKS = {
    "gdpr.tasks.retention_purge_task": gettext_lazy("Retention purges"),
    "gdpr.tasks.deadline_reminders_task": gettext_lazy("Deadline reminders"),
}


def deadline_notices_for_user(*, user: Any, limit: int = NOTICES_SHOWN) -> list[DeadlineReminder]:
    """The latest reminder of each open request (overdue first, then soonest deadline)."""
    if not user_handles_requests(user):
        raise PermissionDenied
    latest: dict[int, DeadlineReminder] = {}
    reminders = (DeadlineReminder.objects.filter(request__in=_open_requests())
                 .select_related("request").order_by("request_id", "-created_at", "-id"))
    for reminder in reminders:
        latest.setdefault(reminder.request_id, reminder)
    ordered = sorted(latest.values(), key=lambda r: (not r.overdue, r.request.deadline, r.request_id))
    return ordered[:limit]


def _open_requests():
    from gdpr.models import SubjectRequest

    return SubjectRequest.objects.filter(OPEN_STATES).values("pk")


@dataclass(frozen=True)
class RunSummary:
    label: str
    run: PeriodicRun
    counts: list[tuple[str, int]] = field(default_factory=list)  # (what, how many)


def gdpr_runs_for_user(*, user: Any) -> list[RunSummary]:
    """The last run of each GDPR periodic task, with its counts in words."""
    if not user_handles_requests(user):
        raise PermissionDenied
    labels = {**retention_purge_labels(), "reminders": _("reminders"), "emails": _("e-mails")}
    summaries = []
    for task, label in GDPR_TASKS.items():
        run = PeriodicRun.objects.filter(task=task).order_by("-started_at", "-id").first()
        if run is not None:
            counts = [(str(labels.get(what, what)), int(n)) for what, n in sorted(run.result.items())]
            summaries.append(RunSummary(label=str(label), run=run, counts=counts))
    return summaries
