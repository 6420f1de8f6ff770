"""API throttling: per user (per address when anonymous), ingest on its own rate.

Rates come from settings.RCU_API_THROTTLE_RATES at request time (DRF reads its own
rates once, at import), so tests and benchmarks can change them. Past the rate DRF
raises `Throttled`: a 429 with Retry-After.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from rcu.apis.authentication import SOURCE_BOUND_URL_NAMES


class _SettingsRate:
    scope: str | None  # DRF's, set by the throttle class this is mixed into

    def get_rate(self) -> str | None:
        return settings.RCU_API_THROTTLE_RATES.get(self.scope) if self.scope else None


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Systems sending records (`sources/{code}/records/`, `…/imports/`) count against
    the "ingest" rate, kept apart from people's reads."""

    def allow_request(self, request, view) -> bool:
        match = request._request.resolver_match
        self.scope = (
            "ingest" if match is not None and match.url_name in SOURCE_BOUND_URL_NAMES else "user"
        )
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
