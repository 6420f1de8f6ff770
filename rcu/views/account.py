"""A person's own account: password, two-factor sign-in (enrol, verify, remove)."""

from __future__ import annotations

from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.middleware import is_verified

from rcu.security.forms import OtpCodeForm
from rcu.security.otp import two_factor_required
from rcu.services.two_factor import (
    totp_device_confirm,
    totp_device_for_code,
    totp_device_start,
    totp_devices_remove,
)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("home")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg"):]  # inline, without the XML declaration


@login_required
@require_http_methods(["GET"])
def account_security(request: HttpRequest) -> HttpResponse:
    context = {
        "has_device": user_has_device(request.user),
        "required": two_factor_required(request.user),
    }
    return render(request, "registration/account_security.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), then enter a first code to confirm."""
    if user_has_device(request.user) and not is_verified(request.user):
        # A password alone never enrols a new device over an existing one.
        return redirect(f"{reverse_lazy('two_factor_verify')}?next={_next_url(request)}")
    device = totp_device_start(user=request.user)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_device_confirm(device=device, token=form.cleaned_data["code"]):
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is on for your account."))
            return redirect(_next_url(request))
        form.add_error("code", _("This code is not right. Check the time on your phone and try again."))
    context = {
        "form": form,
        "secret": b32encode(device.bin_key).decode(),
        "otpauth_uri": device.config_url,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # generated here, no user input
        "next": _next_url(request),
        "required": two_factor_required(request.user) and not user_has_device(request.user),
    }
    return render(request, "registration/two_factor_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for a person with a confirmed device."""
    if not user_has_device(request.user):
        return redirect(f"{reverse_lazy('two_factor_setup')}?next={_next_url(request)}")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp_device_for_code(user=request.user, token=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _(
            "This code is not right, or was already used. After a wrong code, wait a few "
            "seconds before trying the next one."
        ))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    if two_factor_required(request.user):
        messages.error(request, _("Your role requires two-factor sign-in: it cannot be turned off."))
    else:
        totp_devices_remove(user=request.user)
        messages.success(request, _("Two-factor sign-in is off for your account."))
    return redirect("account_security")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"
