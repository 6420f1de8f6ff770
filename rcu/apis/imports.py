"""Import jobs: list, detail and cancel (submitting a file is under its source)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.errors import ApiConflict
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, CONFLICT, NOT_ALLOWED, NOT_AUTHENTICATED, NOT_FOUND
from rcu.apis.selectors import import_job_list
from rcu.apis.serializers import ImportJobSerializer
from rcu.models import ImportJob
from rcu.selectors.imports import import_job_get_for_user
from rcu.services.imports import ImportJobFinished, import_job_cancel

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


class ImportJobAlreadyEnded(ApiConflict):
    default_detail = "The import job has already ended."


class ImportJobCancelApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Cancel an import job",
        description="Admins only. A pending or interrupted job ends at once; a running "
        "one stops at its next batch boundary (the batches already committed stay). "
        "409 when the job has already ended.",
        request=None,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            200: ImportJobSerializer,
            401: NOT_AUTHENTICATED,
            403: NOT_ALLOWED,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, id: int) -> Response:
        job = import_job_get_for_user(user=request.user, pk=id, cancel=True)
        try:
            job = import_job_cancel(job=job, acting_user=request.user)
        except ImportJobFinished as exc:
            raise ImportJobAlreadyEnded from exc
        return Response(ImportJobSerializer(job).data)
