"""Reads of a request's erasure: its access rule, where it stands, and its receipt.

The DPO handles erasure requests; a second pair of eyes (the DPO or an admin, the
`gdpr.approve_erasure` permission) sees what is asked to approve it: counts, sources,
legal holds, never the identifiers given. The receipt proves what was done without
identifying the person: counts per table and file, sources and acknowledgements, legal
holds, dates, who asked, approved and executed, the request's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from gdpr.models import (
    ErasureAcknowledgement,
    ErasureApproval,
    ErasureStatus,
    RequestKind,
    RequestLegalHold,
    SubjectRequest,
)
from gdpr.selectors.requests import user_handles_requests
from gdpr.services.erasure_requests import live_approval, user_approves_erasures

RECEIPT_SCHEMA = "rcu.erasure_receipt.v1"


def erasure_request_get_for_user(*, user: Any, pk: int) -> SubjectRequest:
    """An erasure request for the DPO, or for an approver (403 for anyone else, 404 if
    absent or not an erasure)."""
    if not (user_handles_requests(user) or user_approves_erasures(user)):
        raise PermissionDenied
    request = SubjectRequest.objects.filter(pk=pk, kind=RequestKind.ERASURE).first()
    if request is None:
        raise Http404
    return request


def erasures_awaiting_approval(*, user: Any) -> QuerySet[ErasureApproval]:
    """The executions asked for and not yet decided: the approvers' list."""
    if not user_approves_erasures(user):
        raise PermissionDenied
    return (ErasureApproval.objects.filter(status=ErasureStatus.ASKED)
            .select_related("request", "asked_by").order_by("asked_at"))


@dataclass(frozen=True)
class ErasureState:
    approval: ErasureApproval | None  # the one in force (asked, approved, executed)
    refused: list[ErasureApproval]  # earlier executions refused, with their reasons
    holds: list[RequestLegalHold]
    acknowledgements: list[ErasureAcknowledgement]

    @property
    def executed(self) -> bool:
        return self.approval is not None and self.approval.status == ErasureStatus.EXECUTED

    @property
    def waiting(self) -> int:
        return sum(1 for a in self.acknowledgements if a.acknowledged_at is None)


def erasure_state(request: SubjectRequest) -> ErasureState:
    approvals = list(request.erasure_approvals.select_related("asked_by", "decided_by", "executed_by"))
    return ErasureState(
        approval=next((a for a in approvals if a.status != ErasureStatus.REFUSED), None),
        refused=[a for a in approvals if a.status == ErasureStatus.REFUSED],
        holds=list(request.legal_holds.select_related("source", "created_by")),
        acknowledgements=list(request.erasure_acknowledgements.select_related(
            "acknowledged_by", "source", "subscription")),
    )


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def erasure_receipt(request: SubjectRequest, *, now: datetime | None = None) -> dict[str, Any]:
    """The receipt of an executed erasure, as a JSON-ready document (no identifier of
    the person: no public id, no source's external id, no value)."""
    request = SubjectRequest.objects.prefetch_related(
        Prefetch("erasure_approvals", ErasureApproval.objects.select_related(
            "asked_by", "decided_by", "executed_by")),
    ).get(pk=request.pk)
    approval = live_approval(request)
    if approval is None or approval.status != ErasureStatus.EXECUTED:
        raise LookupError("the erasure was not executed")
    state = erasure_state(request)
    report = approval.report or {}
    return {
        "schema": RECEIPT_SCHEMA,
        "generated_at": (now or timezone.now()).isoformat(),
        "request": {
            "id": request.pk, "reference": request.reference, "kind": request.kind,
            "received_on": request.received_on.isoformat(), "state": request.state,
            "closed_at": _at(request.closed_at),
        },
        "asked": {"by": _who(approval.asked_by), "at": _at(approval.asked_at)},
        "approved": {"by": _who(approval.decided_by), "at": _at(approval.decided_at)},
        "executed": {"by": _who(approval.executed_by), "at": _at(approval.executed_at)},
        "erased": {
            "customers": report.get("customers", 0), "records": report.get("records", 0),
            "counts": report.get("counts", []),
        },
        "legal_holds": [
            {
                "source": hold.source.code, "attributes": list(hold.attributes or []),
                "legal_basis": hold.legal_basis, "reason": hold.reason,
                "keep_until": hold.keep_until.isoformat(), "recorded_by": _who(hold.created_by),
                "recorded_at": _at(hold.created_at),
            }
            for hold in state.holds
        ],
        "acknowledgements": [
            {
                "kind": ack.kind, "name": ack.name,
                "acknowledged_at": _at(ack.acknowledged_at),
                "how": None if ack.acknowledged_at is None
                else ("delivery" if ack.by_delivery else "by_hand"),
                "recorded_by": _who(ack.acknowledged_by), "note": ack.note,
            }
            for ack in state.acknowledgements
        ],
        "all_acknowledged_at": _at(approval.acknowledged_at),
    }
