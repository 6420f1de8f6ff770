"""The quarantine's rows, for the DPO alone (the one access rule of its page and API)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from gdpr.models import QuarantinedRecord, QuarantineStatus

DECIDE_QUARANTINE = "gdpr.change_quarantinedrecord"
STATUSES = (*QuarantineStatus.values, "all")


def quarantine_for_user(*, user: Any, status: str = QuarantineStatus.HELD) -> QuerySet[QuarantinedRecord]:
    """The rows of this status (`all`: every one), newest first: 403 but for the DPO."""
    if not (getattr(user, "is_authenticated", False) and user.has_perm(DECIDE_QUARANTINE)):
        raise PermissionDenied
    rows = QuarantinedRecord.objects.select_related("source", "decided_by", "import_job")
    return rows if status == "all" else rows.filter(status=status)


def quarantined_record_get_for_user(*, user: Any, pk: int) -> QuarantinedRecord:
    try:
        return quarantine_for_user(user=user, status="all").get(pk=pk)
    except QuarantinedRecord.DoesNotExist:
        raise Http404 from None
