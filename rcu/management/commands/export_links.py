from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rcu.selectors.links import LINK_COLUMNS, record_links


class Command(BaseCommand):
    help = (
        "Write every source record's golden customer to a CSV file "
        "(source,external_id,customer_id), one row per source record."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)

    def handle(self, *args, out: Path, **options):
        if out.parent and not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory")
        count = 0
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(LINK_COLUMNS)
            for row in record_links():
                writer.writerow(row)
                count += 1
        self.stdout.write(f"{count} records written to {out}")
