"""/api/v1/gdpr/quarantine/…: rows held because they carried an erased person's identifier."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.models import QuarantinedRecord
from gdpr.selectors.quarantine import STATUSES, quarantine_for_user, quarantined_record_get_for_user
from gdpr.services.quarantine import (
    QuarantineConflict,
    quarantined_record_discard,
    quarantined_record_release,
)
from rcu.apis.errors import ApiConflict
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, CONFLICT, FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND


class QuarantinedRecordSerializer(serializers.ModelSerializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    import_job = serializers.IntegerField(source="import_job_id", allow_null=True,
                                          help_text="The import that brought it; null: the ingest API.")
    matched = serializers.ListField(child=serializers.CharField(), help_text=(
        "The kinds of identifier recognised: source_ref, email, phone, name_birth."))
    raw = serializers.DictField(help_text="The payload as sent; emptied once decided.")
    decided_by = serializers.CharField(source="decided_by.get_username", allow_null=True, default=None)

    class Meta:
        model = QuarantinedRecord
        fields = ["id", "source", "external_id", "line", "import_job", "matched", "raw", "received_at",
                  "status", "decided_by", "decided_at", "note"]


class ReleasedSerializer(QuarantinedRecordSerializer):
    customer_id = serializers.UUIDField(allow_null=True, help_text="The golden customer it joined or started.")

    class Meta(QuarantinedRecordSerializer.Meta):
        fields = [*QuarantinedRecordSerializer.Meta.fields, "customer_id"]


class QuarantineDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class QuarantineListApi(ListAPIView):
    permission_classes = API_PERMISSIONS
    serializer_class = QuarantinedRecordSerializer
    filter_backends = ()

    def get_queryset(self):
        status = self.request.query_params.get("status", "held") or "held"
        if status not in STATUSES:
            raise serializers.ValidationError({"status": [f"one of {', '.join(STATUSES)}"]})
        return quarantine_for_user(user=self.request.user, status=status)

    @extend_schema(
        summary="Records held in quarantine",
        description="Incoming records (file import or ingest API) that carried an identifier of "
        "an erased person, held instead of ingested, newest first. Only the DPO.",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(STATUSES),
                                     description="held (the default), released, discarded or all.")],
        responses={200: QuarantinedRecordSerializer(many=True), 400: BAD_FILTER,
                   401: NOT_AUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class QuarantineReleaseApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Release a held record: ingest it",
        description="The DPO lets the person back (a new contract, a new consent): the hashes "
        "the row matched are forgotten and the row is ingested as the ingest API would, "
        "matched at once. The row stays as the trail, its payload emptied. 409 if already "
        "decided or refused by the source's mapping now. Only the DPO.",
        request=QuarantineDecisionSerializer,
        responses={200: ReleasedSerializer, 401: NOT_AUTHENTICATED, 403: FORBIDDEN,
                   404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        held = quarantined_record_get_for_user(user=request.user, pk=pk)
        body = QuarantineDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcome = quarantined_record_release(held=held, acting_user=request.user,
                                                 note=body.validated_data["note"])
        except QuarantineConflict as exc:
            raise ApiConflict(str(exc)) from None
        row = outcome.held
        customer = outcome.ingest.customer
        row.customer_id = customer.public_id if customer else None  # type: ignore[attr-defined]  # for ReleasedSerializer
        return Response(ReleasedSerializer(row).data)


class QuarantineDiscardApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Discard a held record",
        description="The held payload is deleted; the person stays erased. The row stays as the "
        "trail (who, when, which kinds matched). 409 if already decided. Only the DPO.",
        request=QuarantineDecisionSerializer,
        responses={200: QuarantinedRecordSerializer, 401: NOT_AUTHENTICATED, 403: FORBIDDEN,
                   404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        held = quarantined_record_get_for_user(user=request.user, pk=pk)
        body = QuarantineDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            row = quarantined_record_discard(held=held, acting_user=request.user,
                                             note=body.validated_data["note"])
        except QuarantineConflict as exc:
            raise ApiConflict(str(exc)) from None
        return Response(QuarantinedRecordSerializer(row).data)
