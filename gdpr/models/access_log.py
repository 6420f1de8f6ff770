from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessChannel(models.TextChoices):
    UI = "ui", _("screen")
    API = "api", _("API")
    ADMIN = "admin", _("Django admin")
    EXPORT = "export", _("export")
    COMMAND = "command", _("command")
    PACK = "pack", _("access pack")


class AccessLogImmutable(Exception):
    """Entries are written once; only the retention purge (a queryset delete) removes them."""


class AccessLogEntry(models.Model):
    """A person (or RCU running a command) read a customer's personal data (CNIL:
    traceability of accesses).

    It names the customer by public id only: the log itself holds no personal data of
    the customer. `purpose` is the code of the screen or endpoint; `what` and `channel`
    are derived from it (`gdpr.access_purposes`). A read of data not tied to a customer
    (the rejected rows of an import) has no customer and names what was read in
    `reference`. Entries are never changed; only the retention purge deletes them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user"),
        null=True, blank=True,
    )
    # RCU's own reads (a command run without --user): the job, e.g. "export_links command".
    actor = models.CharField(_("run as"), max_length=100, blank=True)
    customer_public_id = models.UUIDField(_("customer"), db_index=True, null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=50)
    what = models.CharField(_("what was read"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=AccessChannel.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    subject_request_id = models.PositiveIntegerField(_("subject request"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            # The DPO's search by user over a period.
            models.Index(fields=["user", "at"], name="gdpr_accesslog_user_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.actor} {self.purpose} {self.customer_public_id or self.reference}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or not self._state.adding:
            raise AccessLogImmutable("an access log entry is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AccessLogImmutable("an access log entry is deleted only by the retention purge")

    def what_label(self) -> str:
        """What was read, in the reader's language when the purpose code is a known one."""
        from gdpr.access_purposes import PURPOSES

        known = PURPOSES.get(self.purpose)
        return str(known.what) if known is not None else self.what
