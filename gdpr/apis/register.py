"""/api/v1/gdpr/register/: the register of processing activities (the DPO and admins)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.models import ProcessingActivity
from gdpr.selectors.register import (
    processing_activities_for_user,
    processing_activity_get_for_user,
    require_register_editor,
)
from gdpr.services.register import (
    ACTIVITY_FIELDS,
    processing_activity_create,
    processing_activity_update,
)
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import FORBIDDEN, NOT_AUTHENTICATED, NOT_FOUND, REFUSED
from rcu.models import SourceSystem


class ProcessingActivitySerializer(serializers.ModelSerializer):
    sources = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=SourceSystem.objects.all(),
        help_text="Codes of the sources concerned; empty: every source.",
    )

    class Meta:
        model = ProcessingActivity
        fields = ["id", *ACTIVITY_FIELDS, "sources", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "active", "created_at", "updated_at"]


class RegisterListApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="The register of processing activities",
        description="Every activity (GDPR art. 30), active ones first. The DPO and admins only.",
        responses={200: ProcessingActivitySerializer(many=True), 401: NOT_AUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        activities = processing_activities_for_user(user=request.user)
        return Response(ProcessingActivitySerializer(activities, many=True).data)

    @extend_schema(
        summary="Record a processing activity",
        request=ProcessingActivitySerializer,
        responses={201: ProcessingActivitySerializer, 400: REFUSED, 401: NOT_AUTHENTICATED, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        processing_activities_for_user(user=request.user)
        require_register_editor(request.user)
        serializer = ProcessingActivitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sources = data.pop("sources", [])
        activity = processing_activity_create(values=data, sources=sources, acting_user=request.user)
        return Response(ProcessingActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


class RegisterDetailApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="One processing activity",
        responses={200: ProcessingActivitySerializer, 401: NOT_AUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request: Request, id: int) -> Response:
        activity = processing_activity_get_for_user(user=request.user, pk=id)
        return Response(ProcessingActivitySerializer(activity).data)

    @extend_schema(
        summary="Change a processing activity",
        description="Only the fields given change; a new version is kept in history.",
        request=ProcessingActivitySerializer,
        responses={200: ProcessingActivitySerializer, 400: REFUSED, 401: NOT_AUTHENTICATED,
                   403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request: Request, id: int) -> Response:
        activity = processing_activity_get_for_user(user=request.user, pk=id)
        require_register_editor(request.user)
        serializer = ProcessingActivitySerializer(activity, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sources = data.pop("sources", None)
        activity = processing_activity_update(
            activity=activity, values=data, sources=sources, acting_user=request.user
        )
        return Response(ProcessingActivitySerializer(activity).data)
