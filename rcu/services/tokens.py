"""API tokens: created with an expiry, shown once, revoked; every step in history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rcu.models import AdminEvent, ApiToken, SourceSystem, api_token_digest
from rcu.selectors.sources import INGEST, user_has_source_perm
from rcu.services.administration import AdminChange, admin_event_record
from rcu.services.changes import Actor, actor_user, change_save

KEY_PREFIX = "rcu_"


class TokenRefused(ValueError):
    """A token that cannot be created as asked: which field, and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    key: str  # the only time the key exists in clear


def api_token_default_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.RCU_API_TOKEN_DEFAULT_DAYS)


@transaction.atomic
def api_token_create(
    *,
    user,
    expires_at: datetime | None = None,
    source: SourceSystem | None = None,
    name: str = "",
    acting_user: Actor,
) -> CreatedToken:
    now = timezone.now()
    expires_at = expires_at or api_token_default_expiry()
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    if expires_at <= now:
        raise TokenRefused("expires_at", "must be in the future")
    longest = timedelta(days=settings.RCU_API_TOKEN_MAX_DAYS)
    if expires_at > now + longest:
        raise TokenRefused(
            "expires_at", f"at most {settings.RCU_API_TOKEN_MAX_DAYS} days from now"
        )
    if not user.is_active:
        raise TokenRefused("user", "this account is disabled")
    if source is not None and not user_has_source_perm(user, INGEST, source):
        raise TokenRefused("source", "this user may not send data into this source")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, key_digest=api_token_digest(key), key_prefix=key[:12], user=user,
        created_by=actor_user(acting_user), source=source, created_at=now, expires_at=expires_at,
    )
    change_save(token, acting_user=acting_user, reason="created")
    admin_event_record(
        action=AdminEvent.Action.TOKEN_CREATED, acting_user=acting_user, target_user=user,
        source=source, token=token, change=AdminChange(note=f"{token.key_prefix}… {name}".strip()),
    )
    return CreatedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user: Actor) -> ApiToken:
    """Revoking twice changes nothing: the first revocation stays on record."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor_user(acting_user)
        change_save(token, acting_user=acting_user, reason="revoked",
                    update_fields=["revoked_at", "revoked_by"])
        admin_event_record(
            action=AdminEvent.Action.TOKEN_REVOKED, acting_user=acting_user,
            target_user=token.user, token=token, change=AdminChange(note=f"{token.key_prefix}…"),
        )
    return token


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Note a use, at most once a minute, without a history row (a use is no change)."""
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
