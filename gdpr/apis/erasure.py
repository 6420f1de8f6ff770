"""/api/v1/gdpr/requests/{id}/erasure/…: an erasure request's preview, legal holds, four
eyes, execution, acknowledgements and receipt.

Reading and deciding an approval is open to the DPO and the admins (`gdpr.approve_erasure`);
everything else to the DPO alone. A refusal of the workflow is the API's one error
shape: 409 when the request's state forbids it, 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from gdpr.apis.requests import REQUEST_ID, STATE_CONFLICT, RequestApi
from gdpr.models import ErasureAcknowledgement, ErasureApproval, RequestLegalHold
from gdpr.selectors.erasure import erasure_receipt, erasure_request_get_for_user, erasure_state
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.erasure_requests import (
    request_erasure_acknowledge,
    request_erasure_approve,
    request_erasure_ask,
    request_erasure_execute,
    request_erasure_preview,
    request_erasure_refuse,
    request_legal_hold_add,
    request_legal_hold_remove,
)
from gdpr.services.requests import RequestConflict
from rcu.apis.errors import ApiConflict
from rcu.apis.schema import REFUSED
from rcu.attributes import CANONICAL_NAMES

HOLD_ID = OpenApiParameter("hold_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                           description="The legal hold's id.")
ACK_ID = OpenApiParameter("ack_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                          description="The acknowledgement's id (a source or subscriber told).")


class ErasureHoldSerializer(serializers.ModelSerializer):
    # A DRF field named like a `Field` attribute (`source`): the API's word for it.
    source = serializers.CharField(source="source.code")  # type: ignore[assignment]
    created_by = serializers.CharField(source="created_by.get_username")

    class Meta:
        model = RequestLegalHold
        fields = ["id", "source", "attributes", "legal_basis", "reason", "keep_until",
                  "created_by", "created_at"]


class ErasureHoldInputSerializer(serializers.Serializer):
    source = serializers.CharField(  # type: ignore[assignment]  # a DRF field named like `Field.source`
        max_length=50, help_text="The code of the source whose records are kept.")
    attributes = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(CANONICAL_NAMES)), required=False, default=list,
        help_text="Only these attributes are kept; none: the whole records.",
    )
    legal_basis = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=2000)
    keep_until = serializers.DateField()


class ErasureApprovalSerializer(serializers.ModelSerializer):
    asked_by = serializers.CharField(source="asked_by.get_username")
    decided_by = serializers.CharField(source="decided_by.get_username", allow_null=True, default=None)
    executed_by = serializers.CharField(source="executed_by.get_username", allow_null=True, default=None)

    class Meta:
        model = ErasureApproval
        fields = ["status", "asked_by", "asked_at", "preview", "decided_by", "decided_at",
                  "refusal_reason", "executed_by", "executed_at", "report", "acknowledged_at"]


class ErasureAcknowledgementSerializer(serializers.ModelSerializer):
    acknowledged_by = serializers.CharField(source="acknowledged_by.get_username", allow_null=True,
                                            default=None)

    class Meta:
        model = ErasureAcknowledgement
        fields = ["id", "kind", "name", "acknowledged_at", "acknowledged_by", "note"]


class ErasureCountSerializer(serializers.Serializer):
    store = serializers.CharField()
    action = serializers.CharField()
    count = serializers.IntegerField()


class ErasureSourceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    held = serializers.BooleanField(help_text="Its records are kept under a legal hold: not told.")


class ErasurePreviewSerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    records = serializers.IntegerField()
    counts = ErasureCountSerializer(many=True)
    sources = ErasureSourceSerializer(many=True)


class ErasureSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.CharField()
    preview = ErasurePreviewSerializer(allow_null=True, help_text="What executing would erase now "
                                "(null once executed, or with nothing in scope).")
    legal_holds = ErasureHoldSerializer(many=True)
    approval = ErasureApprovalSerializer(allow_null=True)
    refused = ErasureApprovalSerializer(many=True)
    acknowledgements = ErasureAcknowledgementSerializer(many=True)


class ErasureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ErasureNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


def _erasure(*, user: Any, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    request = erasure_request_get_for_user(user=user, pk=pk)
    state = erasure_state(request)
    preview = None
    if not state.executed and request.is_open:
        try:
            preview = request_erasure_preview(request=request, acting_user=user).to_json()
        except RequestConflict:
            preview = None  # nothing in scope yet
    return Response(ErasureSerializer({
        "request": request.pk, "reference": request.reference, "state": request.state,
        "preview": preview, "legal_holds": state.holds, "approval": state.approval,
        "refused": state.refused, "acknowledgements": state.acknowledgements,
    }).data, status=status_code)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ErasureApi(RequestApi):
    @extend_schema(
        summary="An erasure request's workflow",
        description="The preview (counts per table and file, the sources; nothing is "
        "kept), the legal holds, the approval in force and those refused, the sources and "
        "subscribers to acknowledge. The DPO and the admins (who approve); 404 for a "
        "request of another kind.",
        parameters=[REQUEST_ID], responses={200: ErasureSerializer},
    )
    def get(self, request: Request, id: int) -> Response:
        return _erasure(user=request.user, pk=id)


class ErasureHoldListApi(RequestApi):
    @extend_schema(
        summary="Record a legal hold",
        description="A documented exception: the person's records of `source` (or only "
        "their `attributes`) are kept, on `legal_basis`, for `reason`, until `keep_until`. "
        "409 once the execution was asked for. The DPO only.",
        parameters=[REQUEST_ID], request=ErasureHoldInputSerializer,
        responses={201: ErasureSerializer, 400: REFUSED, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(ErasureHoldInputSerializer, request.data)
        request_legal_hold_add(request=subject_request, source_code=data["source"],
                               attributes=data["attributes"], legal_basis=data["legal_basis"],
                               reason=data["reason"], keep_until=data["keep_until"],
                               acting_user=request.user)
        return _erasure(user=request.user, pk=id, status_code=status.HTTP_201_CREATED)


class ErasureHoldApi(RequestApi):
    @extend_schema(summary="Remove a legal hold", description="409 once the execution was "
                   "asked for. The DPO only.", parameters=[REQUEST_ID, HOLD_ID],
                   responses={200: ErasureSerializer, 400: REFUSED, 409: STATE_CONFLICT})
    def delete(self, request: Request, id: int, hold_id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        request_legal_hold_remove(request=subject_request, hold_id=hold_id, acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureAskApi(RequestApi):
    @extend_schema(
        summary="Ask for the execution",
        description="The preview as it stands (scope and legal holds) is what a second "
        "person approves. 409 without a verified identity, a confirmed scope, or when "
        "already asked. The DPO only.",
        parameters=[REQUEST_ID], request=None,
        responses={200: ErasureSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        request_erasure_ask(request=subject_request, acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureApproveApi(RequestApi):
    @extend_schema(
        summary="Approve the execution (four eyes)",
        description="By a DPO or an admin other than who asked: 409 for who asked, or when "
        "nothing waits for approval.",
        parameters=[REQUEST_ID], request=None,
        responses={200: ErasureSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = erasure_request_get_for_user(user=request.user, pk=id)
        request_erasure_approve(request=subject_request, acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureRefuseApi(RequestApi):
    @extend_schema(
        summary="Refuse the execution",
        description="With a reason, by a DPO or an admin (who asked may withdraw it this "
        "way); the DPO may ask again.",
        parameters=[REQUEST_ID], request=ErasureReasonSerializer,
        responses={200: ErasureSerializer, 400: REFUSED, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = erasure_request_get_for_user(user=request.user, pk=id)
        data = _valid(ErasureReasonSerializer, request.data)
        request_erasure_refuse(request=subject_request, reason=data["reason"], acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureExecuteApi(RequestApi):
    @extend_schema(
        summary="Execute the approved erasure",
        description="Erases the person as approved (legal holds kept), tells sources and "
        "subscribers (`customer.erased`, ids only) and moves the request to \"waiting for "
        "sources\" until each acknowledged. 409 before approval, after execution, or when "
        "the scope changed since. The DPO only.",
        parameters=[REQUEST_ID], request=None,
        responses={200: ErasureSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        request_erasure_execute(request=subject_request, acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureAcknowledgeApi(RequestApi):
    @extend_schema(
        summary="Record a source's acknowledgement",
        description="A source without a subscription (or a subscriber that cannot) is "
        "acknowledged by the DPO, with a note saying how (or why not). The request closes "
        "once every source and subscriber acknowledged.",
        parameters=[REQUEST_ID, ACK_ID], request=ErasureNoteSerializer,
        responses={200: ErasureSerializer, 400: REFUSED, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int, ack_id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(ErasureNoteSerializer, request.data)
        request_erasure_acknowledge(request=subject_request, acknowledgement_id=ack_id,
                                    note=data["note"], acting_user=request.user)
        return _erasure(user=request.user, pk=id)


class ErasureReceiptApi(RequestApi):
    @extend_schema(
        summary="The erasure's receipt (JSON)",
        description="What was done, with no identifier of the person: counts per table and "
        "file, legal holds, sources and acknowledgements with dates and notes, who asked, "
        "approved and executed, the request. 409 before execution. The DPO only.",
        parameters=[REQUEST_ID], responses={200: OpenApiTypes.OBJECT, 409: STATE_CONFLICT},
    )
    def get(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        try:
            return Response(erasure_receipt(subject_request))
        except LookupError:
            raise ApiConflict("The erasure has not been executed: no receipt yet.") from None
