"""/api/v1/gdpr/requests/{id}/execute/ and …/pack/: the access or portability pack."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.models import RequestKind
from gdpr.selectors.packs import PackExpired, PackNotBuilt, request_pack_get
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.erasure_requests import request_erasure_execute
from gdpr.services.packs import (
    PackRefused,
    pack_download_log,
    pack_read,
    request_execute,
)
from gdpr.services.rectification import RectificationRefused, request_rectify
from gdpr.services.requests import RequestConflict
from rcu.apis.errors import ApiConflict, ApiGone
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import CONFLICT, REFUSED
from rcu.apis.serializers import ErrorSerializer

GONE = OpenApiResponse(ErrorSerializer, description="The pack expired and was deleted.")


class ExecuteSerializer(serializers.Serializer):
    corrections = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=False, max_length=500),
        required=False,
        help_text="A rectification's corrected values: attribute → value (null unpins an "
        "earlier rectification). Address fields are one block.",
    )


class RequestExecuteApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Execute a request",
        description="Access or portability: builds the pack of the confirmed scope, 200 when "
        "built at once, 202 when a large scope is queued (poll `…/pack/`); building is "
        "logged in the access log. Rectification: `corrections` are applied to every golden "
        "customer in scope as values of origin \"rectification, request N\" (they survive "
        "later source updates until the DPO changes them) and leave as `customer.rectified` "
        "events; 200 when done, 400 naming a refused value. 409 for other kinds of request "
        "or an empty scope. Erasure: executes the approved erasure (as `…/erasure/execute/`); 409 "
        "before a second person approved it. Only the DPO.",
        request=ExecuteSerializer,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT, 400: REFUSED,
                   409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        if subject_request.kind == RequestKind.RECTIFICATION:
            return self._rectify(request, subject_request)
        if subject_request.kind == RequestKind.ERASURE:
            try:
                request_erasure_execute(request=subject_request, acting_user=request.user)
            except RequestConflict as exc:
                raise ApiConflict(str(exc)) from None
            subject_request.refresh_from_db()
            return Response({"status": "erased", "state": subject_request.state})
        try:
            outcome = request_execute(request=subject_request, acting_user=request.user)
        except PackRefused as exc:
            raise ApiConflict(str(exc)) from None
        if outcome.pack is None:
            return Response({"status": "queued"}, status=202)
        pack = outcome.pack
        return Response({
            "status": "built", "pack": pack.pk, "kind": pack.kind, "sha256": pack.sha256,
            "size": pack.size, "expires_at": pack.expires_at.isoformat(),
        })

    def _rectify(self, request: Request, subject_request) -> Response:
        body = ExecuteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        corrections = body.validated_data.get("corrections") or {}
        if not corrections:
            raise serializers.ValidationError(
                {"corrections": ["Name at least one attribute and its corrected value."]})
        try:
            outcome = request_rectify(request=subject_request, corrections=corrections,
                                      acting_user=request.user)
        except RectificationRefused as exc:
            if exc.field:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
            raise ApiConflict(str(exc)) from None
        return Response({"status": "rectified", "customers": outcome.customer_public_ids,
                         "attributes": outcome.attributes, "decisions": outcome.decision_ids})


class RequestPackApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Download a request's pack (JSON)",
        description="The pack document, valid against /gdpr/schemas/access_pack.v1.json. "
        "409 before the request was executed, 410 once the pack expired. Only the DPO; "
        "each download is logged in the access log, one row per customer.",
        responses={200: OpenApiTypes.OBJECT, 409: CONFLICT, 410: GONE},
    )
    def get(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        try:
            pack = request_pack_get(request=subject_request)
        except PackNotBuilt:
            raise ApiConflict("The request has not been executed: no pack yet.") from None
        except PackExpired:
            raise ApiGone("The pack expired and was deleted: execute the request again.") from None
        pack_download_log(pack=pack, user=request.user)
        return Response(pack_read(pack))
