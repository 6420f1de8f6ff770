from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from rcu.management.csv_export import csv_write
from stewardship.selectors.exports import CANDIDATE_COLUMNS, candidate_record_pairs


class Command(BaseCommand):
    help = (
        "Write merge candidates to a CSV file (source_a,external_id_a,source_b,external_id_b,"
        "score,status), one row per pair of source records that merging would join."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)

    def handle(self, *args, out: Path, **options):
        count = csv_write(out=out, columns=CANDIDATE_COLUMNS, rows=candidate_record_pairs())
        self.stdout.write(f"{count} record pairs written to {out}")
