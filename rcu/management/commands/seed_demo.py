from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from rcu.services.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_TOTP_USERS, demo_seed


class Command(BaseCommand):
    help = (
        "Seed the demo base: the four example sources (CRM, e-shop, store tills, customer "
        "service), a deterministic French customer base with realistic duplicates, and one "
        "user per role. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=5000, help="real persons to generate")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--data-dir", type=Path, default=Path(settings.BASE_DIR) / "var" / "demo")
        parser.add_argument("--force", action="store_true", help="import again even if the base has records")

    def handle(self, *args, persons: int, seed: int, data_dir: Path, force: bool, **options):
        def progress(job):
            if job.is_finished:
                self.stdout.write(
                    f"  {job.source.code:<15} {job.file_name:<20} created {job.created_count}, "
                    f"updated {job.updated_count}, unchanged {job.unchanged_count}, "
                    f"rejected {job.rejected_count}"
                )

        if not force:
            self.stdout.write("Seeding the demo base (skipped if it already holds records)…")
        result = demo_seed(persons=persons, seed=seed, data_dir=data_dir, force=force, progress=progress)
        if not result.seeded:
            self.stdout.write("The base already holds records: kept as it is (use --force to re-import).")
        else:
            self.stdout.write(f"Generated files and their ground truth (truth.csv) are in {data_dir}.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo users (password for all: {DEMO_PASSWORD}):"))
        for username in result.usernames:
            self.stdout.write(f"  {username}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Two-factor sign-in ({', '.join(DEMO_TOTP_USERS)}: their roles require it):"
        ))
        self.stdout.write(f"  authenticator secret: {DEMO_TOTP_SECRET}")
        self.stdout.write(f"  or read the current code with: python manage.py totp_code {DEMO_TOTP_USERS[0]}")
