"""Source records: list and detail. Reading them is reading personal data: it is logged."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu import hooks
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, NOT_AUTHENTICATED, NOT_FOUND
from rcu.apis.selectors import record_list
from rcu.apis.serializers import RecordSerializer
from rcu.selectors.records import record_get_for_user

RECORD_FILTERS = [
    OpenApiParameter("source", OpenApiTypes.STR, description="Source code, e.g. `crm`."),
    OpenApiParameter("external_id", OpenApiTypes.STR, description="The id the source gave it."),
    OpenApiParameter(
        "customer", OpenApiTypes.UUID,
        description="Records linked to this customer (a retired id resolves to its survivor).",
    ),
    OpenApiParameter(
        "flag", OpenApiTypes.STR,
        description='Records carrying this quality flag, e.g. "email.invalid".',
    ),
]


def _customers_of(records) -> list:
    seen: dict[int, object] = {}
    for record in records:
        if record.customer_id is not None:
            seen.setdefault(record.customer_id, record.customer)
    return list(seen.values())


class RecordListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = RecordSerializer
    filter_backends = ()  # filtering runs in the selector

    def get_queryset(self):
        return record_list(user=self.request.user, filters=self.request.query_params)

    @extend_schema(
        summary="Visible source records",
        parameters=RECORD_FILTERS,
        responses={200: RecordSerializer(many=True), 400: BAD_FILTER, 401: NOT_AUTHENTICATED},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        hooks.personal_data_read(
            user=request.user, customers=_customers_of(page), purpose="api_record_list"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RecordDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One source record",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: RecordSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, id: int) -> Response:
        record = record_get_for_user(user=request.user, pk=id)
        hooks.personal_data_read(
            user=request.user, customers=_customers_of([record]), purpose="api_record"
        )
        return Response(RecordSerializer(record).data)
