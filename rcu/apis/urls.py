from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from rcu.apis.attributes import AttributeDetailApi, AttributeListApi
from rcu.apis.audits import SourceAuditDetailApi, SourceAuditListApi
from rcu.apis.customers import CustomerDetailApi, CustomerListApi
from rcu.apis.imports import ImportJobCancelApi, ImportJobDetailApi, ImportJobListApi
from rcu.apis.matching import MatchSearchApi
from rcu.apis.permissions import API_PERMISSIONS
from rcu.apis.records import RecordDetailApi, RecordListApi
from rcu.apis.sources import (
    SourceDetailApi,
    SourceImportSubmitApi,
    SourceListApi,
    SourceRecordDeleteApi,
    SourceRecordIngestApi,
)
from rcu.apis.subscriptions import (
    EventFeedApi,
    SubscriptionDetailApi,
    SubscriptionListApi,
    SubscriptionReplayApi,
    SubscriptionRotateSecretApi,
    SubscriptionSnapshotApi,
    SubscriptionTestApi,
)
from rcu.apis.survivorship import SurvivorshipApi
from rcu.apis.tokens import ApiTokenDetailApi, ApiTokenListApi
from rcu.apis.users import DepartmentListApi, UserDetailApi, UserListApi

v1_patterns = [
    path("subscriptions/", SubscriptionListApi.as_view(), name="api-v1-subscription-list"),
    path("subscriptions/<int:id>/", SubscriptionDetailApi.as_view(), name="api-v1-subscription"),
    path("subscriptions/<int:id>/rotate-secret/", SubscriptionRotateSecretApi.as_view(),
         name="api-v1-subscription-rotate-secret"),
    path("subscriptions/<int:id>/replay/", SubscriptionReplayApi.as_view(),
         name="api-v1-subscription-replay"),
    path("subscriptions/<int:id>/snapshot/", SubscriptionSnapshotApi.as_view(),
         name="api-v1-subscription-snapshot"),
    path("subscriptions/<int:id>/test/", SubscriptionTestApi.as_view(),
         name="api-v1-subscription-test"),
    path("events/", EventFeedApi.as_view(), name="api-v1-events"),
    path("sources/", SourceListApi.as_view(), name="api-v1-source-list"),
    path("sources/<slug:code>/", SourceDetailApi.as_view(), name="api-v1-source-detail"),
    path(
        "sources/<slug:code>/records/", SourceRecordIngestApi.as_view(), name="api-v1-source-records"
    ),
    path(
        # <path:>: an external id may hold a slash once percent-decoded.
        "sources/<slug:code>/records/<path:external_id>/", SourceRecordDeleteApi.as_view(),
        name="api-v1-source-record",
    ),
    path(
        "sources/<slug:code>/imports/", SourceImportSubmitApi.as_view(), name="api-v1-source-imports"
    ),
    path(
        "sources/<slug:code>/audits/", SourceAuditListApi.as_view(), name="api-v1-source-audits"
    ),
    path(
        "sources/<slug:code>/audits/<int:id>/", SourceAuditDetailApi.as_view(),
        name="api-v1-source-audit",
    ),
    path("customers/", CustomerListApi.as_view(), name="api-v1-customer-list"),
    # Any text, not only UUIDs: a malformed id is answered by the API (404), not by Django.
    path("customers/<str:public_id>/", CustomerDetailApi.as_view(), name="api-v1-customer-detail"),
    path("records/", RecordListApi.as_view(), name="api-v1-record-list"),
    path("records/<int:id>/", RecordDetailApi.as_view(), name="api-v1-record-detail"),
    path("match/", MatchSearchApi.as_view(), name="api-v1-match"),
    path("imports/", ImportJobListApi.as_view(), name="api-v1-import-list"),
    path("imports/<int:id>/", ImportJobDetailApi.as_view(), name="api-v1-import-detail"),
    path("imports/<int:id>/cancel/", ImportJobCancelApi.as_view(), name="api-v1-import-cancel"),
    path("tokens/", ApiTokenListApi.as_view(), name="api-v1-token-list"),
    path("tokens/<int:id>/", ApiTokenDetailApi.as_view(), name="api-v1-token-detail"),
    path("users/", UserListApi.as_view(), name="api-v1-user-list"),
    path("users/<int:id>/", UserDetailApi.as_view(), name="api-v1-user-detail"),
    path("departments/", DepartmentListApi.as_view(), name="api-v1-department-list"),
    path("survivorship/", SurvivorshipApi.as_view(), name="api-v1-survivorship"),
    path("attributes/", AttributeListApi.as_view(), name="api-v1-attribute-list"),
    path("attributes/<slug:name>/", AttributeDetailApi.as_view(), name="api-v1-attribute-detail"),
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    # The schema lists what the back-office holds: authenticated people only.
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=API_PERMISSIONS),
        name="api-schema",
    ),
    # The split view serves its start-up script as a file, which the CSP
    # (script-src 'self') allows; Swagger UI itself comes from the sidecar's static files.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=API_PERMISSIONS),
        name="api-docs",
    ),
]
