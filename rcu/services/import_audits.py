"""The audit of a file before it is loaded: what the import would do, writing nothing.

The file is read by the import's own code (`inspect_file`, the mapped columns check,
`row_check` on every row) and profiled (`rcu.ingestion.profile`). Then the real import
and the matching run it triggers are done inside a transaction that is always rolled
back: the simplest way to predict *exactly* which rows are rejected (the database's
refusals included), which records link to a customer, which go to review and how many
customers are created. Nothing leaves that transaction: the tasks it would queue are
`on_commit` callbacks, dropped with it; no rejects file is written; stewardship's
candidates (through `rcu.hooks`) are rows of the same transaction. Only the
`ImportAudit` row and its report are written; the uploaded file is removed at the end.

The rolled-back transaction locks what an import locks (the source row, the customers
it touches) while it runs: an audit waits for an import of the same source, and the
other way round. PostgreSQL's sequences advance, as after any rollback.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, TypedDict, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from rcu.db import chunks
from rcu.engine.generic import EMAIL, NAME, PHONE
from rcu.hooks import ReviewPair
from rcu.ingestion.batches import row_check
from rcu.ingestion.limits import printable
from rcu.ingestion.profile import FileProfile, FileProfiler
from rcu.ingestion.readers import FileFacts, FileRefused, inspect_file, iter_rows
from rcu.models import GenericValue, ImportAudit, ImportJob, SourceRecord, SourceSystem
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import Actor, SystemActor, actor_user
from rcu.services.imports import import_job_run, mapped_columns_check
from rcu.services.locks import retrying
from rcu.services.matching.batch import MatchRunBusy, match_run_in_process
from rcu.services.matching.training import generic_values_refresh

logger = logging.getLogger(__name__)

REPORT_VERSION = 1
# Rejected rows listed in the report (all are counted).
REPORT_REJECTED_ROWS = 500
ID_CHUNK = 5000
# Generic values of each kind are looked for in these comparison keys.
_GENERIC_ATTRIBUTES = {
    EMAIL: ("email",),
    PHONE: ("phone", "mobile"),
    NAME: ("first_name", "last_name"),
}


class RejectedRow(TypedDict):
    line: int
    external_id: str
    field: str
    reason: str


class FieldRejections(TypedDict):
    field: str
    count: int


@dataclass
class Prediction:
    """What the import (and the matching run it queues) would do with the file."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    matched: bool = False  # whether the import would queue a matching run
    records_linked: int = 0  # new records joining a customer that existed before
    records_to_review: int = 0  # new records in a customer of their own, awaiting a steward
    records_new_customer: int = 0  # new records in a customer of their own, nothing to review
    new_customers: int = 0  # customers holding only records the file creates
    review_pairs: int = 0  # grey-zone pairs (merge candidates) touching the file's records
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    rejected_by_field: list[FieldRejections] = field(default_factory=list)
    generic_values: list[tuple[str, str, str]] = field(default_factory=list)  # kind, value, reason

    def to_json(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "matched": self.matched,
            "records_linked": self.records_linked,
            "records_to_review": self.records_to_review,
            "records_new_customer": self.records_new_customer,
            "new_customers": self.new_customers,
            "review_pairs": self.review_pairs,
        }


def _sha256_and_size(stream: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def import_audit_create(
    *, source: SourceSystem, acting_user: Actor, path: Path | None = None,
    upload: UploadedFile | None = None,
) -> ImportAudit:
    """An audit of this file, pending. The caller checks the right to import into the
    source (`source_get_for_user(..., perm=INGEST)`)."""
    audit = ImportAudit(
        source=source,
        created_by=actor_user(acting_user),
    )
    if path is not None and upload is None:
        with path.open("rb") as stream:
            audit.file_sha256, audit.file_size = _sha256_and_size(stream)
        audit.file_name = path.name
        audit.file_path = str(path.resolve())
    elif upload is not None and path is None:
        audit.file_sha256, audit.file_size = _sha256_and_size(upload)
        audit.file_name = upload.name or "upload"  # Django names every uploaded file
        audit.upload.save(audit.file_name, upload, save=False)
    else:
        raise ValueError("give either a path or an upload")
    audit.save()
    return audit


def import_audit_submit(*, source: SourceSystem, upload: UploadedFile, acting_user) -> ImportAudit:
    """Audit an uploaded file: at once when it is small (`RCU_AUDIT_INLINE_MAX_BYTES`),
    otherwise queued once the audit row is committed."""
    from rcu.tasks import import_audit_execute

    with transaction.atomic():
        audit = import_audit_create(source=source, acting_user=acting_user, upload=upload)
        inline = audit.file_size <= settings.RCU_AUDIT_INLINE_MAX_BYTES
        if not inline:
            transaction.on_commit(lambda: import_audit_execute.delay(audit.pk))
    if inline:
        return import_audit_run(audit=audit)
    audit.refresh_from_db()
    return audit


@contextmanager
def _open_audit_file(audit: ImportAudit) -> Iterator[BinaryIO]:
    try:
        stream = (
            # A FieldFile proxies its file object's methods (Django's FileProxyMixin).
            cast(BinaryIO, audit.upload.open("rb")) if audit.upload
            else open(audit.file_path, "rb")  # noqa: SIM115
        )
    except FileNotFoundError as exc:
        raise FileRefused("the file is no longer there; audit it again") from exc
    with stream:
        yield stream


def import_audit_run(*, audit: ImportAudit) -> ImportAudit:
    """Run an audit to its end: succeeded with its report, or failed saying why.

    Safe to call again: a finished audit is returned as it is; one left running by a
    lost worker runs again from the start (it wrote nothing but its own row).
    """
    claimed = ImportAudit.objects.filter(
        pk=audit.pk, status__in=[ImportAudit.Status.PENDING, ImportAudit.Status.RUNNING]
    ).update(status=ImportAudit.Status.RUNNING, started_at=timezone.now(), message="")
    audit.refresh_from_db()
    if not claimed:
        return audit
    acting_user = SystemActor(job=f"audit #{audit.pk}", started_by_id=audit.created_by_id)
    try:
        with _open_audit_file(audit) as stream:
            facts = inspect_file(stream, audit.file_name)
            if audit.file_sha256 and facts.sha256 != audit.file_sha256:
                raise FileRefused("the file changed since the audit was created; audit it again")
            mapper = source_row_mapper(audit.source)
            mapped_columns_check(stream, facts, mapper)
            profiler = FileProfiler(mapper)
            for item in iter_rows(stream, facts):
                profiler.add(item, row_check(item, mapper))
            profile = profiler.result()
        prediction = _predict(audit=audit, acting_user=acting_user)
    except FileRefused as exc:
        _finish(audit, ImportAudit.Status.FAILED, f"the file is refused: {exc}")
    except OperationalError:
        raise  # no fault of the file: the task tries again, and the audit starts over
    except MatchRunBusy:
        # The import's own run would wait for it: predicting now would be guessing.
        _finish(audit, ImportAudit.Status.FAILED,
                "a matching run is under way; audit the file again once it has ended")
    except Exception as exc:
        logger.exception("file audit #%s failed", audit.pk)
        _finish(audit, ImportAudit.Status.FAILED, f"the audit stopped: {exc}")
    else:
        report = _report(facts, profile, prediction)
        ImportAudit.objects.filter(pk=audit.pk).update(
            total_lines=facts.total_lines, rows=profile.rows, rejected_count=prediction.rejected,
            report=report,
        )
        _finish(audit, ImportAudit.Status.SUCCEEDED, "")
    _discard_upload(audit)
    audit.refresh_from_db()
    return audit


def _finish(audit: ImportAudit, status: str, message: str) -> None:
    ImportAudit.objects.filter(pk=audit.pk).update(
        status=status, message=printable(message, 2000), finished_at=timezone.now()
    )


def _discard_upload(audit: ImportAudit) -> None:
    """The report is what an audit keeps: the uploaded rows go."""
    if audit.upload:
        audit.upload.delete(save=False)
        ImportAudit.objects.filter(pk=audit.pk).update(upload="")


class _RolledBack(Exception):
    """Carries the prediction out of the transaction it forces to roll back."""

    def __init__(self, prediction: Prediction) -> None:
        super().__init__("rolled back")
        self.prediction = prediction


@retrying  # stopped by the lock order: everything was rolled back anyway, run it again
def _predict(*, audit: ImportAudit, acting_user) -> Prediction:
    try:
        with transaction.atomic():
            raise _RolledBack(_import_and_match(audit=audit, acting_user=acting_user))
    except _RolledBack as done:
        return done.prediction


def _import_and_match(*, audit: ImportAudit, acting_user) -> Prediction:
    """The real import and matching run, measured; the caller rolls them back."""
    records_before = SourceRecord.objects.aggregate(m=Max("pk"))["m"] or 0
    job = ImportJob.objects.create(
        source=audit.source,
        created_by=audit.created_by,
        file_name=audit.file_name,
        file_sha256=audit.file_sha256,
        file_path=audit.file_path,
        upload=audit.upload.name or "",
    )
    job = import_job_run(job=job, match_after=False, write_rejects=False)
    if job.status != ImportJob.Status.SUCCEEDED:
        raise FileRefused(job.message or job.status)
    prediction = Prediction(
        created=job.created_count, updated=job.updated_count, unchanged=job.unchanged_count,
        rejected=job.rejected_count,
    )
    prediction.rejected_rows = list(
        job.row_errors.order_by("line", "field").values("line", "external_id", "field", "reason")[
            :REPORT_REJECTED_ROWS
        ]
    )
    prediction.rejected_by_field = list(
        job.row_errors.values("field").annotate(count=Count("id")).order_by("-count", "field")
    )
    # The same condition as `import_job_run`'s own matching run.
    prediction.matched = bool(settings.RCU_MATCH_AFTER_IMPORT and (job.created_count or job.updated_count))
    review: list[ReviewPair] = []
    if prediction.matched:
        _, review = match_run_in_process(full=False, acting_user=acting_user)
    generic_values_refresh(acting_user=acting_user)  # as the engine sees the base with the file
    prediction.generic_values = list(
        GenericValue.objects.filter(dismissed=False).values_list("kind", "value", "reason")
    )
    _measure_links(prediction, job=job, records_before=records_before, review=review)
    return prediction


def _measure_links(prediction: Prediction, *, job: ImportJob, records_before: int, review) -> None:
    # `last_import_job` has no index of its own: the source's (source, external id)
    # index narrows the scan to the source's records.
    customer_of = dict(
        SourceRecord.objects.filter(source_id=job.source_id, last_import_job=job)
        .values_list("pk", "customer_id")
    )
    created = {pk for pk in customer_of if pk > records_before}
    customers = sorted({customer_of[pk] for pk in created if customer_of[pk] is not None})
    older: set[int] = set()  # customers holding a record that existed before the import
    for chunk in chunks(customers, ID_CHUNK):
        older.update(
            SourceRecord.objects.filter(customer_id__in=chunk, pk__lte=records_before)
            .values_list("customer_id", flat=True).distinct()
        )
    in_review: set[int] = set()
    for pair in review:
        if pair.record_a in customer_of or pair.record_b in customer_of:
            prediction.review_pairs += 1
            in_review.update((pair.record_a, pair.record_b))
    linked = {pk for pk in created if customer_of[pk] in older}
    to_review = {pk for pk in created - linked if pk in in_review}
    prediction.records_linked = len(linked)
    prediction.records_to_review = len(to_review)
    prediction.records_new_customer = len(created) - len(linked) - len(to_review)
    prediction.new_customers = len({customer_of[pk] for pk in created - linked})


def _report(facts: FileFacts, profile: FileProfile, prediction: Prediction) -> dict:
    report = {
        "version": REPORT_VERSION,
        "file": {
            "format": facts.file_format,
            "encoding": facts.encoding,
            "delimiter": facts.delimiter,
            "total_lines": facts.total_lines,
            "sha256": facts.sha256,
        },
        **profile.to_json(),
        "rejected": prediction.rejected,
        "rejected_rows": prediction.rejected_rows,
        "rejected_by_field": prediction.rejected_by_field,
        "prediction": prediction.to_json(),
    }
    generic_by_attribute: dict[str, list[dict]] = {}
    for kind, value, reason in prediction.generic_values:
        for attribute in _GENERIC_ATTRIBUTES.get(kind, ()):
            count = profile.key_counts.get(attribute, Counter()).get(value, 0)
            if count:
                generic_by_attribute.setdefault(attribute, []).append(
                    {"value": value, "count": count, "reason": reason}
                )
    for entry in report["attributes"]:
        found = generic_by_attribute.get(entry["attribute"], [])
        entry["generic_values"] = sorted(found, key=lambda g: (-g["count"], g["value"]))
    return report


def audit_summary_lines(audit: ImportAudit, *, shown_rejected: int = 20) -> list[str]:
    """The report in a few lines of text (`import_records --dry-run`)."""
    report = audit.report
    p = report["prediction"]
    d = report["duplicates"]
    lines = [
        f"Audit #{audit.pk} of {audit.file_name} (nothing was imported):",
        f"  rows {report['rows']}, would be rejected {report['rejected']}; "
        f"created {p['created']}, updated {p['updated']}, unchanged {p['unchanged']}",
    ]
    if p["matched"]:
        lines.append(
            f"  new records: {p['records_linked']} would join an existing customer, "
            f"{p['records_to_review']} would go to review, {p['records_new_customer']} would "
            f"start a new customer; {p['new_customers']} new customers, "
            f"{p['review_pairs']} pairs for the stewards"
        )
    else:
        lines.append("  no matching run would follow: each new record keeps its own customer")
    lines.append(
        f"  duplicates in the file: {d['external_ids']} external ids sent more than once, "
        f"{d['same_content']} groups of rows with the same values under different ids"
    )
    lines.append("  columns (fill rate):")
    for column in report["columns"]:
        lines.append(
            f"    {column['column']}: {column['fill_rate']:.1%} "
            f"({column['filled']}/{column['total']}), {column['distinct']} distinct"
        )
    invalid = [a for a in report["attributes"] if a["filled"] and a["valid"] < a["filled"]]
    if invalid:
        lines.append("  attributes with invalid values (validity rate):")
        for attribute in invalid:
            flags = ", ".join(f"{f['flag']} {f['count']}" for f in attribute["flags"])
            lines.append(
                f"    {attribute['attribute']}: {attribute['validity_rate']:.1%} "
                f"({attribute['valid']}/{attribute['filled']}){f'; {flags}' if flags else ''}"
            )
    for row in report["rejected_rows"][:shown_rejected]:
        field = f" {row['field']}:" if row["field"] else ""
        lines.append(f"  line {row['line']}:{field} {row['reason']}")
    if report["rejected"] > shown_rejected:
        lines.append(f"  … and {report['rejected'] - shown_rejected} more")
    return lines
