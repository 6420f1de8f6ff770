"""/api/v1/gdpr/requests/{id}/execute/ and …/pack/: the access or portability pack."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.selectors.packs import PackExpired, PackNotBuilt, request_pack_get
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.packs import (
    PackRefused,
    pack_download_log,
    pack_read,
    request_execute,
)
from rcu.apis.errors import ApiConflict, ApiGone
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import CONFLICT
from rcu.apis.serializers import ErrorSerializer

GONE = OpenApiResponse(ErrorSerializer, description="The pack expired and was deleted.")


class RequestExecuteApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Execute an access or portability request",
        description="Builds the pack of the confirmed scope: 200 when built at once, 202 "
        "when a large scope is queued (poll `…/pack/`). 409 for other kinds of request or "
        "an empty scope. Only the DPO; building is logged in the access log.",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
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
