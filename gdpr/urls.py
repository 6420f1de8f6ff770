"""/gdpr/…: the DPO's workspace (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.views import access_log, register

app_name = "gdpr"

urlpatterns: list[URLPattern | URLResolver] = [
    path("register/", register.register_list, name="register_list"),
    path("register/new/", register.register_new, name="register_new"),
    path("register/print/", register.register_print, name="register_print"),
    path("register/register.csv", register.register_export, name="register_export"),
    path("register/<int:pk>/", register.register_detail, name="register_detail"),
    path("register/<int:pk>/edit/", register.register_edit, name="register_edit"),
    path("register/<int:pk>/archive/", register.register_archive, name="register_archive"),
    path("access-log/", access_log.access_log_page, name="access_log"),
]
