from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rcu.management.actors import command_actor
from rcu.services.sources import SourceConfigError, source_configure


class Command(BaseCommand):
    help = "Create or update a source system and its field mapping from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="source configuration JSON file(s)")

    def handle(self, *args, files: list[Path], **options):
        for path in files:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError as exc:
                raise CommandError(f"{path}: no such file") from exc
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
            try:
                source, created = source_configure(data=data, acting_user=command_actor("configure_source"))
            except SourceConfigError as exc:
                lines = "\n".join(f"  - {e}" for e in exc.errors)
                raise CommandError(f"{path}: refused, nothing was changed:\n{lines}") from exc
            verb = "created" if created else "updated"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path}: source {source.code!r} {verb} "
                    f"({source.mappings.count()} mapped attributes, department {source.department.code!r})"
                )
            )
