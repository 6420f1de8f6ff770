"""The one shape of every 4xx answer of the API, and the one place that builds it.

    {"detail": "…", "code": "invalid", "errors": [{"field": "attributes.email", "reason": "…"}]}

`detail` is a sentence for people; `code` is stable, for programs (`invalid`,
`parse_error`, `not_authenticated`, `authentication_failed`, `permission_denied`,
`not_found`, `method_not_allowed`, `not_acceptable`, `conflict`, `gone`,
`unsupported_media_type`, `throttled`); `errors` lists what is wrong with the request,
field by field (dotted paths for nested fields, list positions as numbers, `null` for
the request as a whole). Only 400s list errors; the others answer `errors: []`.

DRF calls `api_exception_handler` (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]) for
every exception a view raises; views never build an error body themselves: they raise
a DRF exception, or one of `ApiConflict`/`ApiGone`, or return `error_response()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

# The code of each status when the exception does not say better.
STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with the request: `field` is None for the request as a whole."""

    field: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class ApiError:
    status: int
    detail: str
    code: str
    errors: tuple[FieldError, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "detail": self.detail,
            "code": self.code,
            "errors": [error.to_json() for error in self.errors],
        }


class ApiConflict(exceptions.APIException):
    """The state changed under the caller: nothing was written; `detail` says what."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ApiGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This resource is no longer available."
    default_code = "gone"


def field_errors(detail: Any, path: str = "") -> Iterator[FieldError]:
    """Every message of a DRF error tree with the dotted path of its field
    (`choices.email`, `records.0`; None for the request as a whole)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            yield from field_errors(value, ".".join(part for part in (path, name) if part))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield FieldError(path or None, str(item))
        else:
            # A list of nested objects (many=True): each one's errors under its position;
            # an empty dict means that item was fine.
            for index, item in enumerate(detail):
                yield from field_errors(item, ".".join(part for part in (path, str(index)) if part))
    else:
        yield FieldError(path or None, str(detail))


def _code_of(exc: exceptions.APIException, status_code: int) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return STATUS_CODES[400]
    code = getattr(exc, "default_code", None)
    if isinstance(exc.detail, str | exceptions.ErrorDetail):
        code = getattr(exc.detail, "code", None) or code
    if not code or (code in ("error", "invalid") and status_code != 400):
        code = STATUS_CODES.get(status_code, "error")
    return str(code)


def api_error_of(exc: exceptions.APIException) -> ApiError:
    """The documented shape of a DRF exception."""
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError) or status_code == status.HTTP_400_BAD_REQUEST:
        errors = tuple(field_errors(exc.detail)) or (FieldError(None, _("Invalid input.")),)
        first = errors[0]
        detail = f"{first.field}: {first.reason}" if first.field else first.reason
        return ApiError(status_code, detail, _code_of(exc, status_code), errors)
    raw_detail = exc.detail
    text = (
        next((e.reason for e in field_errors(raw_detail)), exc.default_detail)
        if isinstance(raw_detail, dict | list) else raw_detail
    )
    return ApiError(status_code, str(text), _code_of(exc, status_code))


def error_response(error: ApiError, *, headers: dict[str, str] | None = None) -> Response:
    return Response(error.to_json(), status=error.status, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (Http404 and Django's PermissionDenied included), then the shape.

    Headers DRF sets (WWW-Authenticate, Retry-After) are kept; 5xx are left to DRF.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args[:1])
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args[:1])
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and isinstance(exc, exceptions.APIException)
        and 400 <= response.status_code < 500
    ):
        response.data = api_error_of(exc).to_json()
    return response


def api_page_not_found(request: HttpRequest, exception: Exception) -> Any:
    """A URL nothing answers: the API's shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        error = ApiError(404, _("Not found."), STATUS_CODES[404])
        return JsonResponse(error.to_json(), status=404)
    return page_not_found(request, exception)
