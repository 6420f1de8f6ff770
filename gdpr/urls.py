"""/gdpr/…: the DPO's workspace (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.views import access_log, packs, register, scope

app_name = "gdpr"

urlpatterns: list[URLPattern | URLResolver] = [
    path("requests/<int:pk>/scope/", scope.request_scope, name="request_scope"),
    path("requests/<int:pk>/scope/confirm/", scope.request_scope_confirm,
         name="request_scope_confirm"),
    path("requests/<int:pk>/execute/", packs.request_execute_view, name="request_execute"),
    path("requests/<int:pk>/pack/", packs.pack_page, name="pack_page"),
    path("requests/<int:pk>/pack.json", packs.pack_json, name="pack_json"),
    path("requests/<int:pk>/pack.csv", packs.pack_csv_view, name="pack_csv"),
    path("requests/<int:pk>/pack.pdf", packs.pack_pdf, name="pack_pdf"),
    path("schemas/access_pack.v1.json", packs.pack_schema, name="pack_schema"),
    path("register/", register.register_list, name="register_list"),
    path("register/new/", register.register_new, name="register_new"),
    path("register/print/", register.register_print, name="register_print"),
    path("register/register.csv", register.register_export, name="register_export"),
    path("register/<int:pk>/", register.register_detail, name="register_detail"),
    path("register/<int:pk>/edit/", register.register_edit, name="register_edit"),
    path("register/<int:pk>/archive/", register.register_archive, name="register_archive"),
    path("access-log/", access_log.access_log_page, name="access_log"),
]
