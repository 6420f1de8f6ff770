"""TOTP devices: enrol (an unconfirmed device until a first code), verify, remove."""

from __future__ import annotations

from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


@transaction.atomic
def totp_device_start(*, user) -> TOTPDevice:
    """The device being enrolled: the same secret until it is confirmed, so that
    reloading the page does not invalidate what the person already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """A first correct code confirms the device; any other enrolment is dropped."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def totp_device_for_code(*, user, token: str) -> TOTPDevice | None:
    """The confirmed device that accepts this code, if any (each device throttles
    its own failures: wrong codes make the next try wait longer)."""
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice) and device.verify_token(token):
            return device
    return None


@transaction.atomic
def totp_devices_remove(*, user) -> int:
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    return count
