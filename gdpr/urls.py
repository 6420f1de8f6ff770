"""/gdpr/…: the DPO's workspace (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "gdpr"

urlpatterns: list[URLPattern | URLResolver] = []
