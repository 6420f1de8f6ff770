"""/api/v1/gdpr/requests/{id}/restriction/: restrict a restriction request's scope, or lift it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.restriction import (
    RestrictionRequestRefused,
    request_restrict,
    request_restriction_lift,
)
from rcu.apis.errors import ApiConflict
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import CONFLICT, NOT_ALLOWED, NOT_AUTHENTICATED, NOT_FOUND, REFUSED


class RestrictionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["restrict", "lift"], help_text="restrict or lift")
    reason = serializers.CharField(max_length=500, help_text="Why (kept with the restriction; never sent).")


class RequestRestrictionApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Restrict a restriction request's customers, or lift it (GDPR art. 18)",
        description="`restrict`: every golden customer of the confirmed scope is restricted "
        "(kept, but left out of exports, marketing subscribers and merges; a "
        "`customer.restricted` event each); the request must be open. `lift`: the restriction "
        "ends (`customer.restriction_lifted`), also once the request is closed. 409 for another "
        "kind of request or an empty scope. Only the DPO.",
        request=RestrictionSerializer,
        responses={
            200: inline_serializer("RestrictionOutcome", {
                "changed": serializers.ListField(child=serializers.UUIDField()),
                "unchanged": serializers.ListField(child=serializers.UUIDField()),
            }),
            400: REFUSED, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 404: NOT_FOUND, 409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        body = RestrictionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service = request_restrict if body.validated_data["action"] == "restrict" else request_restriction_lift
        try:
            outcome = service(request=subject_request, reason=body.validated_data["reason"],
                              acting_user=request.user)
        except RestrictionRequestRefused as exc:
            raise ApiConflict(str(exc)) from None
        return Response({"changed": outcome.changed, "unchanged": outcome.unchanged})
