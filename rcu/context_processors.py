from __future__ import annotations

from django.http import HttpRequest

from rcu.forms_administration import ROLE_LABELS
from rcu.models import Department
from rcu.roles import Role


def navigation(request: HttpRequest) -> dict:
    """What the navigation bar needs to know about the person."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    group_names = {g.name for g in user.groups.all()}
    return {
        "nav_is_admin": user.is_superuser or Role.ADMIN.value in group_names,
        # The DPO's subject requests (gdpr): the permission, not an import of the app.
        "nav_handles_requests": user.has_perm("gdpr.handle_subjectrequest"),
        "nav_approves_erasures": user.has_perm("gdpr.approve_erasure"),
        "nav_roles": [
            str(ROLE_LABELS.get(code, code))
            for code in sorted(n.split(":", 1)[1] for n in group_names if n.startswith("role:"))
        ],
        # Display names ("Service client"), never the codes.
        "nav_departments": list(
            Department.objects.filter(group__user=user).order_by("name").values_list("name", flat=True)
        ),
    }
