"""Two-factor sign-in (TOTP): who must use it, and the gate that holds them to it.

People of the roles in RCU_OTP_REQUIRED_ROLES (admin and DPO by default), superusers
(as admins) and anybody who enrolled a device of their own are sent, after their password, to enter a code (or to enrol a device
first); until then every page but those steps redirects there. The API turns such
a session away too (`VerifiedSessionAuthentication`); API tokens are for systems
and are not subject to it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

ROLE_PREFIX = "role:"


def two_factor_required(user) -> bool:
    """Superusers count as admins: required whenever the admin role is."""
    if not user.is_authenticated:
        return False
    roles = {name.strip() for name in settings.RCU_OTP_REQUIRED_ROLES if name.strip()}
    if not roles:
        return False
    if user.is_superuser and "admin" in roles:
        return True
    return user.groups.filter(name__in={f"{ROLE_PREFIX}{name}" for name in roles}).exists()


def two_factor_pending(user) -> bool:
    """Signed in with a password only, where a second factor is required: by the
    person's role, or because they turned it on for themselves."""
    if not user.is_authenticated or user.is_verified():
        return False
    return two_factor_required(user) or user_has_device(user)


class RequireTwoFactorMiddleware:
    # Pages an unverified person may still open: the two-factor steps, signing out,
    # the language switch, static files; the API answers for itself (401/403).
    OPEN_PREFIXES = ("/static/", "/api/", "/i18n/")
    OPEN_URL_NAMES = ("two_factor_verify", "two_factor_setup", "logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not self._is_open(request.path)
            and two_factor_pending(user)
        ):
            target = "two_factor_verify" if user_has_device(user) else "two_factor_setup"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    def _is_open(self, path: str) -> bool:
        if path.startswith(self.OPEN_PREFIXES):
            return True
        return path in {reverse(name) for name in self.OPEN_URL_NAMES}
