from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from rcu.roles import ROLE_PERMISSIONS, Role


@transaction.atomic
def roles_sync() -> dict[Role, Group]:
    """Create the role groups and give each exactly its declared global permissions."""
    groups: dict[Role, Group] = {}
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted: list[Permission] = []
        for name in perm_names:
            app_label, codename = name.split(".", 1)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
        groups[role] = group
    return groups


def roles_sync_after_migrate(**kwargs) -> None:
    from rcu.services.sources import department_permissions_sync

    roles_sync()
    department_permissions_sync()
