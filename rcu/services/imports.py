"""Import jobs: a file for a source, streamed in batches, resumable.

Each batch is one transaction that writes the records, the rejected rows and the
job's counters together, so the job row always says exactly what is stored: a job
cut off at any point resumes after its last committed line and, because records
upsert by (source, external id), replaying a batch can never duplicate anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO, BinaryIO, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from rcu.csv_safe import people_csv_writer
from rcu.db import is_postgresql
from rcu.ingestion import jsontext
from rcu.ingestion.batches import (
    Batch,
    iter_batches,
    iter_batches_in_subprocess,
    original_from_text,
    rejected_row,
)
from rcu.ingestion.limits import printable
from rcu.ingestion.mapping import MappedRow, RowMapper
from rcu.ingestion.readers import (
    REJECTS_COLUMNS,
    REJECTS_MEMBER,
    FileFacts,
    FileRefused,
    csv_header,
    inspect_file,
    jsonl_keys,
)
from rcu.memory import relaxed_gc
from rcu.models import Customer, ImportJob, ImportRowError, MatchKey, SourceRecord, SourceSystem
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import Actor, SystemActor, actor_user
from rcu.services.ingestion import UpsertResult, records_upsert
from rcu.services.locks import retrying
from rcu.services.source_deletions import import_job_apply_snapshot, import_job_mark_seen
from rcu.services.stats import StatisticsWatch, planner_statistics_refresh, source_stats_recount

ProgressCallback = Callable[[ImportJob], None]
logger = logging.getLogger(__name__)


def _sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


@transaction.atomic
def import_job_create(
    *,
    source: SourceSystem,
    acting_user: Actor,
    path: Path | None = None,
    upload: UploadedFile | None = None,
    snapshot: bool = False,
) -> tuple[ImportJob, bool]:
    """A job for this file, or the unfinished job of the same file to resume.

    `snapshot`: the file holds every record of the source; once it succeeds, the
    source's records it does not hold are deleted at the source. Returns (job, resumed).
    """
    if path is not None and upload is None:
        with path.open("rb") as stream:
            sha = _sha256_of(stream)
        name = path.name
    elif upload is not None and path is None:
        sha = _sha256_of(upload)
        name = upload.name or "upload"  # Django names every uploaded file
    else:
        raise ValueError("give either a path or an upload")
    resumable = (
        ImportJob.objects.select_for_update()
        .filter(
            source=source,
            file_sha256=sha,
            status__in=[ImportJob.Status.RUNNING, ImportJob.Status.INTERRUPTED],
        )
        .order_by("-created_at")
        .first()
    )
    if resumable is not None and path is not None:
        resumable.file_path = str(path.resolve())
        resumable.save(update_fields=["file_path"])
        return resumable, True
    job = ImportJob(
        source=source,
        created_by=actor_user(acting_user),
        file_name=name,
        file_sha256=sha,
        file_path=str(path.resolve()) if path is not None else "",
        snapshot=snapshot,
    )
    if upload is not None:
        job.upload.save(name, upload, save=False)
    job.save()
    return job, False


@contextmanager
def _open_job_file(job: ImportJob) -> Iterator[BinaryIO]:
    try:
        stream = (
            # A FieldFile proxies its file object's methods (Django's FileProxyMixin).
            cast(BinaryIO, job.upload.open("rb")) if job.upload
            else open(job.file_path, "rb")  # noqa: SIM115
        )
    except FileNotFoundError as exc:  # it will not come back: the job fails, saying so
        raise FileRefused("the file is no longer there; import it again") from exc
    with stream:
        yield stream


def mapped_columns_check(stream: BinaryIO, facts: FileFacts, mapper: RowMapper) -> None:
    """Refuse the file before anything is written if a mapped column is absent."""
    required = mapper.required_fields
    if facts.file_format == "csv":
        present = set(csv_header(stream, facts))
        kind = "column"
    else:
        present = jsonl_keys(stream, facts)
        kind = "field"
    missing = sorted(required - present)
    if missing:
        raise FileRefused(
            f"missing mapped {kind}(s): {', '.join(missing)}"
            + (f" (the file has: {', '.join(sorted(present))})" if present else "")
        )


@retrying  # all or nothing: a batch stopped by the lock order is simply run again
@transaction.atomic
def _commit_batch(
    *, job: ImportJob, mapped: list[MappedRow], rejected: list[ImportRowError], last_line: int,
    acting_user,
) -> None:
    if is_postgresql():
        # The job row commits with the data, so a batch lost to a crash is simply
        # redone on resume: no need to wait for the disk at every batch.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    try:
        # A savepoint: a row the database still refuses (the limits are checked
        # before, so this is the exception) must not hold back the rest of its batch.
        with transaction.atomic():
            result = records_upsert(source=job.source, rows=mapped, job=job, acting_user=acting_user)
    except OperationalError:
        raise
    except _ROW_ERRORS:
        logger.warning("import job #%s: a batch was refused, retrying it row by row", job.pk,
                       exc_info=True)
        result, refused = _upsert_row_by_row(job=job, mapped=mapped, acting_user=acting_user)
        rejected = [*rejected, *refused]
    if job.snapshot:
        import_job_mark_seen(job=job, external_ids=[row.external_id for row in mapped])
    stored_errors = ImportRowError.objects.filter(job=job).count()
    room = max(settings.RCU_IMPORT_MAX_STORED_ERRORS - stored_errors, 0)
    if rejected and room:
        ImportRowError.objects.bulk_create(rejected[:room], ignore_conflicts=True)
    ImportJob.objects.filter(pk=job.pk).update(
        created_count=F("created_count") + result.created,
        updated_count=F("updated_count") + result.updated,
        unchanged_count=F("unchanged_count") + result.unchanged,
        rejected_count=F("rejected_count") + len(rejected),
        held_count=F("held_count") + result.held,
        lines_done=last_line,
    )
    job.refresh_from_db(
        fields=["created_count", "updated_count", "unchanged_count", "rejected_count", "held_count",
                "lines_done"]
    )


# What one row can cause: the database refusing a value (DataError, IntegrityError) or
# a value that cannot be encoded. A lost connection or a deadlock (OperationalError)
# is no row's fault: it interrupts the job, which resumes.
_ROW_ERRORS = (DatabaseError, ValueError)


def _upsert_row_by_row(
    *, job: ImportJob, mapped: list[MappedRow], acting_user
) -> tuple[UpsertResult, list[ImportRowError]]:
    """Each row in its own savepoint; the ones the database refuses become rejected rows."""
    total = UpsertResult()
    refused: list[ImportRowError] = []
    for row in mapped:
        try:
            with transaction.atomic():
                result = records_upsert(source=job.source, rows=[row], job=job, acting_user=acting_user)
        except OperationalError:
            raise
        except _ROW_ERRORS as exc:
            original = (
                list(row.raw.values()) if job.file_format == "csv" else jsontext.dumps(row.raw).decode()
            )
            refused.append(ImportRowError(job=job, **asdict(rejected_row(
                row.line, row.external_id, "", f"the database refused the row: {exc}", original
            ))))
            continue
        total.created += result.created
        total.updated += result.updated
        total.unchanged += result.unchanged
        total.held += result.held
        total.record_ids.update(result.record_ids)
    return total, refused


class _Cancelled(Exception):
    """An admin cancelled the job: stop at the next batch boundary."""


def _cancelled(job: ImportJob) -> bool:
    return ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CANCELLED).exists()


def import_actor(job: ImportJob) -> SystemActor:
    """An import's changes are RCU's, named after the job, whoever started it."""
    return SystemActor(job=f"import #{job.pk}", started_by_id=job.created_by_id)


def import_job_run(
    *, job: ImportJob, progress: ProgressCallback | None = None,
    batch_size: int | None = None, match_after: bool | None = None, force_snapshot: bool = False,
    write_rejects: bool = True,
) -> ImportJob:
    """Run (or resume) a job to the end, as the job (`import_actor`). Safe to call
    again on a finished job.

    The job ends succeeded (bad rows are rejected rows, never a stop), failed (the
    whole file is refused, with the reason), or cancelled (an admin asked; checked
    between batches). Only an outside cause (a lost database, a stopped worker)
    leaves it interrupted, to resume. A successful snapshot import then deletes at the
    source the records it did not hold (`import_job_apply_snapshot`; `force_snapshot`
    lifts its safety limit). A job that ends queues a matching run of what it created
    or changed, unless `match_after` (default: the `RCU_MATCH_AFTER_IMPORT` setting)
    says otherwise. `write_rejects` off: no rejects file (the audit of a file, which
    writes nothing outside its rolled-back transaction).
    """
    job = ImportJob.objects.select_related("source").get(pk=job.pk)
    if job.is_finished:
        return job
    batch_size = batch_size or settings.RCU_IMPORT_BATCH_SIZE
    acting_user = import_actor(job)
    source = job.source
    try:
        with _open_job_file(job) as stream:
            facts = inspect_file(stream, job.file_name)
            if job.file_sha256 and facts.sha256 != job.file_sha256:
                raise FileRefused("the file changed since the job was created; start a new import")
            mapper = source_row_mapper(source)
            mapped_columns_check(stream, facts, mapper)
            started = ImportJob.objects.filter(pk=job.pk).exclude(
                status=ImportJob.Status.CANCELLED
            ).update(
                status=ImportJob.Status.RUNNING,
                started_at=job.started_at or timezone.now(),
                file_format=facts.file_format,
                encoding=facts.encoding,
                delimiter=facts.delimiter,
                total_lines=facts.total_lines,
                message="",
            )
            job.refresh_from_db()
            if not started:
                return job
            if progress:
                progress(job)

            committer = _committer()
            statistics = StatisticsWatch(tables=_PLANNED_TABLES)
            try:
                with relaxed_gc():
                    for batch in _batches(stream, facts, mapper, job=job, batch_size=batch_size):
                        created_before = job.created_count
                        committer.submit(
                            job=job,
                            mapped=batch.mapped,
                            rejected=[ImportRowError(job=job, **asdict(r)) for r in batch.rejected],
                            last_line=batch.last_line,
                            acting_user=acting_user,
                        )
                        # The batches committed so far (the one submitted may still run).
                        statistics.wrote(job.created_count - created_before)
                        if progress:
                            progress(job)
                        if _cancelled(job):
                            raise _Cancelled
            finally:
                committer.close()  # a batch under way always ends, committed or rolled back
    except FileRefused as exc:
        _finish(job, ImportJob.Status.FAILED, str(exc))
        raise
    except _Cancelled:
        job.refresh_from_db()
    except (KeyboardInterrupt, Exception) as exc:
        # Everything up to the last committed batch is stored; the job can resume.
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped by an error ({exc})"
        try:
            job.refresh_from_db(fields=["lines_done"])
            _finish(job, ImportJob.Status.INTERRUPTED,
                    f"{reason} after line {job.lines_done}; run the same import again to resume")
        except Exception:  # the database itself may be what failed: the job stays "running"
            logger.exception("could not record why import job #%s stopped", job.pk)
        raise
    else:
        _finish(job, ImportJob.Status.SUCCEEDED, "")
    source_stats_recount(source_ids=[source.pk])  # exact again, whatever ran meanwhile
    if job.created_count >= settings.RCU_ANALYZE_AFTER_ROWS:
        _refresh_planner_statistics()
    job.rejects_file = (
        import_job_write_rejects(job=job) if job.rejected_count and write_rejects else ""
    )
    ImportJob.objects.filter(pk=job.pk).update(rejects_file=job.rejects_file)
    if job.snapshot and job.status == ImportJob.Status.SUCCEEDED:  # never a cancelled one
        outcome = import_job_apply_snapshot(job=job, acting_user=acting_user, force=force_snapshot)
        ImportJob.objects.filter(pk=job.pk).update(message=outcome.refused)
        job.refresh_from_db(fields=["deleted_count", "message"])
    if match_after is None:
        match_after = settings.RCU_MATCH_AFTER_IMPORT
    if match_after and (job.created_count or job.updated_count):
        from rcu.services.matching.batch import match_run_create

        match_run_create(full=False, acting_user=acting_user)
    if progress:
        progress(job)
    return job


@transaction.atomic
def import_job_cancel(*, job: ImportJob, acting_user) -> ImportJob:
    """Cancel a job that has not ended. A running job stops at its next batch boundary:
    the batches committed before stay (records upsert, so importing the file again is
    safe), nothing after is read. The caller checks the right to cancel
    (`import_job_get_for_user(..., cancel=True)`)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ImportJobFinished(job.status)
    who = getattr(actor_user(acting_user), "username", "") or "?"
    stopped_at = f" after line {job.lines_done}" if job.lines_done else ""
    job.status = ImportJob.Status.CANCELLED
    job.message = printable(f"cancelled by {who}{stopped_at}", 2000)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    return job


class ImportJobFinished(ValueError):
    """The job has already ended: there is nothing to cancel."""


def _local_path(job: ImportJob) -> str | None:
    if job.file_path:
        return job.file_path
    try:
        return job.upload.path  # local storage; remote storages have no path
    except (NotImplementedError, ValueError):
        return None


def _batches(stream: BinaryIO, facts: FileFacts, mapper: RowMapper, *, job: ImportJob,
             batch_size: int) -> Iterator[Batch]:
    """The job's batches, mapped in a helper process when the file is big enough."""
    path = _local_path(job)
    if path and facts.total_lines >= settings.RCU_IMPORT_MAPPER_PROCESS_MIN_LINES:
        return iter_batches_in_subprocess(
            path, facts, mapper, resume_after=job.lines_done, batch_size=batch_size
        )
    return iter_batches(stream, facts, mapper, resume_after=job.lines_done, batch_size=batch_size)


class _InlineCommitter:
    """Commits each batch before the next one is read."""

    def submit(self, **batch) -> None:
        _commit_batch(**batch)

    def close(self) -> None:
        pass


class _BackgroundCommitter:
    """Commits batch N on its own connection while batch N+1 is read and mapped.

    PostgreSQL ingests a batch on the other core while this process maps the next
    one. Batches still commit one at a time and in order, so the job's last
    committed line keeps its meaning; an error surfaces at the next submit or close.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rcu-import")
        self._pending: Future | None = None

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def submit(self, **batch) -> None:
        self._wait()
        self._pending = self._executor.submit(_commit_batch, **batch)

    def close(self) -> None:
        try:
            self._wait()
        finally:
            # Resolved inside the writer thread: its own connection, not the caller's.
            self._executor.submit(lambda: connection.close()).result()
            self._executor.shutdown()


def _committer() -> _InlineCommitter | _BackgroundCommitter:
    # A caller's open transaction must see the writes: then everything stays on its
    # connection. SQLite serialises writers anyway.
    if (
        settings.RCU_IMPORT_PIPELINE
        and is_postgresql()
        and not connection.in_atomic_block
    ):
        return _BackgroundCommitter()
    return _InlineCommitter()


# The records first (how much they grew is what is watched). The blocking keys too:
# without their statistics, real-time matching right after a large import looks
# candidates up with plans made for an empty table.
_PLANNED_TABLES = [model._meta.db_table for model in (SourceRecord, Customer, MatchKey)]


def _refresh_planner_statistics() -> None:
    # ANALYZE only: the visibility map of the new pages (index-only scans) is left to
    # autovacuum, which inserts wake; a VACUUM here was a sixth of a 100k import's time.
    planner_statistics_refresh(tables=_PLANNED_TABLES, vacuum=False)


def _finish(job: ImportJob, status: str, message: str) -> None:
    """The job's end, unless an admin cancelled it meanwhile. The message may quote
    the file (a refusal names its columns): stored printable, never with a NUL."""
    ImportJob.objects.filter(pk=job.pk).exclude(status=ImportJob.Status.CANCELLED).update(
        status=status, message=printable(message, 2000), finished_at=timezone.now()
    )
    job.refresh_from_db()


def import_job_write_rejects(*, job: ImportJob, path: Path | None = None) -> str:
    """Write the job's rejected rows to a file that can be corrected and imported again.

    A CSV source gets a CSV for people (`rcu.csv_safe.people_csv_writer`: UTF-8 with
    BOM, `;`, formula-like cells neutralised by a leading `'`): the columns
    `rcu_line`, `rcu_field`, `rcu_reason`, then the source's own header and each
    rejected row's own cells. A JSON Lines source gets JSON Lines: each rejected
    object with an `rcu_rejected` member (line, field, reason); a line that was not
    a JSON object is kept as text in that member. Importing the file again ignores
    what was added (`rcu.ingestion.readers.REJECTS_COLUMNS`).
    """
    jsonl = job.file_format == "jsonl"
    if path is None:
        directory = Path(settings.MEDIA_ROOT) / "imports" / "rejects"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"job-{job.pk}-rejects.{'jsonl' if jsonl else 'csv'}"
    # A lone surrogate (refused for that) is written as its JSON escape, "\\ud800".
    with path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as out:
        if jsonl:
            for line, fields, reason, original in _rejected_lines(job):
                out.write(_rejected_json_line(line, fields, reason, original) + "\n")
        else:
            header = _source_header(job)
            writer = people_csv_writer(out)
            writer.writerow([*REJECTS_COLUMNS, *header])
            for line, fields, reason, original in _rejected_lines(job):
                cells = original if isinstance(original, list) else [original]
                writer.writerow([line, fields, reason, *cells])
    return str(path)


def _rejected_lines(job: ImportJob) -> Iterator[tuple[int, str, str, list[str] | str]]:
    """One entry per rejected line: its fields, its reasons, the row as the file had it."""
    current: list[ImportRowError] = []
    for error in job.row_errors.order_by("line", "field").iterator():
        if current and current[0].line != error.line:
            yield _merged(current)
            current = []
        current.append(error)
    if current:
        yield _merged(current)


def _merged(errors: list[ImportRowError]) -> tuple[int, str, str, list[str] | str]:
    fields = ", ".join(e.field for e in errors if e.field)
    if len(errors) == 1:
        reason = errors[0].reason
    else:
        reason = "; ".join(f"{e.field}: {e.reason}" if e.field else e.reason for e in errors)
    return errors[0].line, fields, reason, original_from_text(errors[0].content)


def _rejected_json_line(line: int, fields: str, reason: str, original: list[str] | str) -> str:
    note = {"line": line, "field": fields, "reason": reason}
    text = original if isinstance(original, str) else json.dumps(original, ensure_ascii=False)
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict):
        return json.dumps({REJECTS_MEMBER: {**note, "text": text}}, ensure_ascii=False)
    obj[REJECTS_MEMBER] = note
    return json.dumps(obj, ensure_ascii=False)


def _source_header(job: ImportJob) -> list[str]:
    """The source file's header (a rejects file's own columns left out)."""
    try:
        with _open_job_file(job) as stream:
            facts = inspect_file(stream, job.file_name)
            header = csv_header(stream, facts)
    except (OSError, ValueError):  # the file is gone, or it is not one we can read
        return []
    return [h for h in header if h not in REJECTS_COLUMNS]


def import_job_submit(
    *, source: SourceSystem, upload: UploadedFile, acting_user, snapshot: bool = False
) -> ImportJob:
    """Store an uploaded file as a job and queue its run once the job is committed."""
    from rcu.tasks import import_job_execute

    with transaction.atomic():
        job, _ = import_job_create(
            source=source, acting_user=acting_user, upload=upload, snapshot=snapshot
        )
        transaction.on_commit(lambda: import_job_execute.delay(job.pk))
    job.refresh_from_db()
    return job
