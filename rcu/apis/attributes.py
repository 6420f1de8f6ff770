"""/api/v1/attributes/: the custom attributes of the customer model (read: the reading
roles; add and change: the admin role), the same services as the administration page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.schema import NOT_ALLOWED, NOT_AUTHENTICATED, REFUSED
from rcu.models import AttributeDefinition
from rcu.services.attributes import (
    DEFAULT_RULES,
    AttributeSpec,
    attribute_definition_create,
    attribute_definition_update,
)

VIEW = "rcu.view_attributedefinition"
ADD = "rcu.add_attributedefinition"
CHANGE = "rcu.change_attributedefinition"


class AttributeDefinitionSerializer(serializers.ModelSerializer):
    effective_comparison = serializers.SerializerMethodField(
        help_text="The comparison in force: the one chosen, or the default of the type."
    )

    class Meta:
        model = AttributeDefinition
        fields = ["name", "label", "type", "comparison", "effective_comparison", "tolerance",
                  "tells_apart", "survivorship", "active", "created_at", "updated_at"]
        read_only_fields = fields

    def get_effective_comparison(self, obj: AttributeDefinition) -> str:
        return obj.as_custom().comparison.value


class AttributeWriteSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[a-z][a-z0-9_]*$", max_length=50, required=False)
    # The field "label" shadows Field.label in DRF's stubs (as "source" does elsewhere).
    label = serializers.CharField(max_length=200, required=False)  # type: ignore[assignment]
    type = serializers.ChoiceField(choices=AttributeDefinition.Type.choices, required=False)
    comparison = serializers.ChoiceField(choices=AttributeDefinition.Comparison.choices,
                                         required=False, allow_blank=True)
    tolerance = serializers.FloatField(min_value=0.0, required=False)
    tells_apart = serializers.BooleanField(
        required=False, help_text="Two records that disagree on it are two people (a birth "
        "year, a sex): such a pair is never linked without a steward.",
    )
    survivorship = serializers.ChoiceField(choices=["", *DEFAULT_RULES], required=False,
                                           allow_blank=True)
    active = serializers.BooleanField(required=False)


def _refused(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict)


class AttributeListApi(ListAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = AttributeDefinitionSerializer
    filter_backends = ()

    def get_queryset(self):
        return AttributeDefinition.objects.order_by("name")

    @extend_schema(
        summary="Custom attributes",
        description="Every custom attribute, archived ones included (`active` false).",
        responses={200: AttributeDefinitionSerializer(many=True), 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a custom attribute",
        description="`name` (lower_snake_case, not a canonical attribute nor an extra "
        "identifier) and `type` (text, name, date, code, number, identifier) never change. "
        "`comparison` empty takes the type's default; the next matching run learns its "
        "weights.",
        request=AttributeWriteSerializer,
        responses={201: AttributeDefinitionSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED},
    )
    def post(self, request: Request) -> Response:
        if not request.user.has_perm(ADD):
            raise PermissionDenied
        form = AttributeWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        missing = {f: ["This field is required."] for f in ("name", "label", "type") if f not in data}
        if missing:
            raise serializers.ValidationError(missing)
        try:
            definition = attribute_definition_create(
                name=data["name"], type=data["type"], acting_user=request.user,
                spec=AttributeSpec(
                    label=data["label"], comparison=data.get("comparison", ""),
                    tolerance=data.get("tolerance", 0.0), survivorship=data.get("survivorship", ""),
                    active=data.get("active", True), tells_apart=data.get("tells_apart", False),
                ),
            )
        except ValidationError as exc:
            raise _refused(exc) from exc
        return Response(AttributeDefinitionSerializer(definition).data, status=status.HTTP_201_CREATED)


class AttributeDetailApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        summary="A custom attribute",
        responses={200: AttributeDefinitionSerializer, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    )
    def get(self, request: Request, name: str) -> Response:
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        return Response(AttributeDefinitionSerializer(get_object_or_404(AttributeDefinition, name=name)).data)

    @extend_schema(
        summary="Change a custom attribute",
        description="`label`, `comparison`, `tolerance`, `tells_apart`, `survivorship`, `active` (false "
        "archives it: its values stay, it is no longer mapped nor compared). `name` and "
        "`type` never change.",
        request=AttributeWriteSerializer,
        responses={200: AttributeDefinitionSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED},
    )
    def patch(self, request: Request, name: str) -> Response:
        if not request.user.has_perm(CHANGE):
            raise PermissionDenied
        definition = get_object_or_404(AttributeDefinition, name=name)
        form = AttributeWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        fixed = {f: ["never changes"] for f in ("name", "type")
                 if f in data and data[f] != getattr(definition, f)}
        if fixed:
            raise serializers.ValidationError(fixed)
        try:
            definition = attribute_definition_update(
                definition=definition, acting_user=request.user,
                spec=AttributeSpec(
                    label=data.get("label", definition.label),
                    comparison=data.get("comparison", definition.comparison),
                    tolerance=data.get("tolerance", definition.tolerance),
                    survivorship=data.get("survivorship", definition.survivorship),
                    active=data.get("active", definition.active),
                    tells_apart=data.get("tells_apart", definition.tells_apart),
                ),
            )
        except ValidationError as exc:
            raise _refused(exc) from exc
        return Response(AttributeDefinitionSerializer(definition).data)
