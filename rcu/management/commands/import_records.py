from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from rcu.ingestion.readers import FileRefused
from rcu.management.actors import command_actor
from rcu.models import ImportAudit, ImportJob, SourceSystem
from rcu.services.import_audits import (
    audit_summary_lines,
    import_audit_create,
    import_audit_run,
)
from rcu.services.imports import import_job_create, import_job_run, import_job_write_rejects

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = (
        "Import a CSV (UTF-8 or Windows-1252, comma or semicolon) or JSON Lines file into a "
        "source. Re-importing is safe: records upsert by external id; an interrupted import "
        "resumes where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="source system code")
        parser.add_argument("--user", help="username recorded as the author of the changes")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--rejects", type=Path, help="where to write rejected rows (CSV; JSON Lines for a JSON Lines file)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--snapshot", action="store_true",
            help="the file holds every record of the source: records absent from it are "
            "marked deleted at the source (kept and flagged, never dropped)",
        )
        parser.add_argument(
            "--dry-run", action="store_true",
            help="audit the file instead: report what the import would do (rejected rows, "
            "duplicates, links, review, new customers) and load nothing; the report is kept",
        )
        parser.add_argument(
            "--force-snapshot", action="store_true",
            help="with --snapshot: delete even more than RCU_SNAPSHOT_MAX_DELETED_PERCENT "
            "of the source's records",
        )

    def handle(self, *args, file: Path, source: str, user: str | None, batch_size: int | None,
               rejects: Path | None, no_progress: bool, snapshot: bool = False,
               force_snapshot: bool = False, dry_run: bool = False, **options):
        source_obj = SourceSystem.objects.filter(code=source).first()
        if source_obj is None:
            known = ", ".join(SourceSystem.objects.values_list("code", flat=True)) or "none yet"
            raise CommandError(f"unknown source {source!r} (known: {known}); declare it with configure_source")
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        acting_user = command_actor("import_records", user)

        if dry_run:
            if snapshot or rejects:
                raise CommandError("--dry-run goes with neither --snapshot nor --rejects")
            self._audit(file, source_obj, acting_user)
            return
        if force_snapshot and not snapshot:
            raise CommandError("--force-snapshot goes with --snapshot")
        job, resumed = import_job_create(
            source=source_obj, acting_user=acting_user, path=file, snapshot=snapshot
        )
        if resumed:
            self.stdout.write(f"Resuming import job #{job.pk} after line {job.lines_done}.")
        bar = None
        last_seen = 0

        def progress(current: ImportJob) -> None:
            nonlocal bar, last_seen
            if no_progress or current.total_lines is None:
                return
            if bar is None:
                bar = tqdm(total=current.total_lines, initial=current.lines_done, unit=" lines",
                           file=self.stderr._out, dynamic_ncols=True)
                last_seen = current.lines_done
            bar.update(current.lines_done - last_seen)
            last_seen = current.lines_done

        try:
            job = import_job_run(job=job, progress=progress,
                                 batch_size=batch_size, force_snapshot=force_snapshot)
        except FileRefused as exc:
            raise CommandError(f"{file}: refused, nothing was imported: {exc}") from exc
        finally:
            if bar is not None:
                bar.close()

        if rejects and job.rejected_count:
            job.rejects_file = import_job_write_rejects(job=job, path=rejects)
            ImportJob.objects.filter(pk=job.pk).update(rejects_file=job.rejects_file)
        self.stdout.write(
            f"Import job #{job.pk} {job.get_status_display().lower()}: "
            f"created {job.created_count}, updated {job.updated_count}, "
            f"unchanged {job.unchanged_count}, rejected {job.rejected_count}"
            + (f", deleted at source {job.deleted_count}" if job.snapshot else "")
            # Rows of erased people held for the DPO (a count: the rows are the quarantine's).
            + (f", held in quarantine {job.held_count}" if job.held_count else "")
        )
        if job.snapshot and job.message:
            self.stdout.write(job.message)
        for error in job.row_errors.order_by("line")[:SHOWN_ERRORS]:
            field = f" {error.field}:" if error.field else ""
            self.stdout.write(f"  line {error.line}:{field} {error.reason}")
        if job.rejected_count > SHOWN_ERRORS:
            self.stdout.write(f"  … and {job.rejected_count - SHOWN_ERRORS} more")
        if job.rejects_file:
            self.stdout.write(f"Rejected rows written to {job.rejects_file}")

    def _audit(self, file: Path, source: SourceSystem, acting_user) -> None:
        audit = import_audit_create(source=source, acting_user=acting_user, path=file)
        audit = import_audit_run(audit=audit)
        if audit.status != ImportAudit.Status.SUCCEEDED:
            raise CommandError(f"{file}: audit #{audit.pk} failed: {audit.message}")
        for line in audit_summary_lines(audit):
            self.stdout.write(line)
