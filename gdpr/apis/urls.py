"""/api/v1/gdpr/…: the DPO's API (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.apis.access_log import AccessLogApi
from gdpr.apis.packs import RequestExecuteApi, RequestPackApi
from gdpr.apis.register import RegisterDetailApi, RegisterListApi
from gdpr.apis.scope import RequestMatchesApi, RequestScopeApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("requests/<int:pk>/matches/", RequestMatchesApi.as_view(), name="api-v1-gdpr-request-matches"),
    path("requests/<int:pk>/scope/", RequestScopeApi.as_view(), name="api-v1-gdpr-request-scope"),
    path("requests/<int:pk>/execute/", RequestExecuteApi.as_view(), name="api-v1-gdpr-request-execute"),
    path("requests/<int:pk>/pack/", RequestPackApi.as_view(), name="api-v1-gdpr-request-pack"),
    path("register/", RegisterListApi.as_view(), name="api-v1-gdpr-register"),
    path("register/<int:id>/", RegisterDetailApi.as_view(), name="api-v1-gdpr-register-activity"),
    path("access-log/", AccessLogApi.as_view(), name="api-v1-gdpr-access-log"),
]
