"""API tokens: list, create (the key is in the answer, once), revoke. Admin role only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.schema import NOT_ALLOWED, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.models import ApiToken, SourceSystem
from rcu.selectors.tokens import (
    MANAGE_TOKENS,
    REVOKE_TOKENS,
    VIEW_TOKENS,
    api_tokens_visible_to,
)
from rcu.services.tokens import TokenRefused, api_token_create, api_token_revoke


class CanManageTokens(BasePermission):
    """The admin role's token permissions: view to list, add to create, change to revoke."""

    PERMS = {"GET": VIEW_TOKENS, "HEAD": VIEW_TOKENS, "OPTIONS": VIEW_TOKENS,
             "POST": MANAGE_TOKENS, "DELETE": REVOKE_TOKENS}

    def has_permission(self, request, view) -> bool:
        perm = self.PERMS.get(request.method)
        return perm is not None and request.user.has_perm(perm)


TOKEN_PERMISSIONS = (IsAuthenticated, CanManageTokens)


class _UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its key, only the key's first characters."""

    user = _UserRef()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", default=None, allow_null=True)
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(  # type: ignore[assignment]
        source="source.code", default=None, allow_null=True
    )
    status = serializers.CharField(help_text="active, expired or revoked.")

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "key_prefix", "user", "source", "status", "created_at", "created_by",
            "expires_at", "last_used_at", "revoked_at", "revoked_by",
        ]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """A new token, with its key (given in the context: the model never holds it)."""

    key = serializers.SerializerMethodField(
        help_text="The token's key: shown this once, never again."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, token: ApiToken) -> str:
        return self.context["key"]


class ApiTokenCreateSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="The user the token acts as: id or username.")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True,
        help_text="When the token stops working (default: RCU_API_TOKEN_DEFAULT_DAYS from now).",
    )
    # The API's field "source" shadows Field.source in DRF's stubs (drf-stubs#158).
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True,
        help_text="Source code: the token may then only send records and files to it.",
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate_user(self, value: str):
        users = get_user_model().objects.all()
        user = users.filter(pk=int(value)).first() if value.isdigit() else None
        user = user or users.filter(username=value).first()
        if user is None:
            raise serializers.ValidationError("No such user.")
        return user

    def validate_source(self, value: str | None):
        if not value:
            return None
        source = SourceSystem.objects.filter(code=value).first()
        if source is None:
            raise serializers.ValidationError("No such source.")
        return source


@extend_schema_view(
    get=extend_schema(
        summary="API tokens",
        description="Every token, newest first, without keys. Admin role only.",
        responses={200: ApiTokenSerializer(many=True), 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    ),
    post=extend_schema(
        summary="Create an API token",
        description="The answer holds the key, once: it is stored hashed and never shown "
        "again. Admin role only.",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer, 400: REFUSED,
                   401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    ),
)
class ApiTokenListApi(ListAPIView):
    permission_classes = TOKEN_PERMISSIONS
    serializer_class = ApiTokenSerializer
    filter_backends = ()

    def get_queryset(self):
        return api_tokens_visible_to(self.request.user)

    def post(self, request: Request) -> Response:
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            created = api_token_create(
                user=data["user"], expires_at=data.get("expires_at"), source=data.get("source"),
                name=data.get("name", ""), acting_user=request.user,
            )
        except TokenRefused as exc:
            raise serializers.ValidationError({exc.field: [exc.reason]}) from exc
        body = ApiTokenCreatedSerializer(created.token, context={"key": created.key}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    permission_classes = TOKEN_PERMISSIONS

    @extend_schema(
        summary="Revoke an API token",
        description="The token stops working at once; it stays listed, as revoked.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 404: NOT_FOUND},
    )
    def delete(self, request: Request, id: int) -> Response:
        token = get_object_or_404(api_tokens_visible_to(request.user), pk=id)
        api_token_revoke(token=token, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
