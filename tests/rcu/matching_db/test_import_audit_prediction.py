"""The audit of a file predicts exactly what importing it then does.

On a base that already has customers (matched), an e-shop file holds: Jeanne as the
e-shop knows her (links to her CRM customer), a sparse Jeanne (only a name and a town:
review), Paul (nobody knows him: a new customer), a new person sent under two ids (one
new customer for both), a changed record, a row without id and a row sent twice.
The audit runs first; then the real import and the matching run it queues; every
figure of the prediction is measured again on what really happened.
"""

from __future__ import annotations

import csv
import io

import pytest

from rcu.models import Customer, ImportAudit, SourceRecord
from rcu.services.import_audits import import_audit_create, import_audit_run
from rcu.services.imports import import_job_create, import_job_run
from stewardship.models import MergeCandidate
from tests.factories import PLAIN_FIELDS, ingest
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_SPARSE, MARC, MARC_CRM, PAUL

pytestmark = pytest.mark.django_db

HEADER = ["id", *PLAIN_FIELDS, "updated"]
NINON = {"first_name": "Ninon", "last_name": "Garnier", "birth_date": "1992-02-29",
         "email": "ninon.garnier@laposte.net", "mobile": "06 98 76 54 32", "postcode": "44000",
         "city": "Nantes"}


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, delimiter=";", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in HEADER})
    return out.getvalue()


@pytest.fixture
def base(crm, eshop, service_client_source, run_match):
    records = (
        ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **MARC_CRM, "birth_date": "1965-07-14"}])
        + ingest(eshop, [{"id": "E2", **MARC}])
        + ingest(service_client_source, [{"id": "S9", "first_name": "Odile", "last_name": "Roux",
                                          "email": "odile.roux@free.fr", "city": "Brest",
                                          "postcode": "29200"}])
    )
    run_match()
    return records


@pytest.fixture
def eshop_file(tmp_path):
    path = tmp_path / "eshop.csv"
    path.write_text(csv_text([
        {"id": "E1", **JEANNE_ESHOP},
        {"id": "E5", **JEANNE_SPARSE},
        {"id": "E3", **PAUL},
        {"id": "E7", **NINON},
        {"id": "E8", **NINON},
        {"id": "E2", **MARC, "city": "Bordeaux", "address_line1": "3 cours Victor Hugo"},
        {"id": "", "first_name": "Sans", "last_name": "Identifiant"},
        {"id": "E3", **PAUL},
    ]), encoding="utf-8")
    return path


def what_happened(job, *, records_before: set[int], candidates_before: set[int]) -> dict:
    """The prediction's figures, measured on the base after the real import."""
    of_file = dict(SourceRecord.objects.filter(last_import_job=job).values_list("pk", "customer_id"))
    created = {pk for pk in of_file if pk not in records_before}
    linked = {
        pk for pk in created
        if SourceRecord.objects.filter(customer_id=of_file[pk], pk__in=records_before).exists()
    }
    new_candidates = [
        c for c in MergeCandidate.objects.open().exclude(pk__in=candidates_before)
        if c.record_a_id in of_file or c.record_b_id in of_file
    ]
    in_review = {r for c in new_candidates for r in (c.record_a_id, c.record_b_id)}
    to_review = {pk for pk in created - linked if pk in in_review}
    return {
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "rejected": job.rejected_count,
        "matched": True,
        "records_linked": len(linked),
        "records_to_review": len(to_review),
        "records_new_customer": len(created) - len(linked) - len(to_review),
        "new_customers": len({of_file[pk] for pk in created - linked}),
        "review_pairs": len(new_candidates),
    }


def test_the_audit_predicts_what_the_import_then_does(
    base, eshop, eshop_file, admin_user, django_capture_on_commit_callbacks
):
    audit = import_audit_run(audit=import_audit_create(source=eshop, acting_user=admin_user,
                                                       path=eshop_file))
    assert audit.status == ImportAudit.Status.SUCCEEDED, audit.message
    predicted = audit.report["prediction"]

    records_before = set(SourceRecord.objects.values_list("pk", flat=True))
    candidates_before = set(MergeCandidate.objects.values_list("pk", flat=True))
    active_before = Customer.objects.filter(merged_into__isnull=True).count()
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = import_job_create(source=eshop, acting_user=admin_user, path=eshop_file)
        job = import_job_run(job=job)

    happened = what_happened(job, records_before=records_before, candidates_before=candidates_before)
    assert predicted == happened
    # Not vacuous: every outcome occurs.
    assert happened["records_linked"] == 1  # E1, Jeanne
    assert happened["records_to_review"] == 1  # E5, the sparse Jeanne
    assert happened["records_new_customer"] == 3  # E3 Paul, E7 and E8 Ninon
    assert happened["new_customers"] == 3  # E5's, Paul's, Ninon's
    assert happened["rejected"] == 1 and happened["updated"] == 1
    assert Customer.objects.filter(merged_into__isnull=True).count() - active_before == 3
    rejected = list(job.row_errors.order_by("line", "field").values("line", "external_id", "field", "reason"))
    assert audit.report["rejected_rows"] == rejected


def test_without_matching_after_imports_every_new_record_keeps_its_own_customer(
    base, eshop, eshop_file, admin_user, settings
):
    settings.RCU_MATCH_AFTER_IMPORT = False
    audit = import_audit_run(audit=import_audit_create(source=eshop, acting_user=admin_user,
                                                       path=eshop_file))
    predicted = audit.report["prediction"]
    assert predicted["matched"] is False
    assert predicted["records_linked"] == predicted["review_pairs"] == 0
    assert predicted["records_new_customer"] == predicted["new_customers"] == predicted["created"] == 5

    records_before = set(SourceRecord.objects.values_list("pk", flat=True))
    job, _ = import_job_create(source=eshop, acting_user=admin_user, path=eshop_file)
    job = import_job_run(job=job)
    customers = SourceRecord.objects.filter(last_import_job=job).exclude(pk__in=records_before)
    assert customers.values("customer_id").distinct().count() == 5


def test_while_a_matching_run_is_under_way_the_audit_says_so_instead_of_guessing(
    base, eshop, eshop_file, admin_user
):
    from rcu.models import MatchRun

    MatchRun.objects.create(full=False, partitions=1, status=MatchRun.Status.SCORING)
    audit = import_audit_run(audit=import_audit_create(source=eshop, acting_user=admin_user,
                                                       path=eshop_file))
    assert audit.status == ImportAudit.Status.FAILED
    assert "matching run is under way" in audit.message
    assert not SourceRecord.objects.filter(external_id="E7").exists()
