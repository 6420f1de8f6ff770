"""Reads of subject requests, with their one access rule: the DPO handles them, nobody else."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from gdpr.models import SubjectRequest

HANDLE_REQUESTS = "gdpr.handle_subjectrequest"


def user_handles_requests(user: Any) -> bool:
    """The DPO role (never a department, never staff or superuser rights)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(HANDLE_REQUESTS))


def subject_requests_for_user(*, user: Any) -> QuerySet[SubjectRequest]:
    if not user_handles_requests(user):
        raise PermissionDenied
    return SubjectRequest.objects.select_related("created_by")


def subject_request_get_for_user(*, user: Any, pk: int) -> SubjectRequest:
    """The request `pk` if `user` handles requests: 403 for anyone else, 404 if absent."""
    try:
        return subject_requests_for_user(user=user).get(pk=pk)
    except SubjectRequest.DoesNotExist:
        raise Http404 from None
