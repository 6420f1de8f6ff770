"""What every decision endpoint shares: who may call it, and how refusals read.

A decision endpoint resolves its object through an access helper (404 when the caller
may not see it, 403 when they see it but may not decide), validates the body, calls
one service, and answers with the ledger entry. The services raise `DecisionConflict`
(the state changed under the caller: 409, nothing written) or `DecisionInvalid` (the
request is wrong: 400 naming the field); the body's own errors read the same way.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from rcu.apis.permissions import API_PERMISSIONS
from stewardship.apis.selectors import decision_for_display
from stewardship.apis.serializers import DecisionSerializer
from stewardship.models import Decision
from stewardship.services.errors import DecisionConflict, DecisionInvalid


def _first_error(detail: Any, field: str = "") -> tuple[str, str]:
    """The first message of a DRF error tree and the dotted path of its field
    (`choices.email`, `records.0`; empty for the whole body)."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        name = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
        return _first_error(value, ".".join(part for part in (field, name) if part))
    if isinstance(detail, list):
        return _first_error(detail[0], field)
    return field, str(detail)


def refusal(*, field: str, reason: str) -> Response:
    return Response({"field": field, "reason": reason}, status=status.HTTP_400_BAD_REQUEST)


def decision_response(decision: Decision) -> Response:
    return Response(DecisionSerializer(decision_for_display(decision)).data)


def forbid_deciding() -> PermissionDenied:
    return PermissionDenied(
        _("You may see this but not decide it: only stewards of its departments can.")
    )


class DecisionApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DecisionConflict):
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, DecisionInvalid):
            return refusal(field=exc.field, reason=str(exc))
        if isinstance(exc, ValidationError | ParseError):
            field, reason = _first_error(exc.detail)
            return refusal(field=field, reason=reason)
        return super().handle_exception(exc)
