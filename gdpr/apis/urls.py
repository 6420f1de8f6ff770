"""/api/v1/gdpr/…: the DPO's API (wired by the project URLconf)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gdpr.apis import erasure, requests
from gdpr.apis.access_log import AccessLogApi
from gdpr.apis.consents import ContactableApi, ObjectionLiftApi, RequestObjectionApi
from gdpr.apis.packs import RequestExecuteApi, RequestPackApi
from gdpr.apis.quarantine import QuarantineDiscardApi, QuarantineListApi, QuarantineReleaseApi
from gdpr.apis.register import RegisterDetailApi, RegisterListApi
from gdpr.apis.restriction import RequestRestrictionApi
from gdpr.apis.scope import RequestMatchesApi, RequestScopeApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("requests/", requests.SubjectRequestListApi.as_view(), name="api-v1-gdpr-request-list"),
    path("requests/<int:id>/", requests.SubjectRequestDetailApi.as_view(),
         name="api-v1-gdpr-request-detail"),
    path("requests/<int:id>/transition/", requests.SubjectRequestTransitionApi.as_view(),
         name="api-v1-gdpr-request-transition"),
    path("requests/<int:id>/identity/", requests.SubjectRequestIdentityApi.as_view(),
         name="api-v1-gdpr-request-identity"),
    path("requests/<int:id>/extend/", requests.SubjectRequestExtendApi.as_view(),
         name="api-v1-gdpr-request-extend"),
    path("requests/<int:id>/refuse/", requests.SubjectRequestRefuseApi.as_view(),
         name="api-v1-gdpr-request-refuse"),
    path("requests/<int:id>/notes/", requests.SubjectRequestNoteApi.as_view(),
         name="api-v1-gdpr-request-notes"),
    path("requests/<int:id>/attachments/", requests.SubjectRequestAttachmentApi.as_view(),
         name="api-v1-gdpr-request-attachments"),
    path("requests/<int:id>/letters/", requests.SubjectRequestLetterListApi.as_view(),
         name="api-v1-gdpr-request-letters"),
    path("requests/<int:id>/letters/<int:letter_id>/", requests.SubjectRequestLetterApi.as_view(),
         name="api-v1-gdpr-request-letter"),
    path("requests/<int:id>/letters/<int:letter_id>/sent/",
         requests.SubjectRequestLetterSentApi.as_view(), name="api-v1-gdpr-request-letter-sent"),
    path("requests/<int:pk>/matches/", RequestMatchesApi.as_view(), name="api-v1-gdpr-request-matches"),
    path("requests/<int:pk>/scope/", RequestScopeApi.as_view(), name="api-v1-gdpr-request-scope"),
    path("requests/<int:pk>/execute/", RequestExecuteApi.as_view(), name="api-v1-gdpr-request-execute"),
    path("requests/<int:pk>/pack/", RequestPackApi.as_view(), name="api-v1-gdpr-request-pack"),
    path("requests/<int:id>/erasure/", erasure.ErasureApi.as_view(), name="api-v1-gdpr-erasure"),
    path("requests/<int:id>/erasure/holds/", erasure.ErasureHoldListApi.as_view(),
         name="api-v1-gdpr-erasure-holds"),
    path("requests/<int:id>/erasure/holds/<int:hold_id>/", erasure.ErasureHoldApi.as_view(),
         name="api-v1-gdpr-erasure-hold"),
    path("requests/<int:id>/erasure/ask/", erasure.ErasureAskApi.as_view(),
         name="api-v1-gdpr-erasure-ask"),
    path("requests/<int:id>/erasure/approve/", erasure.ErasureApproveApi.as_view(),
         name="api-v1-gdpr-erasure-approve"),
    path("requests/<int:id>/erasure/refuse/", erasure.ErasureRefuseApi.as_view(),
         name="api-v1-gdpr-erasure-refuse"),
    path("requests/<int:id>/erasure/execute/", erasure.ErasureExecuteApi.as_view(),
         name="api-v1-gdpr-erasure-execute"),
    path("requests/<int:id>/erasure/acknowledgements/<int:ack_id>/",
         erasure.ErasureAcknowledgeApi.as_view(), name="api-v1-gdpr-erasure-acknowledge"),
    path("requests/<int:id>/erasure/receipt/", erasure.ErasureReceiptApi.as_view(),
         name="api-v1-gdpr-erasure-receipt"),
    path("requests/<int:pk>/restriction/", RequestRestrictionApi.as_view(),
         name="api-v1-gdpr-request-restriction"),
    path("quarantine/", QuarantineListApi.as_view(), name="api-v1-gdpr-quarantine"),
    path("quarantine/<int:pk>/release/", QuarantineReleaseApi.as_view(),
         name="api-v1-gdpr-quarantine-release"),
    path("quarantine/<int:pk>/discard/", QuarantineDiscardApi.as_view(),
         name="api-v1-gdpr-quarantine-discard"),
    path("register/", RegisterListApi.as_view(), name="api-v1-gdpr-register"),
    path("register/<int:id>/", RegisterDetailApi.as_view(), name="api-v1-gdpr-register-activity"),
    path("access-log/", AccessLogApi.as_view(), name="api-v1-gdpr-access-log"),
    path("consents/", ContactableApi.as_view(), name="api-v1-gdpr-consents"),
    path("requests/<int:pk>/objection/", RequestObjectionApi.as_view(), name="api-v1-gdpr-request-objection"),
    path("objections/<int:pk>/lift/", ObjectionLiftApi.as_view(), name="api-v1-gdpr-objection-lift"),
]
