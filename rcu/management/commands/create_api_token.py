from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rcu.management.actors import command_actor
from rcu.models import SourceSystem
from rcu.services.tokens import TokenRefused, api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print its key (shown this once). Admins can "
        "also do this in the UI (user menu → API tokens) or through POST /api/v1/tokens/."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user the token acts as")
        parser.add_argument("--days", type=int, help="lifetime (default RCU_API_TOKEN_DEFAULT_DAYS)")
        parser.add_argument("--source", help="bind the token to this source code")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, username: str, days: int | None, source: str | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username}.")
        bound = None
        if source:
            bound = SourceSystem.objects.filter(code=source).first()
            if bound is None:
                raise CommandError(f"No source {source}.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            created = api_token_create(
                user=user, expires_at=expires_at, source=bound, name=name,
                acting_user=command_actor("create_api_token"),
            )
        except TokenRefused as exc:
            raise CommandError(f"{exc.field}: {exc.reason}") from exc
        self.stderr.write(
            f"Token {created.token.key_prefix}… for {username}, expires "
            f"{created.token.expires_at:%Y-%m-%d %H:%M %Z}"
            + (f", bound to source {source}" if source else "")
        )
        self.stdout.write(created.key)
