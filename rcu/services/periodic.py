"""Periodic work: each run recorded (`PeriodicRun`), and the schedule run without beat.

Two ways to run the schedule (`CELERY_BEAT_SCHEDULE` in settings):

- production: `celery -A rcu beat` sends each task when due; the workers run it;
- the embedded defaults (`make demo`: SQLite, eager Celery, no beat): `manage.py
  run_periodic` runs, in its own process, every entry whose time has come since its
  last recorded run (`periodic_entries_due`), once (`--once`) or on a timer.

A task that records its runs (`recorded_task`) gets one `PeriodicRun` row per run, keyed
by its Celery task id: a message redelivered after a worker died, or retried after an
error, finds the same row and resumes it (its counts go on adding up); a run already
finished is not done again. What each run did is added in the same transaction as the
work itself (`periodic_run_add`), so the counts stay exact whatever stops it midway.
One process acts on a run at a time (a task id is delivered to one worker at a time).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rcu.models import PeriodicRun

# A run still "running" after this long was cut off (its process died).
STALE_AFTER = timedelta(hours=6)
# Finished runs kept (days), then deleted when the same task runs again.
RUNS_KEPT_DAYS = 90


def periodic_run_begin(*, task: str, key: str, trigger: str) -> tuple[PeriodicRun, bool]:
    """The run of this key: created, or resumed when a retry or a redelivered message
    brings the same key back. The boolean says whether to act (False: it finished)."""
    now = timezone.now()
    PeriodicRun.objects.filter(
        task=task, state=PeriodicRun.State.RUNNING, started_at__lt=now - STALE_AFTER,
    ).exclude(key=key).update(state=PeriodicRun.State.INTERRUPTED)
    try:
        with transaction.atomic():
            run, created = PeriodicRun.objects.get_or_create(
                key=key, defaults={"task": task, "trigger": trigger, "started_at": now},
            )
    except IntegrityError:  # two processes began the same key at once: the other acts
        return PeriodicRun.objects.get(key=key), False
    if created:
        return run, True
    if run.state == PeriodicRun.State.SUCCEEDED:
        return run, False
    run.state, run.error, run.finished_at = PeriodicRun.State.RUNNING, "", None
    run.save(update_fields=["state", "error", "finished_at"])
    return run, True


def periodic_run_add(*, run: PeriodicRun, counts: Mapping[str, int]) -> None:
    """Add what a step did to the run, inside the step's own transaction."""
    result = dict(run.result)
    for what, count in counts.items():
        result[what] = int(result.get(what, 0)) + int(count)
    run.result = result
    PeriodicRun.objects.filter(pk=run.pk).update(result=result)


def periodic_run_end(*, run: PeriodicRun, error: BaseException | None = None, step: str = "") -> None:
    run.finished_at = timezone.now()
    if error is None:
        run.state, run.error = PeriodicRun.State.SUCCEEDED, ""
    else:
        run.state = PeriodicRun.State.FAILED
        run.error = f"{type(error).__name__}{f' ({step})' if step else ''}"[:300]
    run.save(update_fields=["state", "error", "finished_at"])
    PeriodicRun.objects.filter(
        task=run.task, finished_at__lt=run.finished_at - timedelta(days=RUNS_KEPT_DAYS),
    ).delete()


def recorded_task(body: Callable[..., Any]) -> Callable[..., Any]:
    """Make a bound Celery task's body record its runs: `body(self, *, run, ...)` is
    called with the run to add counts to, unless that run already finished. Returns the
    run's result (its counts)."""

    @functools.wraps(body)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> dict[str, int]:
        key = getattr(self.request, "id", None) or f"{self.name}@{uuid.uuid4()}"
        trigger = (PeriodicRun.Trigger.COMMAND if key.startswith(RUN_PERIODIC_PREFIX)
                   else PeriodicRun.Trigger.BEAT)
        run, act = periodic_run_begin(task=self.name, key=key, trigger=trigger)
        if not act:
            return dict(run.result)
        try:
            body(self, *args, run=run, **kwargs)
        except BaseException as error:
            periodic_run_end(run=run, error=error, step=getattr(error, "rcu_step", ""))
            raise
        periodic_run_end(run=run)
        return dict(run.result)

    return wrapper


# --- the schedule without beat -------------------------------------------------------

RUN_PERIODIC_PREFIX = "run_periodic:"


@dataclass(frozen=True)
class DueEntry:
    name: str  # the schedule entry's name
    task: str  # the task it sends
    args: tuple
    kwargs: dict


def _last_runs() -> dict[str, datetime]:
    """When each task last started (any trigger)."""
    from django.db.models import Max

    return dict(PeriodicRun.objects.values_list("task").annotate(last=Max("started_at")))


def periodic_entries_due(*, now: datetime | None = None,
                         schedule: Mapping[str, Mapping[str, Any]] | None = None) -> list[DueEntry]:
    """The schedule's entries whose time has come since their task last ran (never run:
    due now), in the schedule's order."""
    from rcu.celery import app

    now = now or timezone.now()
    schedule = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
    last = _last_runs()
    due = []
    for name, entry in schedule.items():
        when = entry["schedule"]
        if isinstance(when, int | float | timedelta):
            interval = when if isinstance(when, timedelta) else timedelta(seconds=when)
            previous = last.get(entry["task"])
            is_due = previous is None or now - previous >= interval
        else:
            when = when if getattr(when, "app", None) else when.clone()
            when.app = app
            previous = last.get(entry["task"])
            is_due = previous is None or _crontab_passed(when, previous, now)
        if is_due:
            due.append(DueEntry(name=name, task=entry["task"], args=tuple(entry.get("args", ())),
                                kwargs=dict(entry.get("kwargs", {}))))
    return due


def _crontab_passed(when: Any, previous: datetime, now: datetime) -> bool:
    """Whether an occurrence of the crontab lies after `previous` and at or before `now`."""
    start, delta, _ = when.remaining_delta(timezone.localtime(previous))
    return bool(start + delta <= now)


def periodic_entry_run(entry: DueEntry, *, now: datetime | None = None) -> PeriodicRun:
    """Run one entry's task in this process (as an eager Celery task), recorded: tasks
    that record their runs fill the row; for the others this records when they ran."""
    from rcu.celery import app

    app.loader.import_default_modules()  # every app's tasks module (autodiscovery)
    now = now or timezone.now()
    task = app.tasks[entry.task]
    key = f"{RUN_PERIODIC_PREFIX}{entry.name}@{now:%Y-%m-%dT%H:%M}"
    run, act = periodic_run_begin(task=entry.task, key=key, trigger=PeriodicRun.Trigger.COMMAND)
    if not act:
        return run
    error: BaseException | None = None
    result: Any = None
    try:
        outcome = task.apply(args=entry.args, kwargs=entry.kwargs, task_id=key)
        result = outcome.result
        if outcome.failed() and isinstance(result, BaseException):
            error = result
    except Exception as raised:  # eager tasks propagate: recorded, and the next entry runs
        error = raised
    run.refresh_from_db()
    if run.state == PeriodicRun.State.RUNNING:  # a task that does not record its runs
        if error is None and isinstance(result, int):
            periodic_run_add(run=run, counts={"result": result})
        periodic_run_end(run=run, error=error)
    return run
