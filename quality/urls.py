from __future__ import annotations

from django.urls import path

from quality import views

app_name = "quality"

urlpatterns = [
    path("", views.quality_dashboard, name="dashboard"),
    path("measure/", views.quality_measure, name="measure"),
    path("kpis/", views.quality_kpi_page, name="kpis"),
    path("sources/<slug:code>/", views.quality_source, name="source"),
    path("sources/<slug:code>/records/", views.quality_source_records, name="records"),
]
