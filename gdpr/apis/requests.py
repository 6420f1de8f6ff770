"""Subject requests over the API: /api/v1/gdpr/requests/… (the DPO only).

Every endpoint resolves the request through `subject_request_get_for_user` (403 for
anyone but the DPO, 404 when absent) before reading its body, calls one service, and
answers with the request. A service's refusal becomes the API's one error shape:
`RequestConflict` a 409 (the request's state or deadline forbids it), `RequestInvalid`
a 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from gdpr.filters import STATE_CHOICES
from gdpr.forms import LANGUAGES
from gdpr.models import (
    LetterKind,
    RequestAttachment,
    RequestKind,
    RequestLetter,
    RequestNote,
    RequestStep,
    SubjectRequest,
)
from gdpr.models.requests import AttachmentKind, RequestChannel, RequestState
from gdpr.selectors.requests import (
    duplicates_among,
    request_detail_for_user,
    request_letter_get_for_user,
    request_urgency,
    subject_request_get_for_user,
    subject_request_list,
    subject_requests_for_user,
)
from gdpr.services.letters import (
    request_letter_draft,
    request_letter_mark_sent,
    request_letter_update,
)
from gdpr.services.requests import (
    RequestConflict,
    RequestInvalid,
    request_attachment_add,
    request_note_add,
    subject_request_create,
    subject_request_extend,
    subject_request_identity_verify,
    subject_request_refuse,
    subject_request_transition,
)
from rcu.apis.errors import ApiConflict
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, CONFLICT
from rcu.normalisation.dates import paris_today

REQUEST_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="The request's id.")
LETTER_ID = OpenApiParameter("letter_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                             description="The letter's id.")
REQUEST_FILTERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=RequestKind.values,
                     description="Only requests of this kind."),
    OpenApiParameter("state", OpenApiTypes.STR, enum=[value for value, _label in STATE_CHOICES],
                     description="One state, or `open` (the default), `closed` (done or "
                     "refused) or `all`."),
    OpenApiParameter("overdue", OpenApiTypes.BOOL,
                     description="true: only open requests past their deadline in force; "
                     "false: all but those."),
]
STATE_CONFLICT = OpenApiResponse(
    CONFLICT.response, description="The request's state forbids it (closed, or not a next "
    "state): nothing was written; `detail` says why.",
)


# --- Output ------------------------------------------------------------------------


class StepSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.get_username", allow_null=True, default=None,
                               help_text="Who took the step; null when RCU did.")

    class Meta:
        model = RequestStep
        fields = ["at", "by", "action", "state_before", "state_after", "detail"]


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username")

    class Meta:
        model = RequestNote
        fields = ["id", "at", "author", "text"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.get_username")

    class Meta:
        model = RequestAttachment
        fields = ["id", "kind", "name", "uploaded_by", "uploaded_at", "deleted_at"]


class LetterSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.get_username")
    sent_by = serializers.CharField(source="sent_by.get_username", allow_null=True, default=None)

    class Meta:
        model = RequestLetter
        fields = ["id", "kind", "language", "subject_line", "body", "created_by", "created_at",
                  "sent_on", "sent_by"]


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.CharField()


class SubjectRequestSerializer(serializers.ModelSerializer):
    """A request as the list shows it."""

    reference = serializers.CharField(help_text="DSR-<year received>-<id>: for letters.")
    deadline = serializers.DateField(help_text="The deadline in force: the extended one once "
                                     "extended.")
    overdue = serializers.SerializerMethodField(help_text="Open and past its deadline in force.")
    possible_duplicates = serializers.SerializerMethodField(
        help_text="Other open requests whose identifiers overlap (same normalised e-mail or "
        "phone, or same name and birth date)."
    )

    class Meta:
        model = SubjectRequest
        fields = [
            "id", "reference", "kind", "state", "channel", "language", "received_on", "due_on",
            "extended_due_on", "deadline", "overdue", "subject", "reply_to", "description",
            "identity_verified_at", "extension_reason", "refusal_reason", "closed_at",
            "possible_duplicates", "created_at",
        ]

    def get_overdue(self, request: SubjectRequest) -> bool:
        return request_urgency(request).overdue

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_possible_duplicates(self, request: SubjectRequest) -> list[dict[str, Any]]:
        found = self.context.get("duplicates")
        others = found.get(request.pk, []) if found is not None else (
            duplicates_among([request]).get(request.pk, [])
        )
        return [
            {"id": o.pk, "reference": o.reference, "kind": o.kind, "state": o.state}
            for o in others
        ]


class SubjectRequestDetailSerializer(SubjectRequestSerializer):
    """One request, with its trail, notes, attachments and letters."""

    identity_verified_by = serializers.CharField(
        source="identity_verified_by.get_username", allow_null=True, default=None
    )
    steps = StepSerializer(many=True, read_only=True)
    notes = NoteSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    letters = LetterSerializer(many=True, read_only=True)

    class Meta(SubjectRequestSerializer.Meta):
        fields = [
            *SubjectRequestSerializer.Meta.fields, "identity_verified_by", "steps", "notes",
            "attachments", "letters",
        ]


# --- Input -------------------------------------------------------------------------


class CustomerNumberSerializer(serializers.Serializer):
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=50, help_text="The source's code, e.g. `crm`."
    )
    external_id = serializers.CharField(max_length=200, help_text="Its customer number.")


class SubjectInputSerializer(serializers.Serializer):
    """The identifiers the person gave: any subset, at least one."""

    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    birth_date = serializers.DateField(required=False, allow_null=True)
    mobile = serializers.CharField(required=False, allow_blank=True, max_length=40)
    civility = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address = serializers.JSONField(
        required=False, help_text="One line, or `{\"address_line1\", \"postcode\", \"city\", …}`."
    )
    address_line1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    address_line2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=10)
    city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    country = serializers.CharField(required=False, allow_blank=True, max_length=60)
    customer_number = CustomerNumberSerializer(
        required=False, help_text="A source's customer number."
    )
    customer_numbers = CustomerNumberSerializer(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        address = attrs.get("address")
        if address is not None and not isinstance(address, str | dict):
            raise ValidationError({"address": ["One line of text, or an object."]})
        given: dict[str, Any] = {}
        for key, value in attrs.items():
            if key == "birth_date" and value:
                given[key] = value.isoformat()
            elif isinstance(value, str):
                if value.strip():
                    given[key] = value.strip()
            elif key == "customer_numbers":
                if value:
                    given[key] = [dict(item) for item in value]
            elif value:
                given[key] = dict(value) if isinstance(value, Mapping) else value
        if not given:
            raise ValidationError("Give at least one identifier of the person.")
        return given


class SubjectRequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    subject = SubjectInputSerializer()
    received_on = serializers.DateField(required=False, help_text="Default: today (Paris).")
    channel = serializers.ChoiceField(choices=RequestChannel.choices, default=RequestChannel.EMAIL)
    reply_to = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")
    language = serializers.ChoiceField(choices=LANGUAGES, default="fr",
                                       help_text="The language of the letters.")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=RequestState.choices,
        help_text="The next state (refusing is `/refuse/`, with a reason: 400 here).",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Kept on the request and written in the letter.")


class IdentitySerializer(serializers.Serializer):
    verified_at = serializers.DateTimeField(required=False, help_text="Default: now.")


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField()


class AttachmentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField()


class LetterDraftSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LetterKind.choices)


class LetterEditSerializer(serializers.Serializer):
    subject_line = serializers.CharField(max_length=200)
    body = serializers.CharField()


class LetterSentSerializer(serializers.Serializer):
    sent_on = serializers.DateField(required=False, help_text="Default: today (Paris).")


# --- Views -------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)  # a 400 in the API's one error shape
    return dict(serializer.validated_data)


def _detail(*, user: Any, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    request = request_detail_for_user(user=user, pk=pk)
    return Response(SubjectRequestDetailSerializer(request).data, status=status_code)


class RequestApi(APIView):
    permission_classes = API_PERMISSIONS
    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestConflict):
            exc = ApiConflict(str(exc))
        elif isinstance(exc, RequestInvalid):
            exc = ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})
        return super().handle_exception(exc)


class SubjectRequestListApi(ListAPIView, RequestApi):
    serializer_class = SubjectRequestSerializer
    filter_backends = ()  # filtering runs in the selector

    def get_queryset(self):
        return subject_request_list(user=self.request.user, filters=self.request.query_params)

    @extend_schema(
        summary="Subject requests",
        description="Open requests by default, soonest deadline in force first. The DPO only.",
        parameters=REQUEST_FILTERS,
        responses={200: SubjectRequestSerializer(many=True), 400: BAD_FILTER},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # every list is paginated (REST_FRAMEWORK's PAGE_SIZE)
        serializer = SubjectRequestSerializer(page, many=True,
                                              context={"duplicates": duplicates_among(page)})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Record a subject request",
        description="The identifiers the person gave (any subset, at least one), the right "
        "exercised and the day it was received (default today): its deadline follows, one "
        "month counted as Regulation 1182/71 counts it. Open requests whose identifiers "
        "overlap are listed in `possible_duplicates`. The DPO only.",
        request=SubjectRequestCreateSerializer,
        responses={201: SubjectRequestDetailSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subject_requests_for_user(user=request.user)  # 403 before reading the body
        data = _valid(SubjectRequestCreateSerializer, request.data)
        created = subject_request_create(
            kind=data["kind"], subject=data["subject"],
            received_on=data.get("received_on") or paris_today(), channel=data["channel"],
            reply_to=data["reply_to"], language=data["language"],
            description=data["description"], acting_user=request.user,
        )
        return _detail(user=request.user, pk=created.pk, status_code=status.HTTP_201_CREATED)


class SubjectRequestDetailApi(RequestApi):
    @extend_schema(summary="One subject request", parameters=[REQUEST_ID],
                   responses={200: SubjectRequestDetailSerializer})
    def get(self, request: Request, id: int) -> Response:
        return _detail(user=request.user, pk=id)


class SubjectRequestTransitionApi(RequestApi):
    @extend_schema(
        summary="Move a request to its next state",
        description="received → identity_to_verify or in_progress; identity_to_verify → "
        "in_progress (once the identity is verified); in_progress ↔ waiting_for_sources; "
        "in_progress or waiting_for_sources → done (closes it, deleting proofs of identity). "
        "Any other move is a 409.",
        parameters=[REQUEST_ID], request=TransitionSerializer,
        responses={200: SubjectRequestDetailSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(TransitionSerializer, request.data)
        subject_request_transition(request=subject_request, state=data["state"],
                                   note=data["note"], acting_user=request.user)
        return _detail(user=request.user, pk=id)


class SubjectRequestIdentityApi(RequestApi):
    @extend_schema(
        summary="Record the person's identity as verified",
        description="Who (the caller) and when; a request received or waiting for it goes "
        "on to in_progress. 409 when already verified or closed.",
        parameters=[REQUEST_ID], request=IdentitySerializer,
        responses={200: SubjectRequestDetailSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(IdentitySerializer, request.data)
        subject_request_identity_verify(request=subject_request, acting_user=request.user,
                                        verified_at=data.get("verified_at"))
        return _detail(user=request.user, pk=id)


class SubjectRequestExtendApi(RequestApi):
    @extend_schema(
        summary="Extend the deadline by two months",
        description="To three months from receipt (GDPR art. 12(3)): once, with a reason, "
        "before the first deadline has passed (409 otherwise). Drafts the letter telling "
        "the person.",
        parameters=[REQUEST_ID], request=ReasonSerializer,
        responses={200: SubjectRequestDetailSerializer, 409: OpenApiResponse(
            CONFLICT.response, description="Already extended, past the first deadline, or "
            "closed: nothing was written.",
        )},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(ReasonSerializer, request.data)
        subject_request_extend(request=subject_request, reason=data["reason"],
                               acting_user=request.user)
        return _detail(user=request.user, pk=id)


class SubjectRequestRefuseApi(RequestApi):
    @extend_schema(
        summary="Refuse a request",
        description="With a reason (GDPR art. 12(4)); closes it and drafts the refusal "
        "letter, which tells the person they may complain to the CNIL and go to court.",
        parameters=[REQUEST_ID], request=ReasonSerializer,
        responses={200: SubjectRequestDetailSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(ReasonSerializer, request.data)
        subject_request_refuse(request=subject_request, reason=data["reason"],
                               acting_user=request.user)
        return _detail(user=request.user, pk=id)


class SubjectRequestNoteApi(RequestApi):
    @extend_schema(summary="Add a note to a request", parameters=[REQUEST_ID],
                   request=NoteInputSerializer, responses={201: NoteSerializer})
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(NoteInputSerializer, request.data)
        note = request_note_add(request=subject_request, text=data["text"],
                                acting_user=request.user)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class SubjectRequestAttachmentApi(RequestApi):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Attach a file to a request",
        description="A proof of identity (kept apart, only on an open request: 409 "
        "otherwise; its file is deleted when the request closes), correspondence or other.",
        parameters=[REQUEST_ID], request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(AttachmentInputSerializer, request.data)
        attachment = request_attachment_add(request=subject_request, kind=data["kind"],
                                            upload=data["file"], acting_user=request.user)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class SubjectRequestLetterListApi(RequestApi):
    @extend_schema(summary="A request's letters", parameters=[REQUEST_ID],
                   responses={200: LetterSerializer(many=True)})
    def get(self, request: Request, id: int) -> Response:
        subject_request = request_detail_for_user(user=request.user, pk=id)
        return Response(LetterSerializer(subject_request.letters.all(), many=True).data)

    @extend_schema(
        summary="Draft a letter",
        description="From its template, in the request's language (acknowledgement, "
        "identity, extension, refusal, answer); edit it, then mark it sent.",
        parameters=[REQUEST_ID], request=LetterDraftSerializer, responses={201: LetterSerializer},
    )
    def post(self, request: Request, id: int) -> Response:
        subject_request = subject_request_get_for_user(user=request.user, pk=id)
        data = _valid(LetterDraftSerializer, request.data)
        letter = request_letter_draft(request=subject_request, kind=data["kind"],
                                      acting_user=request.user)
        return Response(LetterSerializer(letter).data, status=status.HTTP_201_CREATED)


class SubjectRequestLetterApi(RequestApi):
    @extend_schema(
        summary="Edit a draft letter", description="409 once the letter was sent.",
        parameters=[REQUEST_ID, LETTER_ID], request=LetterEditSerializer,
        responses={200: LetterSerializer, 409: STATE_CONFLICT},
    )
    def put(self, request: Request, id: int, letter_id: int) -> Response:
        letter = request_letter_get_for_user(user=request.user, request_pk=id, pk=letter_id)
        data = _valid(LetterEditSerializer, request.data)
        letter = request_letter_update(letter=letter, subject_line=data["subject_line"],
                                       body=data["body"], acting_user=request.user)
        return Response(LetterSerializer(letter).data)


class SubjectRequestLetterSentApi(RequestApi):
    @extend_schema(
        summary="Mark a letter sent",
        description="On a day between the request's receipt and today; once (409 after).",
        parameters=[REQUEST_ID, LETTER_ID], request=LetterSentSerializer,
        responses={200: LetterSerializer, 409: STATE_CONFLICT},
    )
    def post(self, request: Request, id: int, letter_id: int) -> Response:
        letter = request_letter_get_for_user(user=request.user, request_pk=id, pk=letter_id)
        data = _valid(LetterSentSerializer, request.data)
        letter = request_letter_mark_sent(letter=letter, sent_on=data.get("sent_on") or paris_today(),
                                          acting_user=request.user)
        return Response(LetterSerializer(letter).data)
