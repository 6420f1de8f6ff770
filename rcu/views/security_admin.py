"""Administration of account security: API tokens and locked sign-ins (admin role)."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rcu.security.forms import ApiTokenForm
from rcu.selectors.tokens import MANAGE_TOKENS, REVOKE_TOKENS, VIEW_TOKENS, api_tokens_visible_to
from rcu.services.lockouts import sign_in_unlock
from rcu.services.tokens import TokenRefused, api_token_create, api_token_revoke

VIEW_ATTEMPTS = "axes.view_accessattempt"
UNLOCK = "axes.delete_accessattempt"


@login_required
@permission_required(VIEW_TOKENS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Every token; creating one shows its key on this page, once."""
    created = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(MANAGE_TOKENS):
            raise PermissionDenied
        if form.is_valid():
            try:
                created = api_token_create(
                    user=form.cleaned_data["user"], expires_at=form.expires_at(),
                    source=form.cleaned_data["source"], name=form.cleaned_data["name"],
                    acting_user=request.user,
                )
            except TokenRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                form = ApiTokenForm()
    context = {
        "form": form,
        "created": created,
        "tokens": api_tokens_visible_to(request.user)[:500],
        "now": timezone.now(),
    }
    return render(request, "rcu/security/token_list.html", context)


@login_required
@permission_required(REVOKE_TOKENS, raise_exception=True)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_tokens_visible_to(request.user), pk=pk)
    api_token_revoke(token=token, acting_user=request.user)
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.key_prefix})
    return redirect("token_list")


def _recent_attempts() -> QuerySet[AccessAttempt]:
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off).order_by(
        "-attempt_time"
    )


@login_required
@permission_required(VIEW_ATTEMPTS, raise_exception=True)
@require_http_methods(["GET"])
def lockout_list(request: HttpRequest) -> HttpResponse:
    """Failed sign-ins within the cool-off, the locked ones first."""
    attempts = list(_recent_attempts()[:500])
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in attempts:
        attempt.locked = attempt.failures_since_start >= limit
    attempts.sort(key=lambda a: not a.locked)
    return render(
        request, "rcu/security/lockout_list.html", {"attempts": attempts, "limit": limit}
    )


@login_required
@permission_required(UNLOCK, raise_exception=True)
@require_POST
def lockout_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(AccessAttempt, pk=pk)
    sign_in_unlock(
        username=attempt.username, ip_address=attempt.ip_address, acting_user=request.user
    )
    messages.success(
        request, _("%(username)s may sign in again from %(address)s.")
        % {"username": attempt.username, "address": attempt.ip_address},
    )
    return redirect("lockout_list")
