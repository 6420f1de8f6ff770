"""File audits of a source: submit a file, list the audits, read a report."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.apis.serializers import (
    ImportAuditQueuedSerializer,
    ImportAuditSerializer,
    ImportAuditSummarySerializer,
    ImportAuditUploadSerializer,
)
from rcu.models import ImportAudit
from rcu.selectors.import_audits import (
    import_audit_get_for_user,
    import_audit_source_for_user,
    import_audits_of_source,
)
from rcu.services.import_audits import import_audit_submit

SOURCE_CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Source code, e.g. `crm`."
)
AUDIT_LIST_LIMIT = 100


class SourceAuditListApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Audits of the source's files",
        description="The latest audits (100 at most), newest first, without their "
        "reports. Needs the right to send data into this source.",
        parameters=[SOURCE_CODE],
        responses={
            200: ImportAuditSummarySerializer(many=True),
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, code: str) -> Response:
        source = import_audit_source_for_user(user=request.user, code=code)
        audits = import_audits_of_source(source)[:AUDIT_LIST_LIMIT]
        return Response(ImportAuditSummarySerializer(audits, many=True).data)

    @extend_schema(
        summary="Audit a file before importing it",
        description="Reads a sample or a whole file as the import would and reports, "
        "writing no record, customer, candidate or history: per column the fill rate, "
        "distinct and most frequent values; per attribute the validity rate by quality "
        "flag and the generic values; the rows the import would reject and why; the "
        "duplicates inside the file; and what the import and its matching run would do "
        "(records linked to an existing customer, sent to review, new customers). A "
        "small file is audited at once (201, the report); a bigger one is queued (202, "
        "`{\"id\", \"status\"}`): read it at `/api/v1/sources/{code}/audits/{id}/`. "
        "Needs the right to send data into this source.",
        parameters=[SOURCE_CODE],
        request={"multipart/form-data": ImportAuditUploadSerializer},
        responses={
            201: OpenApiResponse(ImportAuditSerializer, description="Audited at once."),
            202: OpenApiResponse(ImportAuditQueuedSerializer, description="Queued."),
            400: REFUSED,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        source = import_audit_source_for_user(user=request.user, code=code)
        upload = ImportAuditUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)  # a 400 in the API's one error shape
        audit = import_audit_submit(
            source=source, upload=upload.validated_data["file"], acting_user=request.user
        )
        if audit.is_finished:
            return Response(ImportAuditSerializer(audit).data, status=status.HTTP_201_CREATED)
        return Response(ImportAuditQueuedSerializer(audit).data, status=status.HTTP_202_ACCEPTED)


class SourceAuditDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One audit and its report",
        description="`status` pending or running: come back later; failed: `message` "
        "says why; succeeded: `report`, whose `rejected` counts the rows the import "
        "would reject.",
        parameters=[SOURCE_CODE, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            200: ImportAuditSerializer,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, code: str, id: int) -> Response:
        audit: ImportAudit = import_audit_get_for_user(user=request.user, code=code, pk=id)
        return Response(ImportAuditSerializer(audit).data)
