"""The re-import quarantine: keyed hashes of erased people's identifiers, and the incoming
records that carried one, held for the DPO (docs/erasure.md, "Re-import quarantine")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ErasedIdentifier(models.Model):
    """One identifier of an erased person, as a keyed hash (`gdpr.identifier_hashes`):
    pseudonymised data kept to make the erasure effective, until `expires_at`."""

    kind = models.CharField(_("kind"), max_length=20)
    digest = models.CharField(_("keyed hash"), max_length=64, unique=True)
    erased_at = models.DateTimeField(_("erased"))
    expires_at = models.DateTimeField(_("kept until"))

    class Meta:
        verbose_name = _("erased identifier (keyed hash)")
        verbose_name_plural = _("erased identifiers (keyed hashes)")
        indexes = [
            # The purge of hashes past their retention (`quarantine_hashes_purge`).
            models.Index(fields=["expires_at"], name="gdpr_erasedid_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}"


class QuarantineStatus(models.TextChoices):
    HELD = "held", _("held")
    RELEASED = "released", _("released")
    DISCARDED = "discarded", _("discarded")


class QuarantinedRecord(models.Model):
    """An incoming record (file import or API) that carried an erased person's identifier,
    held instead of ingested until the DPO releases it (ingested then) or discards it.

    Personal data while held: `raw` is the payload as sent. Once decided, the row stays as
    the trail (who, when, which kinds matched) and its payload and ids are emptied."""

    source = models.ForeignKey("rcu.SourceSystem", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("source"))
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    raw = models.JSONField(_("payload as received"), default=dict, blank=True)
    line = models.PositiveIntegerField(_("line"), null=True, blank=True)
    import_job = models.ForeignKey("rcu.ImportJob", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("import"))
    # Every identifier digest of the row (an erasure of the same person finds it by them).
    digests = models.JSONField(default=list, blank=True)
    matched = models.JSONField(_("identifiers recognised"), default=list, blank=True)  # kinds only
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=QuarantineStatus.choices,
                              default=QuarantineStatus.HELD)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("quarantined record")
        verbose_name_plural = _("quarantined records")
        indexes = [
            # The DPO's list: what is still held, newest first.
            models.Index(fields=["status", "-received_at"], name="gdpr_quarantine_status_idx"),
        ]

    def __str__(self) -> str:
        return f"quarantine {self.pk} ({self.status})"

    @property
    def is_held(self) -> bool:
        return self.status == QuarantineStatus.HELD
