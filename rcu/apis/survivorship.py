"""/api/v1/survivorship/: the survivorship rules per attribute (read: reading roles;
write: the admin role), the same service as the administration page."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.schema import NOT_ALLOWED, NOT_AUTHENTICATED, REFUSED
from rcu.models import SurvivorshipSettings
from rcu.services.survivorship import survivorship_rules_save
from rcu.survivorship import CONFIGURABLE_RULES, RulesRefused

VIEW = "rcu.view_survivorshipsettings"
CHANGE = "rcu.change_survivorshipsettings"


def _body() -> dict:
    row = SurvivorshipSettings.objects.filter(pk=1).first()
    return {
        "version": row.version if row else 0,
        "attributes": row.rules if row else {},
        "rules": list(CONFIGURABLE_RULES),
        "default": ["source_priority", "most_recent", "most_complete"],
    }


class SurvivorshipApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        summary="Survivorship rules",
        description="Each attribute's ordered rules (\"address\" for the address block); an "
        "attribute not listed follows `default`. `version` rises at every change.",
        responses={200: OpenApiTypes.OBJECT, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        return Response(_body())

    @extend_schema(
        summary="Replace the survivorship rules",
        description="`{\"version\": the version read, \"attributes\": {\"email\": [{\"rule\": "
        "\"source_priority\", \"sources\": [\"eshop\", \"crm\"]}, {\"rule\": \"most_recent\"}]}}`. "
        "A stale version is refused (400): read again. Customers are recomputed in the "
        "background; each value chosen by these rules records their version.",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED},
    )
    def put(self, request: Request) -> Response:
        if not request.user.has_perm(CHANGE):
            raise PermissionDenied
        data = request.data if isinstance(request.data, dict) else {}
        current = _body()["version"]
        if "version" in data and data["version"] != current:
            raise serializers.ValidationError(
                {"version": [f"the rules changed meanwhile (now version {current}): read them again"]}
            )
        try:
            survivorship_rules_save(data=dict(data), acting_user=request.user)
        except RulesRefused as exc:
            raise serializers.ValidationError({"attributes": exc.errors}) from exc
        return Response(_body())
