from __future__ import annotations

from django.core.management.base import BaseCommand

from quality.services import quality_snapshot_take
from rcu.management.actors import command_actor


class Command(BaseCommand):
    help = "Measure data quality now and keep today's figures (replaces today's if taken already)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-notify", action="store_true", help="Do not mail rule breaches.")

    def handle(self, *args, no_notify: bool = False, **options) -> None:
        snapshot = quality_snapshot_take(notify=not no_notify,
                                         acting_user=command_actor("quality_snapshot"))
        self.stdout.write(f"quality snapshot {snapshot.taken_on}: {snapshot.duration_ms} ms")
