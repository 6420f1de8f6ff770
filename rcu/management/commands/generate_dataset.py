"""`manage.py generate_dataset`: write the demo sources' files and their ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rcu.demo import SOURCE_CODES, DatasetSpec, generate_dataset


class Command(BaseCommand):
    help = (
        "Generate a deterministic French demo data set (crm.csv, eshop.jsonl, caisse.csv, "
        "service_client.csv) with truth.csv, the true person behind every record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        size = parser.add_mutually_exclusive_group(required=True)
        size.add_argument("--persons", type=int, help="number of true persons")
        size.add_argument("--records", type=int, help="about this many records (≈ 2.2 per person)")
        parser.add_argument("--out", required=True, type=Path, help="output directory")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--sources",
            default=",".join(SOURCE_CODES),
            help=f"comma-separated subset of {','.join(SOURCE_CODES)}",
        )
        parser.add_argument(
            "--bad-rows", type=int, default=0, help="malformed lines to inject (for import tests)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = tuple(code.strip() for code in options["sources"].split(",") if code.strip())
        try:
            if options["records"] is not None:
                spec = DatasetSpec.for_records(
                    options["records"],
                    seed=options["seed"],
                    sources=sources,
                    bad_rows=options["bad_rows"],
                )
            else:
                spec = DatasetSpec(
                    persons=options["persons"],
                    seed=options["seed"],
                    sources=sources,
                    bad_rows=options["bad_rows"],
                )
        except ValueError as error:
            raise CommandError(str(error)) from error
        summary = generate_dataset(spec, options["out"])
        self.stdout.write(summary.describe())
