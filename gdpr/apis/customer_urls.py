"""/api/v1/customers/{public_id}/consents/: the GDPR app's part of a customer's API (wired
by the project URLconf beside the core's and stewardship's customer endpoints)."""

from __future__ import annotations

from django.urls import URLPattern, path

from gdpr.apis.consents import CustomerConsentsApi

urlpatterns: list[URLPattern] = [
    path("customers/<str:public_id>/consents/", CustomerConsentsApi.as_view(),
         name="api-v1-customer-consents"),
]
