"""Claiming a candidate while reviewing it: one steward at a time, never forever."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from stewardship.models import MergeCandidate
from stewardship.services.errors import already_decided, held_by_another


def lease_minutes() -> int:
    return int(getattr(settings, "RCU_CANDIDATE_LEASE_MINUTES", 15))


def candidate_claim(*, candidate: MergeCandidate, user, minutes: int | None = None) -> bool:
    """Lease the candidate to `user` (or extend their lease); False when someone else
    holds an unexpired lease. One conditional UPDATE: two stewards opening the same
    candidate at once cannot both get it."""
    now = timezone.now()
    until = now + timedelta(minutes=minutes if minutes is not None else lease_minutes())
    claimed = (
        MergeCandidate.objects.filter(pk=candidate.pk, status=MergeCandidate.Status.OPEN)
        .filter(
            Q(leased_by__isnull=True) | Q(leased_by=user) | Q(leased_until__isnull=True)
            | Q(leased_until__lte=now)
        )
        .update(leased_by=user, leased_until=until)
    )
    if claimed:
        candidate.leased_by, candidate.leased_until = user, until
    else:
        candidate.refresh_from_db(fields=["leased_by", "leased_until", "status", "decided_by"])
    return bool(claimed)


def candidate_claim_or_refuse(*, candidate: MergeCandidate, user) -> None:
    """Lease the candidate to `user`, or say why not (`DecisionConflict`): for callers
    that must claim before anything else, such as the API."""
    if candidate_claim(candidate=candidate, user=user):
        return
    if candidate.status != MergeCandidate.Status.OPEN:
        raise already_decided(candidate)
    raise held_by_another(candidate)


def candidate_release(*, candidate: MergeCandidate, user) -> None:
    """Give the candidate back (skip, or leaving it): only the holder can."""
    MergeCandidate.objects.filter(pk=candidate.pk, leased_by=user).update(
        leased_by=None, leased_until=None
    )
    if candidate.leased_by_id == getattr(user, "pk", None):
        candidate.leased_by, candidate.leased_until = None, None
