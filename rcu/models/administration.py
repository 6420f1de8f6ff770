from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AdminEvent(models.Model):
    """One change made by an administrator: who, when, what, to whom.

    Accounts, roles and memberships live in Django's auth tables, which keep no
    history of their own; tokens, departments and mappings have simple-history rows,
    but people ask "who gave Marie the marketing queue?" in one place: here.
    Written only by `rcu.services.administration.admin_event_record`.
    """

    class Action(models.TextChoices):
        USER_CREATED = "user_created", _("Account created")
        USER_CHANGED = "user_changed", _("Account details changed")
        USER_DEACTIVATED = "user_deactivated", _("Account deactivated")
        USER_REACTIVATED = "user_reactivated", _("Account reactivated")
        PASSWORD_RESET = "password_reset", _("Password reset")
        ROLES_CHANGED = "roles_changed", _("Roles changed")
        MEMBERSHIP_CHANGED = "membership_changed", _("Departments changed")
        DEPARTMENT_CREATED = "department_created", _("Department created")
        DEPARTMENT_CHANGED = "department_changed", _("Department changed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        MAPPING_CHANGED = "mapping_changed", _("Field mappings changed")
        MATCH_SETTINGS_CHANGED = "match_settings_changed", _("Matching settings changed")
        MATCH_RUN_STARTED = "match_run_started", _("Matching run started")
        SURVIVORSHIP_CHANGED = "survivorship_changed", _("Survivorship rules changed")
        ATTRIBUTE_ADDED = "attribute_added", _("Custom attribute added")
        ATTRIBUTE_CHANGED = "attribute_changed", _("Custom attribute changed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    action = models.CharField(_("what"), max_length=30, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="admin_events", verbose_name=_("account"),
    )
    department = models.ForeignKey(
        "rcu.Department", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("department"),
    )
    source = models.ForeignKey(
        "rcu.SourceSystem", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("source"),
    )
    token = models.ForeignKey(
        "rcu.ApiToken", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("API token"),
    )
    # Codes added and removed (roles, department codes, changed field names): the page
    # shows them in words. `AdminChange` is their typed shape.
    change = models.JSONField(_("change"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("administration event")
        verbose_name_plural = _("administration events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
