from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from rcu.management.actors import command_actor
from rcu.models import MatchRun
from rcu.services.matching.batch import (
    DEFAULT_PARTITIONS,
    PAIRS_PER_PARTITION,
    match_run_create,
)


class Command(BaseCommand):
    help = (
        "Match the records waiting to be matched (new or changed), or with --full re-evaluate "
        "the whole base. The run is split into Celery tasks by blocking key: start more "
        "workers to go faster. Re-running or retrying creates no duplicate link or candidate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="re-evaluate every record")
        parser.add_argument(
            "--partitions", type=int, default=None,
            help=f"scoring tasks (default: a full run as its pairs need, about "
                 f"{PAIRS_PER_PARTITION:,} pairs each; a pending run {DEFAULT_PARTITIONS})",
        )
        parser.add_argument("--user", help="username recorded as the author of the changes")
        parser.add_argument("--no-wait", action="store_true",
                            help="queue the run and return at once (with a broker)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, full: bool, partitions: int | None, user: str | None, no_wait: bool,
               no_progress: bool, **options):
        if partitions is not None and partitions < 1:
            raise CommandError("--partitions must be at least 1")
        acting_user = command_actor("match", user)
        started = time.perf_counter()
        run = match_run_create(full=full, partitions=partitions, acting_user=acting_user)
        if no_wait and not settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(f"Matching run #{run.pk} queued.")
            return
        bar = None if no_progress else tqdm(
            total=run.partitions, unit=" partitions", file=self.stderr._out, dynamic_ncols=True
        )
        done = 0
        while True:
            run.refresh_from_db()
            if bar is not None:
                if bar.total != run.partitions:  # chosen when the run starts
                    bar.total = run.partitions
                    bar.refresh()
                bar.update(run.partitions_done - done)
                done = run.partitions_done
            if run.status in (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED):
                break
            time.sleep(0.5)
        if bar is not None:
            bar.close()
        if run.status == MatchRun.Status.FAILED:
            raise CommandError(f"Matching run #{run.pk} failed: {run.message}")
        self.stdout.write(
            f"Matching run #{run.pk} succeeded in {time.perf_counter() - started:.1f} s: "
            f"{run.records} records, {run.pairs_compared} pairs compared, {run.pairs_kept} kept, "
            f"{run.records_moved} records moved, {run.customers_retired} customers retired, "
            f"{run.candidates} pairs to review, {run.oversized_blocks} oversized blocks skipped, "
            f"{run.generic_values} generic values."
        )
        if run.message:
            self.stdout.write(f"  {run.message}")
