from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rcu.models.sources import SourceSystem


class ImportAudit(models.Model):
    """The audit of a file before it is loaded: a report, and nothing else written.

    The row is the truth (a big file is audited by a task); `report` holds the column
    profile, the rejected rows, the duplicates inside the file and what the import
    would do (`rcu.services.import_audits`). The uploaded file is removed once the
    audit ends: only the report stays.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    source = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="import_audits",
        verbose_name=_("source"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    upload = models.FileField(_("uploaded file"), upload_to="audits/%Y/%m/", blank=True)
    file_path = models.CharField(_("file path"), max_length=500, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    total_lines = models.PositiveIntegerField(_("total lines"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("file audit")
        verbose_name_plural = _("file audits")
        indexes = [
            # A source's audits, newest first (its audit page and the API list).
            models.Index(fields=["source", "-created_at"], name="importaudit_source_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}
