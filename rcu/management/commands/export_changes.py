"""Change files for nightly exchanges: the change events after a cursor, as CSV or JSON
Lines, projected on what a subscriber may receive.

The file holds customers' personal data: writing it is logged as a read of every customer
it names (`rcu.hooks.personal_data_read`, purpose `export_changes`), attributed to the
`--user` given, or else to RCU itself ("export_changes command")."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from rcu import hooks
from rcu.management.actors import command_actor
from rcu.management.csv_export import csv_write
from rcu.models import ChangeEvent, Subscription
from rcu.services.deliveries import cross_references, delivery_body
from rcu.services.events import EVENT_ATTRIBUTES

CHUNK = 2000


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
        events = self._after(since)
        if subscription.event_types:
            events = events.filter(type__in=subscription.event_types)
        if out.parent and not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory")
        last = {"cursor": None}
        logged: set[str] = set()

        def read(chunk):
            bodies = list(self._bodies(subscription, chunk, last))
            # Each customer written is logged once, as its chunk is written.
            new = {b["data"]["customer_id"] for b in bodies} - logged
            logged.update(new)
            hooks.personal_data_read(user=actor, customers=sorted(new), purpose="export_changes",
                                     reference=out.name if new else "")
            return bodies

        def bodies():
            chunk: list[ChangeEvent] = []
            for event in events.order_by("pk").iterator(chunk_size=CHUNK):
                chunk.append(event)
                if len(chunk) == CHUNK:
                    yield from read(chunk)
                    chunk = []
            yield from read(chunk)

        if format == "jsonl":
            count = 0
            with out.open("w", encoding="utf-8") as handle:
                for body in bodies():
                    handle.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
        else:
            attributes = [a for a in EVENT_ATTRIBUTES if a in subscription.attributes]
            columns = ["id", "cursor", "type", "timestamp", "customer_id", "version", *attributes,
                       "survivor_id", "retired_ids", "merged_from", "source_ids"]

            def rows():
                for body in bodies():
                    data = body["data"]
                    yield [body["id"], body["cursor"], body["type"], body["timestamp"],
                           data["customer_id"], data["version"],
                           *(_cell(data["attributes"].get(a)) for a in attributes),
                           data.get("survivor_id", ""), " ".join(data.get("retired_ids", [])),
                           data.get("merged_from", ""), " ".join(data.get("source_ids", []))]

            count = csv_write(out=out, columns=columns, rows=rows())
        self.stdout.write(f"{count} events written to {out}")
        self.stdout.write(f"cursor: {last['cursor'] if last['cursor'] is not None else since}")

    def _subscription(self, name: str | None) -> Subscription:
        if name is None:  # everything, every attribute: the admin's own export
            return Subscription(name="export", event_types=[], attributes=list(EVENT_ATTRIBUTES))
        found = Subscription.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"unknown subscriber {name!r}")
        return found

    def _after(self, since: str):
        if since.isdigit():
            return ChangeEvent.objects.filter(pk__gt=int(since))
        moment: datetime | None = parse_datetime(since)
        if moment is None:
            raise CommandError(f"--since {since!r}: give an event id or an ISO 8601 date and time")
        return ChangeEvent.objects.filter(occurred_at__gte=moment)

    def _bodies(self, subscription, chunk, last):
        refs = cross_references(subscription, [e.customer_id for e in chunk]) if chunk else {}
        for event in chunk:
            last["cursor"] = event.pk
            yield {"id": event.webhook_id, "cursor": event.pk,
                   **delivery_body(subscription, event, refs)}


def _cell(value):
    return "" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
