"""Search before create: which golden customers an unsaved record would match."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu import hooks
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import NOT_AUTHENTICATED, REFUSED
from rcu.apis.selectors import customers_matching_for_user
from rcu.apis.serializers import MatchHitSerializer, MatchRequestSerializer


class MatchSearchApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Search before create",
        description="Scores an unsaved record against the base and returns the golden "
        "customers it would match, best first, each with its explanation. Nothing is "
        "stored. Only customers the caller may see are returned, and at or above the "
        "review threshold.",
        request=MatchRequestSerializer,
        responses={200: MatchHitSerializer(many=True), 400: REFUSED, 401: NOT_AUTHENTICATED},
        examples=[
            OpenApiExample(
                "Caller on the phone",
                request_only=True,
                value={"first_name": "Hélène", "last_name": "Lefèvre",
                       "phone": "06 12 34 56 78", "postcode": "75016"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = MatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        limit = values.pop("limit")
        hits = customers_matching_for_user(user=request.user, values=values, limit=limit)
        hooks.personal_data_read(
            user=request.user, customers=[h["customer"] for h in hits], purpose="api_match_search"
        )
        return Response(MatchHitSerializer(hits, many=True).data)
