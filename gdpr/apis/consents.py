"""Consents over the API.

- `GET/POST /api/v1/customers/{public_id}/consents/`: a customer's consents in force,
  their statements and objections; a statement recorded (the caller is its proof's author).
- `GET /api/v1/gdpr/consents/?purpose=&channel=`: who may be contacted for a purpose on a
  channel (restricted and objecting people left out), a page at a time (`after`: the
  cursor `next` gives), or the whole list as CSV (`export=csv`, streamed).
- `POST /api/v1/gdpr/requests/{id}/objection/`: an objection request executed;
  `POST /api/v1/gdpr/objections/{id}/lift/`: the DPO lifts an objection.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from gdpr.models import Channel, ConsentPurpose, StatementOrigin
from gdpr.selectors.consents import (
    CustomerConsents,
    consents_contactable,
    contactable_fields,
    contactable_page,
    customer_consents,
    objection_get_for_user,
    require_consent_reader,
    require_consent_writer,
    require_contactable_reader,
    require_objection_writer,
)
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.consents import (
    ConsentRefused,
    consent_record,
    objection_lift,
    objection_request_execute,
)
from rcu import hooks
from rcu.apis.errors import ApiConflict, ApiGone
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import (
    BAD_FILTER,
    CONFLICT,
    ERASED,
    FORBIDDEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    REFUSED,
)
from rcu.csv_safe import machine_csv_writer
from rcu.selectors.customers import CustomerErased, customer_get_for_user

PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000


def _refused(exc: ConsentRefused) -> Exception:
    if exc.conflict:
        return ApiConflict(str(exc))
    return ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})


class ConsentSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    channel = serializers.CharField()
    granted = serializers.BooleanField()
    stated_at = serializers.DateTimeField()


class StatementSerializer(ConsentSerializer):
    id = serializers.IntegerField()
    origin = serializers.CharField()
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # a field named like Field.source
    record_external_id = serializers.CharField(allow_null=True)
    wording = serializers.CharField()
    request = serializers.CharField(allow_null=True)
    recorded_at = serializers.DateTimeField()


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    request = serializers.CharField(allow_null=True)
    recorded_at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)


class CustomerConsentsSerializer(serializers.Serializer):
    customer = serializers.UUIDField()
    objecting = serializers.BooleanField()
    consents = ConsentSerializer(many=True)
    statements = StatementSerializer(many=True)
    objections = ObjectionSerializer(many=True)


def consents_json(found: CustomerConsents) -> dict:
    return {
        "customer": str(found.customer.public_id),
        "objecting": found.objecting,
        "consents": [
            {"purpose": c.purpose.code, "channel": c.channel, "granted": c.granted,
             "stated_at": c.stated_at.isoformat()}
            for c in found.in_force
        ],
        "statements": [
            {"id": s.pk, "purpose": s.purpose.code, "channel": s.channel, "granted": s.granted,
             "stated_at": s.stated_at.isoformat(), "origin": s.origin,
             "source": s.record.source.code if s.record else None,
             "record_external_id": s.record.external_id if s.record else None,
             "wording": s.wording, "request": s.request.reference if s.request else None,
             "recorded_at": s.recorded_at.isoformat()}
            for s in found.statements
        ],
        "objections": [
            {"id": o.pk, "reason": o.reason, "request": o.request.reference if o.request else None,
             "recorded_at": o.recorded_at.isoformat(),
             "lifted_at": o.lifted_at.isoformat() if o.lifted_at else None}
            for o in found.objections
        ],
    }


class ConsentInputSerializer(serializers.Serializer):
    purpose = serializers.SlugRelatedField(slug_field="code", queryset=ConsentPurpose.objects.filter(active=True))
    channel = serializers.ChoiceField(choices=Channel.choices)
    granted = serializers.BooleanField()
    wording = serializers.CharField(max_length=200, help_text="The text (or its version) the person agreed to: the proof.")
    stated_at = serializers.DateTimeField(required=False, help_text="When the person said it; now by default.")


PUBLIC_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                             description="Public id; a retired (merged) id resolves to its survivor.")


class CustomerConsentsApi(APIView):
    permission_classes = API_PERMISSIONS

    def _customer(self, request: Request, public_id: str):
        try:
            return customer_get_for_user(user=request.user, public_id=public_id)
        except CustomerErased as erased:
            raise ApiGone("This customer was erased (GDPR art. 17).", code="erased") from erased

    @extend_schema(
        summary="A customer's consents",
        description="The consents in force per purpose and channel, every statement the customer "
        "holds (from its source records, or stated on it) with its proof, and its objections.",
        parameters=[PUBLIC_ID],
        responses={200: CustomerConsentsSerializer, 401: NOT_AUTHENTICATED, 403: FORBIDDEN,
                   404: NOT_FOUND, 410: ERASED},
    )
    def get(self, request: Request, public_id: str) -> Response:
        require_consent_reader(request.user)
        customer = self._customer(request, public_id)
        hooks.personal_data_read(user=request.user, customers=[customer], purpose="api_customer_consents")
        return Response(consents_json(customer_consents(customer=customer)))

    @extend_schema(
        summary="Record a consent",
        description="The person's yes or no for one purpose and channel, stated on this customer, "
        "with the wording they agreed to. A \"no\" on a customer others were merged into also "
        "counts for each of them if they are unmerged later.",
        parameters=[PUBLIC_ID], request=ConsentInputSerializer,
        responses={201: CustomerConsentsSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT, 410: ERASED},
    )
    def post(self, request: Request, public_id: str) -> Response:
        require_consent_writer(request.user)
        customer = self._customer(request, public_id)
        given = ConsentInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            consent_record(customer=customer, purpose=data["purpose"], channel=data["channel"],
                           granted=data["granted"], wording=data["wording"],
                           stated_at=data.get("stated_at"), origin=StatementOrigin.API,
                           acting_user=request.user)
        except ConsentRefused as exc:
            raise _refused(exc) from exc
        customer.refresh_from_db()
        return Response(consents_json(customer_consents(customer=customer)), status=status.HTTP_201_CREATED)


CONTACTABLE_PARAMETERS = [
    OpenApiParameter("purpose", OpenApiTypes.STR, required=True, description="Purpose code (newsletter…)."),
    OpenApiParameter("channel", OpenApiTypes.STR, required=True, enum=Channel.values,
                     description="email, sms, phone or post."),
    OpenApiParameter("after", OpenApiTypes.STR, description="The cursor `next` gave (opaque)."),
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"Rows per page (default {PAGE_SIZE}, "
                     f"at most {MAX_PAGE_SIZE})."),
    OpenApiParameter("export", OpenApiTypes.STR, enum=["csv"],
                     description="csv: the whole list at once, streamed (RFC 4180)."),
]


class ContactableQuerySerializer(serializers.Serializer):
    purpose = serializers.SlugRelatedField(slug_field="code", queryset=ConsentPurpose.objects.filter(active=True))
    channel = serializers.ChoiceField(choices=Channel.choices)
    after = serializers.IntegerField(required=False, min_value=0, default=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE)
    export = serializers.ChoiceField(choices=["csv"], required=False, default="")


class _Echo:
    def write(self, value: str) -> str:
        return value


class ContactableApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Who may be contacted",
        description="Customers whose consent in force for this purpose on this channel is "
        "granted, restricted (art. 18) and objecting (art. 21) people left out: the name and the "
        "channel's contact values of each, in a stable order, a page at a time (`next` is the "
        "cursor of the next page, null on the last). `export=csv` streams the whole list. The DPO "
        "and admins; each read is written to the access log.",
        parameters=CONTACTABLE_PARAMETERS,
        responses={200: inline_serializer("ContactablePage", {
            "next": serializers.CharField(allow_null=True),
            "results": serializers.ListField(child=serializers.DictField()),
        }), 400: BAD_FILTER, 401: NOT_AUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request: Request):
        require_contactable_reader(request.user)
        query = ContactableQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        purpose, channel = q["purpose"], q["channel"]
        reference = f"contactable {purpose.code}/{channel}"
        if q["export"] == "csv":
            hooks.personal_data_read(user=request.user, customers=[], purpose="export_contactable",
                                     reference=reference)
            return self._csv(purpose, channel)
        page, cursor = contactable_page(purpose=purpose, channel=channel, after=q["after"], limit=q["limit"])
        hooks.personal_data_read(user=request.user, customers=[], purpose="api_contactable",
                                 reference=f"{reference} after {q['after']}")
        return Response({"next": str(cursor) if cursor is not None else None,
                         "results": [row.to_json() for row in page]})

    def _csv(self, purpose: ConsentPurpose, channel: str) -> StreamingHttpResponse:
        fields = contactable_fields(channel)

        def rows() -> Iterator[str]:
            writer = machine_csv_writer(_Echo())
            yield writer.writerow(["customer", *fields, "granted_at"])
            rows = consents_contactable(purpose=purpose, channel=channel).values_list(
                "customer__public_id", *[f"customer__{name}" for name in fields], "stated_at",
            ).iterator(chunk_size=5000)
            for public_id, *values, stated_at in rows:
                yield writer.writerow([str(public_id), *[v or "" for v in values], stated_at.isoformat()])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contactable-{purpose.code}-{channel}.csv"'
        return response


class ObjectionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RequestObjectionApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Execute an objection request",
        description="An objection (art. 21) on every customer in the request's scope: every "
        "marketing consent withdrawn on every channel, with the request as proof and the reason "
        "given; the people are left out of the contactable lists until the DPO lifts it. A person "
        "who already objects is left as is (executing again records nothing twice); 409 when "
        "everyone in scope already objects.",
        request=ObjectionReasonSerializer,
        responses={200: inline_serializer("ObjectionsRecorded", {"objections": serializers.ListField(
            child=serializers.IntegerField())}), 400: REFUSED, 401: NOT_AUTHENTICATED, 403: FORBIDDEN,
            404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        require_objection_writer(request.user)
        subject_request = subject_request_get_for_user(user=request.user, pk=pk)
        given = ObjectionReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            done = objection_request_execute(request=subject_request, reason=given.validated_data["reason"],
                                             acting_user=request.user)
        except ConsentRefused as exc:
            raise _refused(exc) from exc
        return Response({"objections": [o.pk for o in done]})


class ObjectionLiftApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="Lift an objection",
        description="The DPO lifts an objection (the person withdrew it). Nothing is granted by "
        "lifting: the person is listed again only for what they grant after the objection.",
        request=ObjectionReasonSerializer,
        responses={200: ObjectionSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED, 403: FORBIDDEN,
                   404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        objection = objection_get_for_user(pk=pk, user=request.user)
        given = ObjectionReasonSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            objection = objection_lift(objection=objection, reason=given.validated_data["reason"],
                                       acting_user=request.user)
        except ConsentRefused as exc:
            raise _refused(exc) from exc
        return Response({"id": objection.pk, "reason": objection.reason,
                         "request": objection.request.reference if objection.request else None,
                         "recorded_at": objection.recorded_at.isoformat(),
                         "lifted_at": objection.lifted_at.isoformat() if objection.lifted_at else None})


__all__ = ["ContactableApi", "CustomerConsentsApi", "ObjectionLiftApi", "RequestObjectionApi"]
