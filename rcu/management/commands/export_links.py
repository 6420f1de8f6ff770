from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from rcu.management.csv_export import csv_write
from rcu.selectors.links import LINK_COLUMNS, record_links


class Command(BaseCommand):
    help = (
        "Write every source record's golden customer to a CSV file "
        "(source,external_id,customer_id), one row per source record."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)

    def handle(self, *args, out: Path, **options):
        count = csv_write(out=out, columns=LINK_COLUMNS, rows=record_links())
        self.stdout.write(f"{count} records written to {out}")
