"""Session limits: signed out after an idle period, and after an absolute lifetime.

Django's SESSION_COOKIE_AGE alone slides with every saved session, so the sign-in
time and the last activity are kept in the session and checked on every request.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

SIGNED_IN_AT = "rcu_signed_in_at"
LAST_ACTIVITY = "rcu_last_activity"
# The last activity is written at most this often (seconds): not one session write a request.
ACTIVITY_RESOLUTION = 60


def clock() -> float:
    """The time in seconds; tests move it."""
    return time.time()


@receiver(user_logged_in, dispatch_uid="rcu_session_signed_in_at")
def _stamp_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = clock()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_ACTIVITY] = now


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> None:
        session = request.session
        now = clock()
        signed_in_at = session.get(SIGNED_IN_AT)
        last = session.get(LAST_ACTIVITY)
        if signed_in_at is None or last is None:
            # A session from before these limits (or a test's force_login): start counting.
            session[SIGNED_IN_AT] = signed_in_at or now
            session[LAST_ACTIVITY] = now
            return
        if now - signed_in_at > settings.RCU_SESSION_MAX_HOURS * 3600:
            self._sign_out(request, _("Your session has ended: please sign in again."))
        elif now - last > settings.RCU_SESSION_IDLE_MINUTES * 60:
            self._sign_out(
                request, _("You were signed out after %(minutes)d minutes without activity.")
                % {"minutes": settings.RCU_SESSION_IDLE_MINUTES},
            )
        elif now - last >= ACTIVITY_RESOLUTION:
            session[LAST_ACTIVITY] = now

    @staticmethod
    def _sign_out(request: HttpRequest, message: str) -> None:
        logout(request)
        messages.info(request, message)
