from __future__ import annotations

from django.db.models import QuerySet

from rcu.models import ApiToken

MANAGE_TOKENS = "rcu.add_apitoken"
VIEW_TOKENS = "rcu.view_apitoken"
REVOKE_TOKENS = "rcu.change_apitoken"


def api_tokens_visible_to(user) -> QuerySet[ApiToken]:
    """Every token for those who manage tokens (the admin role), none for anybody else."""
    if not user.is_authenticated or not user.has_perm(VIEW_TOKENS):
        return ApiToken.objects.none()
    return ApiToken.objects.select_related("user", "created_by", "revoked_by", "source")


def api_token_by_key_digest(digest: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user", "source").filter(key_digest=digest).first()
    )
