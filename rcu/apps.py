from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RcuConfig(AppConfig):
    name = "rcu"
    verbose_name = _("Customer repository")

    def ready(self) -> None:
        import rcu.db  # noqa: F401  # registers the `any_of` lookup
        from rcu.services.roles import roles_sync_after_migrate

        # Roles are groups holding global permissions; permissions only exist after
        # migrate, so this is the one place they can be granted on a fresh database.
        # Roles also hold other apps' permissions (stewardship), created by those apps'
        # own post_migrate: so sync after every app's, the last one seeing them all.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="rcu_roles_sync")
