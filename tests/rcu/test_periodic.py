"""The periodic schedule: every entry names a real task, and `run_periodic` runs each
entry when due (never run: at once; then at its next time), records every run, and
does not run a due entry twice."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command

from rcu.celery import app
from rcu.models import PeriodicRun
from rcu.services.periodic import periodic_entries_due, periodic_entry_run

PARIS = ZoneInfo("Europe/Paris")
SMALL_SCHEDULE = {
    "nightly": {"task": "gdpr.tasks.retention_purge_task", "schedule": crontab(hour=3, minute=45)},
    "every-minute": {"task": "rcu.tasks.subscriptions_kick", "schedule": 60.0},
}


def test_every_schedule_entry_names_a_registered_task(settings):
    app.loader.import_default_modules()

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert isinstance(entry["schedule"], crontab | float | int), name
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"gdpr.tasks.retention_purge_task", "gdpr.tasks.deadline_reminders_task"} <= tasks


def test_never_run_entries_are_due_at_once_then_at_their_next_time(db):
    at = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    assert [e.name for e in periodic_entries_due(now=at, schedule=SMALL_SCHEDULE)] == ["nightly", "every-minute"]

    for entry in periodic_entries_due(now=at, schedule=SMALL_SCHEDULE):
        periodic_entry_run(entry, now=at)
    PeriodicRun.objects.update(started_at=at)

    def due(now):
        return [e.name for e in periodic_entries_due(now=now, schedule=SMALL_SCHEDULE)]

    assert due(at + timedelta(seconds=30)) == []
    assert due(at + timedelta(seconds=61)) == ["every-minute"]
    assert due(datetime(2026, 12, 8, 3, 44, tzinfo=PARIS)) == ["every-minute"]
    assert due(datetime(2026, 12, 8, 3, 46, tzinfo=PARIS)) == ["nightly", "every-minute"]


def test_a_run_records_counts_for_tasks_that_record_and_the_time_for_the_others(db):
    at = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    for entry in periodic_entries_due(now=at, schedule=SMALL_SCHEDULE):
        periodic_entry_run(entry, now=at)

    runs = {run.task: run for run in PeriodicRun.objects.all()}
    assert set(runs) == {"gdpr.tasks.retention_purge_task", "rcu.tasks.subscriptions_kick"}
    assert all(run.state == PeriodicRun.State.SUCCEEDED for run in runs.values())
    assert all(run.trigger == PeriodicRun.Trigger.COMMAND for run in runs.values())
    assert runs["gdpr.tasks.retention_purge_task"].result == {
        "access_log": 0, "access_packs": 0, "identity_proofs": 0,
        "quarantine_hashes": 0}
    assert runs["gdpr.tasks.retention_purge_task"].key == "run_periodic:nightly@2026-12-07T10:00"


def test_the_same_entry_in_the_same_minute_runs_once(db):
    at = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    (nightly, _) = periodic_entries_due(now=at, schedule=SMALL_SCHEDULE)

    first = periodic_entry_run(nightly, now=at)
    second = periodic_entry_run(nightly, now=at + timedelta(seconds=20))  # a second process

    assert first.pk == second.pk and PeriodicRun.objects.count() == 1


def test_a_failing_task_is_recorded_failed_and_the_others_still_run(db, monkeypatch):
    from gdpr.services import retention

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "retention_purges_run", broken)
    monkeypatch.setattr("gdpr.tasks.retention_purges_run", broken)
    at = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    for entry in periodic_entries_due(now=at, schedule=SMALL_SCHEDULE):
        periodic_entry_run(entry, now=at)

    states = dict(PeriodicRun.objects.values_list("task", "state"))
    assert states == {"gdpr.tasks.retention_purge_task": "failed", "rcu.tasks.subscriptions_kick": "succeeded"}
    assert PeriodicRun.objects.get(task="gdpr.tasks.retention_purge_task").error == "RuntimeError"


def test_run_periodic_runs_the_whole_schedule_once_then_nothing(db):
    out = io.StringIO()
    call_command("run_periodic", stdout=out, stderr=out)
    first = PeriodicRun.objects.count()
    call_command("run_periodic", stdout=out, stderr=out)

    from django.conf import settings

    assert first == len(settings.CELERY_BEAT_SCHEDULE)
    assert PeriodicRun.objects.count() == first  # nothing was due again
    assert "gdpr-retention-purge-daily: " in out.getvalue()


def test_run_periodic_task_runs_one_entry_and_refuses_an_unknown_one(db):
    call_command("run_periodic", "--task", "gdpr-deadline-reminders-daily", stdout=io.StringIO())
    assert list(PeriodicRun.objects.values_list("task", flat=True)) == ["gdpr.tasks.deadline_reminders_task"]

    with pytest.raises(CommandError, match="No schedule entry"):
        call_command("run_periodic", "--task", "nope", stdout=io.StringIO())
