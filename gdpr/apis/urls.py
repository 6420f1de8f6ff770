"""/api/v1/gdpr/…: the DPO's API (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
