"""How API callers authenticate: RCU tokens, or a browser session.

Refusals are raised as DRF exceptions, so the API's error handler shapes them.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)

from rcu.models import ApiToken, SourceSystem, api_token_digest
from rcu.security.otp import two_factor_pending
from rcu.selectors.tokens import api_token_by_key_digest
from rcu.services.tokens import api_token_touch

# What a source-bound token may call: sending (or deleting) records and files of its own source.
SOURCE_BOUND_URL_NAMES = frozenset(
    {"api-v1-source-records", "api-v1-source-record", "api-v1-source-imports"}
)


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`): an unexpired, unrevoked ApiToken."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        token = api_token_by_key_digest(api_token_digest(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        status = token.status_at(now)
        if status == ApiToken.Status.REVOKED:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if status == ApiToken.Status.EXPIRED:
            raise exceptions.AuthenticationFailed(
                _("This token expired on %(date)s.") % {"date": token.expires_at.isoformat()}
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user is disabled."))
        if token.source is not None:
            self._check_source_scope(request, token.source)
        api_token_touch(token=token, now=now)
        return token.user, token

    @staticmethod
    def _check_source_scope(request, source: SourceSystem) -> None:
        """A source-bound token reaches the ingest endpoints of its source, nothing else."""
        match = request._request.resolver_match
        if (
            match is None
            or match.url_name not in SOURCE_BOUND_URL_NAMES
            or match.kwargs.get("code") != source.code
        ):
            raise exceptions.PermissionDenied(
                _("This token may only send records and files to the source %(code)s.")
                % {"code": source.code}
            )

    def authenticate_header(self, request) -> str:
        return "Token"


class VerifiedSessionAuthentication(SessionAuthentication):
    """A browser session, once two-factor verification is done where it is required."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and two_factor_pending(request._request.user):
            raise exceptions.AuthenticationFailed(
                _("Two-factor verification is required: sign in again in the web interface.")
            )
        return result


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Both schemes keep the names the schema always used."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "RCU token: `Token <key>` (or `Bearer <key>`). Tokens expire; "
            "a token bound to a source may only send records and files to it.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = VerifiedSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
