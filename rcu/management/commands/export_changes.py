"""Change files for nightly exchanges: the change events after a cursor, as CSV or JSON
Lines, projected on what a subscriber may receive.

The file holds customers' personal data: writing it is logged as a read of every customer
it names (`rcu.hooks.personal_data_read`, purpose `export_changes`), attributed to the
`--user` given, or else to RCU itself ("export_changes command")."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rcu.management.actors import command_actor
from rcu.management.csv_export import csv_write
from rcu.models import Subscription
from rcu.selectors.change_files import (
    CsvLayout,
    SinceRefused,
    change_file_bodies,
    change_file_events,
    everything,
    jsonl_line,
)


class Command(BaseCommand):
    help = (
        "Write the change events after --since (an event id, or an ISO date and time) to "
        "OUT, as csv or jsonl; with --subscriber, only what that subscription receives. "
        "The last line printed is the cursor to pass as --since next time."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)
        parser.add_argument("--since", default="0", help="event id or ISO 8601 time (default: all)")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
        parser.add_argument("--subscriber", help="subscription name: its event types and attributes")
        parser.add_argument(
            "--user", help="username the read is attributed to in the GDPR access log "
            "(default: RCU itself, as the export_changes command)",
        )

    def handle(self, *args, out: Path, since: str, format: str, subscriber: str | None,
               user: str | None = None, **options):
        actor = command_actor("export_changes", user)
        subscription = self._subscription(subscriber)
        try:
            events = change_file_events(subscription=subscription, since=since)
        except SinceRefused as exc:
            raise CommandError(f"--since {exc}") from exc
        if out.parent and not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory")
        last = {"cursor": None}

        def bodies():
            for body in change_file_bodies(subscription=subscription, events=events, read_by=actor,
                                           purpose="export_changes", reference=out.name):
                last["cursor"] = body["cursor"]
                yield body

        if format == "jsonl":
            count = 0
            with out.open("w", encoding="utf-8") as handle:
                for body in bodies():
                    handle.write(jsonl_line(body))
                    count += 1
        else:
            layout = CsvLayout.of(subscription)
            count = csv_write(out=out, columns=layout.columns,
                              rows=(layout.row(body) for body in bodies()))
        self.stdout.write(f"{count} events written to {out}")
        self.stdout.write(f"cursor: {last['cursor'] if last['cursor'] is not None else since}")

    def _subscription(self, name: str | None) -> Subscription:
        if name is None:  # everything, every attribute: the admin's own export
            return everything()
        found = Subscription.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"unknown subscriber {name!r}")
        return found
