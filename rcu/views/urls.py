from __future__ import annotations

from django.urls import path

from rcu.views import administration, audits, customers, home, imports, propagation, sources

urlpatterns = [
    path("", home.home, name="home"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/<uuid:public_id>/", customers.customer_detail, name="customer_detail"),
    path("customers/<uuid:public_id>/restriction/", customers.customer_restriction,
         name="customer_restriction"),
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
    path("administration/", administration.admin_index, name="admin_home"),
    path("administration/users/", administration.user_list, name="admin_user_list"),
    path("administration/users/<int:pk>/", administration.user_detail, name="admin_user_detail"),
    path(
        "administration/users/<int:pk>/password/", administration.user_password,
        name="admin_user_password",
    ),
    path("administration/departments/", administration.department_list, name="admin_department_list"),
    path(
        "administration/departments/<slug:code>/", administration.department_detail,
        name="admin_department_detail",
    ),
    path("administration/history/", administration.admin_history, name="admin_history"),
    path("administration/subscriptions/", propagation.subscription_list, name="admin_subscriptions"),
    path("administration/subscriptions/<int:pk>/<slug:action>/", propagation.subscription_action,
         name="admin_subscription_action"),
    path("administration/events/", propagation.event_search, name="admin_events"),
    path("administration/events/file/", propagation.change_file_download, name="admin_change_file"),
    path(
        "administration/sources/<slug:code>/mapping/", administration.source_mapping_edit,
        name="admin_source_mapping",
    ),
    path("administration/matching/", administration.matching, name="admin_matching"),
    path("administration/survivorship/", administration.survivorship, name="admin_survivorship"),
    path("administration/attributes/", administration.attribute_list, name="admin_attribute_list"),
    path("administration/attributes/<slug:name>/", administration.attribute_detail,
         name="admin_attribute_detail"),
    path(
        "administration/matching/runs/<int:pk>/", administration.match_run_progress,
        name="admin_match_run",
    ),
]
