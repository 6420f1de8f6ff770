"""Account pages (everyone) and account-security administration (admin role)."""

from __future__ import annotations

from django.urls import path

from rcu.views import account, security_admin

urlpatterns = [
    path("accounts/security/", account.account_security, name="account_security"),
    path("accounts/two-factor/setup/", account.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", account.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/remove/", account.two_factor_remove, name="two_factor_remove"),
    path("accounts/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/", account.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("administration/tokens/", security_admin.token_list, name="token_list"),
    path(
        "administration/tokens/<int:pk>/revoke/", security_admin.token_revoke,
        name="token_revoke",
    ),
    path("administration/lockouts/", security_admin.lockout_list, name="lockout_list"),
    path(
        "administration/lockouts/<int:pk>/unlock/", security_admin.lockout_unlock,
        name="lockout_unlock",
    ),
]
