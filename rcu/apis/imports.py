"""Import jobs: list and detail (submitting a file is under its source)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, NOT_AUTHENTICATED, NOT_FOUND
from rcu.apis.selectors import import_job_list
from rcu.apis.serializers import ImportJobSerializer
from rcu.models import ImportJob
from rcu.selectors.imports import import_job_get_for_user

IMPORT_FILTERS = [
    OpenApiParameter("source", OpenApiTypes.STR, description="Source code, e.g. `crm`."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=ImportJob.Status.values),
]


@extend_schema_view(
    get=extend_schema(
        summary="Visible import jobs",
        description="Jobs of the sources the caller may see, newest first, with their counts.",
        parameters=IMPORT_FILTERS,
        responses={200: ImportJobSerializer(many=True), 400: BAD_FILTER, 401: NOT_AUTHENTICATED},
    )
)
class ImportJobListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = ImportJobSerializer
    filter_backends = ()  # filtering runs in the selector

    def get_queryset(self):
        return import_job_list(user=self.request.user, filters=self.request.query_params)


class ImportJobDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One import job",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ImportJobSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, id: int) -> Response:
        job = import_job_get_for_user(user=request.user, pk=id)
        return Response(ImportJobSerializer(job).data)
