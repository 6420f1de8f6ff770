from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLogEntry(models.Model):
    """A person read a customer's personal data (CNIL: traceability of accesses).

    It names the customer by public id only: the log itself holds no personal data
    of the customer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    customer_public_id = models.UUIDField(_("customer"), db_index=True)
    purpose = models.CharField(_("purpose"), max_length=50)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.user_id} {self.purpose} {self.customer_public_id}"
