"""Source systems: list, detail, and sending records or files into one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from rcu.apis.parsers import RecordJSONParser
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.apis.selectors import source_ids_ingestable_by, sources_list
from rcu.apis.serializers import (
    HeldOutcomeSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    IngestOutcomeSerializer,
    RecordDeletedSerializer,
    SourceSerializer,
)
from rcu.models import SourceRecord
from rcu.selectors.sources import INGEST, source_get_for_user, user_has_source_perm
from rcu.selectors.subscriptions import record_cross_reference
from rcu.services.imports import import_job_submit
from rcu.services.ingestion import RecordRefused, record_ingest
from rcu.services.source_deletions import records_delete_at_source

SOURCE_CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Source code, e.g. `crm`."
)


@extend_schema_view(
    get=extend_schema(
        summary="Visible source systems",
        description="Sources the caller may see (a role, or their departments' sources), "
        "with their department, trust rank and field mappings.",
        responses={200: SourceSerializer(many=True), 401: NOT_AUTHENTICATED},
    )
)
class SourceListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = SourceSerializer
    filter_backends = ()

    def get_queryset(self):
        return sources_list(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "ingestable_source_ids": source_ids_ingestable_by(self.request.user),
        }


class SourceDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One source system",
        parameters=[SOURCE_CODE],
        responses={200: SourceSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, code: str) -> Response:
        source = source_get_for_user(user=request.user, code=code)
        ingestable = {source.pk} if user_has_source_perm(request.user, INGEST, source) else set()
        serializer = SourceSerializer(source, context={"ingestable_source_ids": ingestable})
        return Response(serializer.data)


def _refusal(field: str, reason: str) -> ValidationError:
    """A 400 naming the field at fault (the whole body when `field` is empty)."""
    return ValidationError({field or api_settings.NON_FIELD_ERRORS_KEY: [reason]}, code="invalid")


class SourceRecordIngestApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [RecordJSONParser]

    @extend_schema(
        summary="Send one record",
        description="The body is the record as the source knows it, with the same field "
        "names as its files. It is mapped and normalised like a file row, then stored by "
        "(source, external id): sending it again updates it, or changes nothing if it is "
        "identical. Needs the right to send data into this source. Values beyond the "
        "documented limits (docs/limits.md: lengths, control characters, NaN, nesting, "
        "64 KiB) are refused with the field and the reason; nothing is cut.",
        parameters=[SOURCE_CODE],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: OpenApiResponse(IngestOutcomeSerializer, description="A new record."),
            202: OpenApiResponse(
                HeldOutcomeSerializer, description="Not stored: the record carries an identifier "
                "of an erased person and is held in quarantine until the DPO releases or "
                "discards it (docs/erasure.md).",
            ),
            200: OpenApiResponse(
                IngestOutcomeSerializer, description="A known record, updated or unchanged."
            ),
            400: REFUSED,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "CRM record",
                request_only=True,
                value={
                    "id": "CRM-1042", "civility": "Mme", "first_name": "Hélène",
                    "last_name": "Lefèvre", "email": "Helene.Lefevre@Orange.fr",
                    "phone": "01 42 11 22 33", "postcode": "75016", "city": "Paris",
                    "updated": "2024-05-03 10:00",
                },
            ),
            OpenApiExample(
                "Stored",
                response_only=True,
                status_codes=["201"],
                value={
                    "status": "created", "source": "crm", "external_id": "CRM-1042",
                    "record_id": 7, "customer_id": "0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
                    "quality_flags": [],
                    "attributes": {
                        "civility": "MME", "first_name": "Hélène", "last_name": "Lefèvre",
                        "email": "helene.lefevre@orange.fr", "phone": "+33142112233",
                        "postcode": "75016", "city": "Paris",
                    },
                },
            ),
            OpenApiExample(
                "Missing external id",
                response_only=True,
                status_codes=["400"],
                value={"detail": "id: missing external id", "code": "invalid",
                       "errors": [{"field": "id", "reason": "missing external id"}]},
            ),
        ],
    )
    def post(self, request: Request, code: str) -> Response:
        source = source_get_for_user(user=request.user, code=code, perm=INGEST)
        payload = request.data
        if not isinstance(payload, dict):
            raise _refusal("", "the body must be a JSON object")
        try:
            outcome = record_ingest(source=source, payload=payload, acting_user=request.user)
        except RecordRefused as exc:
            raise _refusal(exc.field, exc.reason) from exc
        if outcome.status == "held":
            return Response(HeldOutcomeSerializer({"status": "held", "source": source.code,
                                                   "external_id": outcome.external_id}).data,
                            status=status.HTTP_202_ACCEPTED)
        return Response(
            IngestOutcomeSerializer(outcome).data,
            status=status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK,
        )


class SourceImportSubmitApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a file",
        description="Uploads a CSV or JSON Lines file for this source and queues its import. "
        "Follow the job at `/api/v1/imports/{id}/`. Needs the right to send data into "
        "this source.",
        parameters=[SOURCE_CODE],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: OpenApiResponse(ImportJobSerializer, description="The job, queued."),
            400: REFUSED,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, code: str) -> Response:
        source = source_get_for_user(user=request.user, code=code, perm=INGEST)
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        job = import_job_submit(
            source=source, upload=upload.validated_data["file"], acting_user=request.user,
            snapshot=upload.validated_data["snapshot"],
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class _RecordRefSerializer(serializers.Serializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField()  # type: ignore[assignment]
    external_id = serializers.CharField()


class CrossReferenceSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    records = _RecordRefSerializer(many=True)


class SourceRecordDeleteApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="The customer a source's record belongs to",
        description="The cross-reference a source needs to converge: the golden customer's "
        "public id (the survivor, after a merge) and the records it holds, in the sources "
        "you may see. The external id is percent-encoded in the path.",
        parameters=[
            SOURCE_CODE,
            OpenApiParameter("external_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="The id the source gave the record, percent-encoded."),
        ],
        responses={200: CrossReferenceSerializer, 401: NOT_AUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request: Request, code: str, external_id: str) -> Response:
        source = source_get_for_user(user=request.user, code=code)
        found = record_cross_reference(user=request.user, source=source, external_id=external_id)
        if found is None:
            raise NotFound(f"source {source.code!r} has sent no record {external_id!r}")
        return Response(CrossReferenceSerializer({
            "customer_id": found.customer.public_id,
            "records": [{"source": s, "external_id": e} for s, e in found.records],
        }).data)

    @extend_schema(
        summary="The source deleted a record",
        description="The source no longer has this customer. RCU keeps the record and its "
        "history, flags it deleted at the source, and leaves it out of golden values and "
        "matching; sending the record again restores it. Saying it twice changes nothing. "
        "The external id is percent-encoded in the path. Needs the right to send data into "
        "this source.",
        parameters=[
            SOURCE_CODE,
            OpenApiParameter(
                "external_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                description="The id the source gave the record, percent-encoded.",
            ),
        ],
        responses={
            200: RecordDeletedSerializer,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def delete(self, request: Request, code: str, external_id: str) -> Response:
        source = source_get_for_user(user=request.user, code=code, perm=INGEST)
        result = records_delete_at_source(
            source=source, external_ids=[external_id], acting_user=request.user,
            reason="deleted at source (API)",
        )
        if external_id in result.unknown:
            raise NotFound(f"source {source.code!r} has sent no record {external_id!r}")
        record = SourceRecord.objects.select_related("customer").get(
            pk=result.record_ids[external_id]
        )
        body = {
            "status": "deleted" if result.deleted else "already_deleted",
            "source": source.code,
            "external_id": record.external_id,
            "record_id": record.pk,
            "customer_id": record.customer.public_id if record.customer else None,
            "deleted_at_source": record.deleted_at_source,
        }
        return Response(RecordDeletedSerializer(body).data)
