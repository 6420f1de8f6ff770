from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stewardship.selectors import CANDIDATE_COLUMNS, candidate_record_pairs


class Command(BaseCommand):
    help = (
        "Write merge candidates to a CSV file (source_a,external_id_a,source_b,external_id_b,"
        "score,status), one row per pair of source records that merging would join."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path)

    def handle(self, *args, out: Path, **options):
        if out.parent and not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory")
        count = 0
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CANDIDATE_COLUMNS)
            for row in candidate_record_pairs():
                writer.writerow(row)
                count += 1
        self.stdout.write(f"{count} record pairs written to {out}")
