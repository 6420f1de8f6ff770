from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Data quality measured: per source and attribute, golden customers, business KPIs.

    It reads `rcu` and `stewardship` (open candidates, decisions) and writes only its own
    tables (daily figures, rules): neither of them imports it.
    """

    name = "quality"
    verbose_name = _("Data quality")
    default_auto_field = "django.db.models.BigAutoField"
