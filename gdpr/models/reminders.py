"""Deadline reminders to the DPO: one row per request, threshold and deadline."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import SubjectRequest


class DeadlineReminder(models.Model):
    """The DPO was reminded that a request is due within `threshold` working days
    ("due_5") or overdue ("overdue"). The row is the truth: at most one per request,
    threshold and deadline (an extended request has a new deadline, so new reminders).
    The DPO dashboard shows the rows of open requests (the in-app notice); the e-mail is
    sent at most once: `email_claim` is set by one run before sending, `emailed_at`
    once sent (a run that died in between leaves the notice, never a second e-mail)."""

    OVERDUE = "overdue"

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="reminders")
    threshold = models.CharField(_("threshold"), max_length=20)
    deadline = models.DateField(_("deadline"))
    created_at = models.DateTimeField(_("reminded"), auto_now_add=True)
    email_claim = models.UUIDField(null=True, blank=True)  # the run that e-mails it
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        constraints = [
            models.UniqueConstraint(fields=["request", "threshold", "deadline"],
                                    name="gdpr_reminder_once"),
        ]
        indexes = [
            # The run's claim of the reminders not yet e-mailed.
            models.Index(fields=["created_at"], name="gdpr_reminder_unclaimed_idx",
                         condition=models.Q(email_claim__isnull=True)),
            # Each claim's rows.
            models.Index(fields=["email_claim"], name="gdpr_reminder_claim_idx",
                         condition=models.Q(email_claim__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.threshold} {self.deadline}"

    @property
    def overdue(self) -> bool:
        return self.threshold == self.OVERDUE

    @property
    def working_days(self) -> int | None:
        """The threshold's working days ("due_5" → 5); None when overdue."""
        return None if self.overdue else int(self.threshold.removeprefix("due_"))
