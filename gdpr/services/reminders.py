"""Deadline reminders to the DPO: open requests due within a few working days, or
overdue, are noticed on the DPO dashboard and e-mailed to the DPO users, once.

Each run (`deadline_reminders_send`):

1. writes a `DeadlineReminder` row for each open request that reached a threshold it
   was not reminded of (`RCU_GDPR_REMINDER_WORKING_DAYS`: "5" means five working days
   or fewer before the deadline; "overdue" once the deadline has passed). Only the
   tightest threshold reached counts (a request recorded two days before its deadline
   gets "due within 2", not also "within 5"). The unique constraint (request,
   threshold, deadline) makes a second run, or a retried one, write nothing new: the
   row is the truth, and the dashboard shows it at once (the in-app notice);
2. claims the rows nobody claimed for e-mail (one UPDATE: two runs never claim the
   same row), e-mails the claimed ones to every active DPO user with an address (one
   message each, in the site's language), then marks them e-mailed. A send that fails
   releases the claim (the next run sends them); a run that dies between the claim and
   the mark leaves its rows claimed: they are never e-mailed again (at most one
   e-mail per reminder), and the notice on the dashboard is still there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gdpr import deadlines
from gdpr.models import DeadlineReminder, SubjectRequest
from gdpr.models.requests import OPEN_STATES
from rcu.models import PeriodicRun
from rcu.normalisation.dates import paris_today
from rcu.roles import Role
from rcu.services.periodic import periodic_run_add


def reminder_thresholds() -> list[int]:
    """The working-day thresholds, largest first."""
    return sorted({int(n) for n in settings.RCU_GDPR_REMINDER_WORKING_DAYS}, reverse=True)


def reminder_threshold(*, deadline: date, today: date, thresholds: Sequence[int]) -> str | None:
    """The tightest threshold a request of this deadline has reached today, if any."""
    if deadline < today:
        return DeadlineReminder.OVERDUE
    left = deadlines.working_days_between(today, deadline)
    reached = [n for n in thresholds if left <= n]
    return f"due_{min(reached)}" if reached else None


def deadline_reminders_write(*, run: PeriodicRun | None = None, today: date | None = None) -> int:
    """The reminders due today, written once (step 1); how many are new."""
    today = today or paris_today()
    thresholds = reminder_thresholds()
    wanted = []
    for request in SubjectRequest.objects.filter(OPEN_STATES).only("due_on", "extended_due_on", "state"):
        threshold = reminder_threshold(deadline=request.deadline, today=today, thresholds=thresholds)
        if threshold is not None:
            wanted.append(DeadlineReminder(request=request, threshold=threshold, deadline=request.deadline))
    with transaction.atomic():
        before = DeadlineReminder.objects.count()
        DeadlineReminder.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
        written = DeadlineReminder.objects.count() - before
        if run is not None:
            periodic_run_add(run=run, counts={"reminders": written})
    return written


def dpo_recipients() -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, groups__name=Role.DPO.value,
    ).exclude(email="").order_by("pk").values_list("email", flat=True).distinct()
    return list(users)


def _reminder_line(reminder: DeadlineReminder) -> str:
    request = reminder.request
    values = {"reference": request.reference, "kind": request.get_kind_display(),
              "deadline": date_format(reminder.deadline, "SHORT_DATE_FORMAT")}
    if reminder.overdue:
        return _("%(reference)s (%(kind)s): overdue, the deadline was %(deadline)s") % values
    return ngettext(
        "%(reference)s (%(kind)s): due within %(count)d working day, on %(deadline)s",
        "%(reference)s (%(kind)s): due within %(count)d working days, on %(deadline)s",
        reminder.working_days or 0,
    ) % {**values, "count": reminder.working_days}


def deadline_reminders_email(*, run: PeriodicRun | None = None) -> int:
    """E-mail the reminders nobody claimed yet (step 2), at most once; how many messages.
    A send that raises releases the claim (the next run sends them) and raises."""
    claim = uuid.uuid4()
    if not DeadlineReminder.objects.filter(email_claim__isnull=True).update(email_claim=claim):
        return 0
    claimed = DeadlineReminder.objects.filter(email_claim=claim)
    reminders = list(claimed.select_related("request").order_by("deadline", "request_id"))
    recipients = dpo_recipients()
    sent = 0
    if recipients:
        with translation.override(settings.LANGUAGE_CODE):
            subject = ngettext(
                "RCU: %(count)d subject request to answer soon",
                "RCU: %(count)d subject requests to answer soon", len(reminders),
            ) % {"count": len(reminders)}
            body = "\n".join([
                _("These subject requests are due soon or overdue:"), "",
                *(f"- {_reminder_line(r)}" for r in reminders), "",
                _("They are on the DPO dashboard (Subject requests)."),
            ]) + "\n"
        try:
            sent = get_connection().send_messages([
                EmailMessage(subject=subject, body=body, to=[address]) for address in recipients
            ]) or 0
        except Exception:
            claimed.update(email_claim=None)
            raise
    with transaction.atomic():
        if sent:
            claimed.update(emailed_at=timezone.now())
        if run is not None:
            periodic_run_add(run=run, counts={"emails": sent})
    return sent


def deadline_reminders_send(*, run: PeriodicRun | None = None, today: date | None = None) -> dict[str, int]:
    """Both steps: write today's reminders, then e-mail the unclaimed ones."""
    deadline_reminders_write(run=run, today=today)
    deadline_reminders_email(run=run)
    return dict(run.result) if run is not None else {}
