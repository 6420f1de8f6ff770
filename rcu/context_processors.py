from __future__ import annotations

from django.http import HttpRequest

from rcu.roles import Role


def navigation(request: HttpRequest) -> dict:
    """What the navigation bar needs to know about the person."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    group_names = {g.name for g in user.groups.all()}
    return {
        "nav_is_admin": user.is_superuser or Role.ADMIN.value in group_names,
        "nav_roles": sorted(n.split(":", 1)[1] for n in group_names if n.startswith("role:")),
        "nav_departments": sorted(
            n.split(":", 1)[1] for n in group_names if n.startswith("department:")
        ),
    }
