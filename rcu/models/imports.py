from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rcu.models.sources import SourceSystem


class ImportJob(models.Model):
    """One run of a file import: the row is the truth, the queue only triggers work.

    `lines_done` is the last data line whose batch is committed; a resumed job
    starts after it, and upserts make replaying a batch harmless. A job ends
    succeeded (bad rows are rejected rows), failed (the file is refused; `message`
    says why) or cancelled (by an admin); interrupted means an outside cause stopped
    it and it can resume.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        INTERRUPTED = "interrupted", _("Interrupted")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    source = models.ForeignKey(
        SourceSystem, on_delete=models.PROTECT, related_name="import_jobs", verbose_name=_("source")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    upload = models.FileField(_("uploaded file"), upload_to="imports/%Y/%m/", blank=True)
    file_path = models.CharField(_("file path"), max_length=500, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    lines_done = models.PositiveIntegerField(_("lines done"), default=0)
    total_lines = models.PositiveIntegerField(_("total lines"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # Rows held back by `rcu.hooks.records_screen` (an erased person sent again: held in
    # quarantine for the DPO). A count only: the rows are the quarantine's.
    held_count = models.PositiveIntegerField(_("held"), default=0)
    # A snapshot holds every record the source has: once it succeeds, the source's
    # records that are not in it are marked deleted at source.
    snapshot = models.BooleanField(
        _("full snapshot"), default=False,
        help_text=_("The file holds every record of the source: records absent from it "
                    "are marked deleted at the source."),
    )
    deleted_count = models.PositiveIntegerField(_("deleted at source"), default=0)
    message = models.TextField(_("message"), blank=True)
    rejects_file = models.CharField(_("rejects file"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [
            # Resuming: the unfinished job of the same file for the same source.
            models.Index(fields=["source", "file_sha256", "status"], name="importjob_resume_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def progress_percent(self) -> int | None:
        if not self.total_lines:
            return None
        return min(100, round(100 * self.lines_done / self.total_lines))


class ImportRowError(models.Model):
    """A row that could not be read or keyed: line, field and reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField(_("line"))
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    field = models.CharField(_("field"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    content = models.TextField(_("row as received"), blank=True)

    class Meta:
        ordering = ["job", "line"]
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        constraints = [
            # A resumed or retried batch must not report the same line twice.
            models.UniqueConstraint(fields=["job", "line", "field"], name="uniq_rowerror_job_line_field"),
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field} {self.reason}"

    @property
    def content_display(self) -> str:
        """The row as the file had it, for the job page: CSV cells joined by the file's
        delimiter, or the JSON line."""
        from rcu.ingestion.batches import original_from_text

        original = original_from_text(self.content)
        if isinstance(original, list):
            return (self.job.delimiter or ";").join(original)
        return original
