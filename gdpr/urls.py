"""/gdpr/…: the DPO's workspace (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.views import access_log, consents, packs, register, requests, scope

app_name = "gdpr"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", requests.requests_dashboard, name="requests"),
    path("customers/<uuid:public_id>/consents/", consents.consents_panel, name="customer_consents"),
    path("customers/<uuid:public_id>/consents/new/", consents.consent_statement_add,
         name="consent_statement_add"),
    path("customers/<uuid:public_id>/objections/new/", consents.objection_add, name="objection_add"),
    path("objections/<int:pk>/lift/", consents.objection_lift_view, name="objection_lift"),
    path("requests/new/", requests.request_new, name="request_new"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/transition/", requests.request_transition, name="request_transition"),
    path("requests/<int:pk>/identity/", requests.request_identity_verify, name="request_identity"),
    path("requests/<int:pk>/extend/", requests.request_extend, name="request_extend"),
    path("requests/<int:pk>/refuse/", requests.request_refuse, name="request_refuse"),
    path("requests/<int:pk>/notes/", requests.request_note, name="request_note"),
    path("requests/<int:pk>/attachments/", requests.request_attachment, name="request_attachment"),
    path("requests/<int:pk>/attachments/<int:attachment_pk>/", requests.attachment_download,
         name="attachment_download"),
    path("requests/<int:pk>/letters/", requests.letter_draft, name="letter_draft"),
    path("requests/<int:pk>/letters/<int:letter_pk>/", requests.letter_edit, name="letter_edit"),
    path("requests/<int:pk>/letters/<int:letter_pk>/sent/", requests.letter_sent,
         name="letter_sent"),
    path("requests/<int:pk>/scope/", scope.request_scope, name="request_scope"),
    path("requests/<int:pk>/scope/confirm/", scope.request_scope_confirm,
         name="request_scope_confirm"),
    path("requests/<int:pk>/execute/", packs.request_execute_view, name="request_execute"),
    path("requests/<int:pk>/rectify/", requests.request_rectify_view, name="request_rectify"),
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
