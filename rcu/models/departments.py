from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Department(models.Model):
    """A part of the company that owns sources and works its own queue.

    Membership is the department's Django group: object permissions on the
    department's sources are granted to that group.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="department", verbose_name=_("group")
    )
    # How long a candidate may wait in this department's queue before it is overdue.
    review_target_days = models.PositiveSmallIntegerField(
        _("target age of a candidate (days)"), default=7,
        help_text=_("Candidates waiting longer are flagged overdue in the queue."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        # Held by the department's group on the department itself (django-guardian):
        # its stewards work the department's duplicate queue.
        permissions = [("work_queue_department", "Can work the department's duplicate queue")]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def group_name_for(code: str) -> str:
        return f"department:{code}"
