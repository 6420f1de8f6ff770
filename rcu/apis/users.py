"""Accounts and departments for scripts: /api/v1/users/ and /api/v1/departments/.

Same permissions as the administration pages (the admin role); the same services.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rcu.apis.schema import NOT_ALLOWED, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.models import Department
from rcu.selectors import administration as sel
from rcu.services.departments import DepartmentRefused, department_create
from rcu.services.users import (
    ROLE_CODES,
    UserRefused,
    user_create,
    user_department_codes,
    user_role_codes,
    user_update,
)


class _ByMethod(BasePermission):
    PERMS: dict[str, str] = {}

    def has_permission(self, request, view) -> bool:
        perm = self.PERMS.get(request.method)
        return perm is not None and request.user.has_perm(perm)


class CanManageUsers(_ByMethod):
    PERMS = {"GET": sel.VIEW_USERS, "HEAD": sel.VIEW_USERS, "OPTIONS": sel.VIEW_USERS,
             "POST": sel.ADD_USERS, "PATCH": sel.MANAGE_USERS}


class CanManageDepartments(_ByMethod):
    PERMS = {"GET": sel.MANAGE_DEPARTMENTS, "HEAD": sel.MANAGE_DEPARTMENTS,
             "OPTIONS": sel.MANAGE_DEPARTMENTS, "POST": sel.ADD_DEPARTMENTS}


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    is_active = serializers.BooleanField()
    roles = serializers.SerializerMethodField(help_text="steward, dpo, admin, auditor.")
    departments = serializers.SerializerMethodField(help_text="Department codes.")
    last_login = serializers.DateTimeField(allow_null=True)
    date_joined = serializers.DateTimeField()

    def get_roles(self, user) -> list[str]:
        return user_role_codes(user)

    def get_departments(self, user) -> list[str]:
        return user_department_codes(user)




class AccountCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False, allow_blank=True, write_only=True,
        help_text="Initial password; without one the account cannot sign in until it is reset.",
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ROLE_CODES)), required=False, default=list
    )
    departments = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, help_text="Department codes."
    )


class AccountUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ROLE_CODES)), required=False
    )
    departments = serializers.ListField(child=serializers.SlugField(), required=False)


def _refusal(exc: UserRefused | DepartmentRefused) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [exc.reason]})


@extend_schema_view(
    get=extend_schema(
        summary="Accounts",
        description="Every account with its roles and department codes. Admin role only.",
        responses={200: AccountSerializer(many=True), 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    ),
    post=extend_schema(
        summary="Create an account",
        request=AccountCreateSerializer,
        responses={201: AccountSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    ),
)
class UserListApi(ListAPIView):
    permission_classes = (IsAuthenticated, CanManageUsers)
    serializer_class = AccountSerializer
    filter_backends = ()

    def get_queryset(self):
        return sel.users_for_admin(self.request.user)

    def post(self, request: Request) -> Response:
        form = AccountCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            user = user_create(
                username=data["username"], first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"],
                password=data.get("password") or None, roles=data["roles"],
                departments=data["departments"], acting_user=request.user,
            )
        except UserRefused as exc:
            raise _refusal(exc) from exc
        return Response(AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = (IsAuthenticated, CanManageUsers)

    @extend_schema(
        summary="An account",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: AccountSerializer, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED, 404: NOT_FOUND},
    )
    def get(self, request: Request, id: int) -> Response:
        user = get_object_or_404(sel.users_for_admin(request.user), pk=id)
        return Response(AccountSerializer(user).data)

    @extend_schema(
        summary="Change an account",
        description="Only the fields given change: roles and departments are the whole new "
        "lists; `is_active: false` deactivates the account.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=AccountUpdateSerializer,
        responses={200: AccountSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED,
                   404: NOT_FOUND},
    )
    def patch(self, request: Request, id: int) -> Response:
        user = get_object_or_404(sel.users_for_admin(request.user), pk=id)
        form = AccountUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            user = user_update(user=user, acting_user=request.user, **data)
        except UserRefused as exc:
            raise _refusal(exc) from exc
        user = sel.users_for_admin(request.user).get(pk=user.pk)
        return Response(AccountSerializer(user).data)


class DepartmentAdminSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField(help_text="Usernames of the members.")
    sources = serializers.SerializerMethodField(help_text="Codes of the department's sources.")

    class Meta:
        model = Department
        fields = ["code", "name", "review_target_days", "members", "sources", "created_at"]

    def get_members(self, department) -> list[str]:
        return sorted(u.username for u in department.group.user_set.all())

    def get_sources(self, department) -> list[str]:
        return [s.code for s in department.sources.all()]


class DepartmentCreateSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=200)
    review_target_days = serializers.IntegerField(required=False, min_value=1, max_value=365)


@extend_schema_view(
    get=extend_schema(
        summary="Departments",
        description="Every department with its members and sources. Admin role only.",
        responses={200: DepartmentAdminSerializer(many=True), 401: NOT_AUTHENTICATED, 403: NOT_ALLOWED},
    ),
    post=extend_schema(
        summary="Create a department",
        request=DepartmentCreateSerializer,
        responses={201: DepartmentAdminSerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: NOT_ALLOWED},
    ),
)
class DepartmentListApi(ListAPIView):
    permission_classes = (IsAuthenticated, CanManageDepartments)
    serializer_class = DepartmentAdminSerializer
    filter_backends = ()

    def get_queryset(self):
        return sel.departments_for_admin(self.request.user)

    def post(self, request: Request) -> Response:
        form = DepartmentCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            department = department_create(
                code=data["code"], name=data["name"],
                review_target_days=data.get("review_target_days"), acting_user=request.user,
            )
        except DepartmentRefused as exc:
            raise _refusal(exc) from exc
        department = sel.departments_for_admin(request.user).get(pk=department.pk)
        return Response(DepartmentAdminSerializer(department).data, status=status.HTTP_201_CREATED)
