"""/api/v1/gdpr/…: the DPO's API (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.apis.access_log import AccessLogApi
from gdpr.apis.register import RegisterDetailApi, RegisterListApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("register/", RegisterListApi.as_view(), name="api-v1-gdpr-register"),
    path("register/<int:id>/", RegisterDetailApi.as_view(), name="api-v1-gdpr-register-activity"),
    path("access-log/", AccessLogApi.as_view(), name="api-v1-gdpr-access-log"),
]
