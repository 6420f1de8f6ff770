"""Locked sign-ins (django-axes): an admin lets a username sign in again from an address."""

from __future__ import annotations

import logging

from axes.utils import reset as axes_reset

logger = logging.getLogger(__name__)


def sign_in_unlock(*, username: str, ip_address: str, acting_user) -> int:
    """Forget the failed attempts of this username from this address; logged, as a
    security event (axes keeps no history of its own)."""
    count = axes_reset(ip=ip_address, username=username)
    logger.warning(
        "sign-in unlocked: username=%s address=%s by=%s", username, ip_address, acting_user
    )
    return count
