"""What every decision endpoint shares: who may call it, and how refusals read.

A decision endpoint resolves its object through an access helper (404 when the caller
may not see it, 403 when they see it but may not decide), validates the body, calls
one service, and answers with the ledger entry. The services raise `DecisionConflict`
(the state changed under the caller: 409, nothing written) or `DecisionInvalid` (the
request is wrong: 400 naming the field) or `DecisionForbidden` (403); they become DRF exceptions here, so the API's
one error handler (rcu.apis.errors) shapes them like every other refusal.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from rcu.apis.errors import ApiConflict
from rcu.apis.permissions import API_PERMISSIONS
from stewardship.apis.selectors import decision_for_display
from stewardship.apis.serializers import DecisionSerializer
from stewardship.models import Decision
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid


def decision_response(decision: Decision) -> Response:
    return Response(DecisionSerializer(decision_for_display(decision)).data)


def forbid_deciding() -> PermissionDenied:
    return PermissionDenied(
        _("You may see this but not decide it: only stewards of its departments can.")
    )


def api_exception_of(exc: Exception) -> Exception:
    """The DRF exception a service's refusal is answered with (others pass through)."""
    if isinstance(exc, DecisionConflict):
        return ApiConflict(str(exc))
    if isinstance(exc, DecisionForbidden):
        return PermissionDenied(str(exc))
    if isinstance(exc, DecisionInvalid):
        return ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})
    return exc


class DecisionApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(api_exception_of(exc))
