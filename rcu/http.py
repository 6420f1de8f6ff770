"""Request types the views can name: what our middleware adds to Django's request."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's `HtmxMiddleware` (see settings.MIDDLEWARE),
    which sets `request.htmx`; only for type checking, never instantiated."""

    htmx: HtmxDetails
