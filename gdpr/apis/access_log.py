"""/api/v1/gdpr/access-log/: the access log, for the DPO, with the page's filters."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gdpr.forms import AccessLogSearchForm
from gdpr.models import AccessLogEntry
from gdpr.selectors.access_log import access_log_entries_for_user, require_access_log_reader
from gdpr.services.access_log import access_log_person_search
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.schema import BAD_FILTER, FORBIDDEN, NOT_AUTHENTICATED
from rcu.views.pagination import page_number, slice_page

PAGE_SIZE = 100


class AccessLogEntrySerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    what = serializers.CharField()

    class Meta:
        model = AccessLogEntry
        fields = ["id", "at", "user", "actor", "customer_public_id", "purpose", "what", "channel",
                  "reference", "subject_request_id"]

    def get_user(self, entry: AccessLogEntry) -> str | None:
        return entry.user.get_username() if entry.user else None


FILTERS = [
    OpenApiParameter("person", OpenApiTypes.STR, description="A customer's public id (with the ids "
                     "merged into it), or a name, e-mail or phone: the customers found. The search "
                     "is itself logged."),
    OpenApiParameter("user", OpenApiTypes.STR, description="Username of the reader."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="From this day (inclusive)."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="To this day (inclusive)."),
    OpenApiParameter("purpose", OpenApiTypes.STR, description="Purpose code (e.g. customer_page)."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="ui, api, admin, export, command or pack."),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (pages are not counted)."),
]


class AccessLogApi(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(
        summary="The access log",
        description="Who read which customer's personal data, when, how and why; newest first. "
        "Pages of 100 without a total (`next` is null on the last page). The DPO only.",
        parameters=FILTERS,
        responses={200: inline_serializer("AccessLogPage", {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "people": serializers.ListField(child=serializers.UUIDField()),
            "results": AccessLogEntrySerializer(many=True),
        }), 400: BAD_FILTER, 401: NOT_AUTHENTICATED, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        require_access_log_reader(request.user)
        form = AccessLogSearchForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        people, public_ids = access_log_person_search(
            user=request.user, text=form.cleaned_data["person"], purpose="api_access_log_person_search"
        )
        entries = access_log_entries_for_user(user=request.user, filters=form.filters(public_ids))
        number = page_number(request.query_params.get("page"))
        page = slice_page(entries, number=number, per_page=PAGE_SIZE, ids_first=True)
        base = request.build_absolute_uri(request.path)
        params = request.query_params.copy()

        def link(n: int) -> str:
            params["page"] = str(n)
            return f"{base}?{params.urlencode()}"

        return Response({
            "next": link(number + 1) if page.has_next else None,
            "previous": link(number - 1) if page.has_previous else None,
            "people": [p.customer.public_id for p in people],
            "results": AccessLogEntrySerializer(page.object_list, many=True).data,
        })
