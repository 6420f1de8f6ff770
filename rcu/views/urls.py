from __future__ import annotations

from django.urls import path

from rcu.views import audits, customers, home, imports, sources

urlpatterns = [
    path("", home.home, name="home"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/<uuid:public_id>/", customers.customer_detail, name="customer_detail"),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/rejects.csv", imports.import_rejects, name="import_rejects"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("sources/", sources.source_list, name="source_list"),
    path("sources/<slug:code>/", sources.source_detail, name="source_detail"),
    path("sources/<slug:code>/audits/", audits.audit_list, name="audit_list"),
    path("sources/<slug:code>/audits/compare/", audits.audit_compare, name="audit_compare"),
    path("sources/<slug:code>/audits/<int:pk>/", audits.audit_detail, name="audit_detail"),
]
