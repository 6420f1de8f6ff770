"""Request checks that hold for every page, before any view reads its parameters."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class RefuseNulInQueryMiddleware:
    """A NUL in a query string or a path is a 400, for every page at once.

    PostgreSQL refuses NUL in text parameters, so a view that looks a parameter up
    (`/imports/new/?source=%00`) would answer 500; no legitimate link holds one. The
    API is left to its own parameter validation (django-filter forms refuse NUL),
    which answers in the API's error shape.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and (
            "\x00" in request.path
            or any("\x00" in key or any("\x00" in v for v in values)
                   for key, values in request.GET.lists())
        ):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)
