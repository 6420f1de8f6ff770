from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gdpr.models import AccessLogEntry


def access_log_record(*, user: Any, customers: Sequence[Any], purpose: str) -> None:
    """Log that `user` read these customers' personal data (one bulk insert)."""
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(user=user, customer_public_id=c.public_id, purpose=purpose)
        for c in customers
    )
