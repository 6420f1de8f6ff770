"""Run the periodic schedule without Celery beat (the embedded defaults, `make demo`).

Each entry of `CELERY_BEAT_SCHEDULE` whose time has come since its task last ran is
run in this process (an eager Celery task), and recorded (`PeriodicRun`). With
`--every N` it goes on checking every N seconds until stopped; otherwise it runs what
is due once and exits (for a cron line, where beat is not wanted)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from rcu.models import PeriodicRun
from rcu.services.periodic import DueEntry, periodic_entries_due, periodic_entry_run


class Command(BaseCommand):
    help = (
        "Run the periodic tasks that are due (the Celery beat schedule in settings), once, "
        "or every --every seconds until stopped; --task runs one entry now, due or not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0,
                            help="check again every this many seconds (default: run once)")
        parser.add_argument("--task", help="the name of a schedule entry to run now")

    def handle(self, *args, every: float, task: str | None, **options):
        from django.conf import settings

        if every < 0:
            raise CommandError("--every must be positive.")
        if task is not None:
            entry = settings.CELERY_BEAT_SCHEDULE.get(task)
            if entry is None:
                raise CommandError(f"No schedule entry named {task!r}: "
                                   f"{', '.join(settings.CELERY_BEAT_SCHEDULE)}.")
            self._run([DueEntry(name=task, task=entry["task"], args=tuple(entry.get("args", ())),
                                kwargs=dict(entry.get("kwargs", {})))])
            return
        while True:
            self._run(periodic_entries_due())
            if not every:
                return
            time.sleep(every)

    def _run(self, entries: list[DueEntry]) -> None:
        for entry in entries:
            run = periodic_entry_run(entry)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(run.result.items())) or "-"
            failed = run.state == PeriodicRun.State.FAILED
            line = f"{entry.name}: {run.get_state_display()} ({counts}){' ' + run.error if failed else ''}"
            (self.stderr if failed else self.stdout).write(line)
