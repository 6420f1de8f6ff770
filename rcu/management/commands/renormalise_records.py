from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rcu.management.actors import command_actor
from rcu.models import SourceSystem
from rcu.services.renormalise import CHUNK, source_records_renormalise

SHOWN_SKIPPED = 20


class Command(BaseCommand):
    help = (
        "Normalise stored records again from their raw payload (after a normalisation "
        "change, such as La Poste's postcode base), through the import write path: "
        "unchanged records write nothing; changed ones keep their history, their customer "
        "is recomputed and they are queued for the next match run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", help="only this source's records (code)")
        parser.add_argument("--user", help="username recorded as the author of the changes")
        parser.add_argument("--chunk-size", type=int, default=CHUNK)

    def handle(self, *args, source: str | None, user: str | None, chunk_size: int, **options):
        sources = SourceSystem.objects.order_by("code")
        if source:
            sources = sources.filter(code=source)
            if not sources.exists():
                known = ", ".join(SourceSystem.objects.values_list("code", flat=True)) or "none"
                raise CommandError(f"unknown source {source!r} (known: {known})")
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        acting_user = command_actor("renormalise_records", user)
        for source_obj in sources:
            result = source_records_renormalise(
                source=source_obj, acting_user=acting_user, chunk_size=chunk_size
            )
            self.stdout.write(
                f"{result.source}: {result.seen} records, updated {result.updated}, "
                f"unchanged {result.unchanged}, skipped {len(result.skipped)}"
            )
            for external_id in result.skipped[:SHOWN_SKIPPED]:
                self.stdout.write(f"  skipped {external_id}: its raw payload no longer maps")
