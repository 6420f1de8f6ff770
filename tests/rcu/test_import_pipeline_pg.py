"""On PostgreSQL outside a transaction, batches commit in a background thread while
the next one is mapped: the outcome must be the same as committing inline."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from rcu.models import Customer, ImportJob, SourceRecord
from rcu.services import imports as imports_service
from rcu.services.imports import import_job_create, import_job_run
from tests.factories import TEST_ACTOR, make_source

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the background committer is PostgreSQL only"
)

HEADER = "id;first_name;last_name;email;mobile;updated"


def _file(tmp_path, count: int, *, bad_every: int = 0):
    lines = [HEADER]
    for i in range(count):
        if bad_every and i % bad_every == 0:
            lines.append(f";Sans;Identifiant;x{i}@free.fr;;2024-01-01 10:00")
        else:
            lines.append(f"P{i};Jean;Martin{i};jean{i}@free.fr;06 12 34 {i % 90 + 10} 78;2024-01-01 10:00")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.django_db(transaction=True)
def test_background_commits_store_every_batch_in_order(tmp_path, settings):
    settings.RCU_IMPORT_PIPELINE = True
    settings.RCU_ANALYZE_AFTER_ROWS = 100
    source = make_source("crm", department="marketing",
                         fields=["first_name", "last_name", "email", "mobile"])
    assert not connection.in_atomic_block
    job, _ = import_job_create(source=source, path=_file(tmp_path, 250, bad_every=50), acting_user=TEST_ACTOR)

    job = import_job_run(job=job, batch_size=40)

    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.created_count, job.rejected_count, job.lines_done) == (245, 5, 251)
    assert SourceRecord.objects.count() == 245
    assert Customer.objects.count() == 245
    assert list(job.row_errors.values_list("line", flat=True)) == [2, 52, 102, 152, 202]
    with connection.cursor() as cursor:  # the planner learnt the new table sizes at once
        for table in ("rcu_customer", "rcu_sourcerecord", "rcu_matchkey"):
            cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", [table])
            assert cursor.fetchone()[0] is not None, table


@pytest.mark.django_db(transaction=True)
def test_a_failing_background_batch_stops_the_job_after_the_last_good_batch(tmp_path, settings, monkeypatch):
    settings.RCU_IMPORT_PIPELINE = True
    source = make_source("crm", department="marketing",
                         fields=["first_name", "last_name", "email", "mobile"])
    original = imports_service.records_upsert
    calls = {"n": 0}

    def failing_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(imports_service, "records_upsert", failing_third)
    job, _ = import_job_create(source=source, path=_file(tmp_path, 200), acting_user=TEST_ACTOR)
    with pytest.raises(RuntimeError, match="disk full"):
        import_job_run(job=job, batch_size=50)

    job.refresh_from_db()
    assert job.lines_done == 101  # batches 1 and 2 (lines 2-101) committed, batch 3 rolled back
    assert job.status == ImportJob.Status.INTERRUPTED
    assert "disk full" in job.message
    assert SourceRecord.objects.count() == 100

    monkeypatch.setattr(imports_service, "records_upsert", original)
    job = import_job_run(job=job, batch_size=50)
    assert (job.status, job.created_count) == (ImportJob.Status.SUCCEEDED, 200)
    assert SourceRecord.objects.count() == 200


@pytest.mark.django_db(transaction=True)
def test_statistics_are_refreshed_while_a_big_import_doubles_the_records(tmp_path, settings, monkeypatch):
    """Plans made for a small table must not serve it grown tenfold: each time the
    records written since the statistics double what they counted, they are made again."""
    settings.RCU_IMPORT_PIPELINE = True
    settings.RCU_ANALYZE_AFTER_ROWS = 50
    refreshed: list[int] = []
    real_refresh = imports_service.StatisticsWatch.wrote

    def counting(watch, rows):
        done = real_refresh(watch, rows)
        if done:
            refreshed.append(watch.counted)
        return done

    monkeypatch.setattr(imports_service.StatisticsWatch, "wrote", counting)
    source = make_source("crm", department="marketing",
                         fields=["first_name", "last_name", "email", "mobile"])
    job, _ = import_job_create(source=source, path=_file(tmp_path, 450), acting_user=TEST_ACTOR)

    import_job_run(job=job, batch_size=25)

    # At about 50, 100, 200 and 400 records: the statistics counted what was there.
    assert len(refreshed) == 4
    assert all(b >= 2 * a for a, b in itertools.pairwise(refreshed))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'rcu_sourcerecord'")
        assert cursor.fetchone()[0] == 450  # and the end of the import counted them all
