"""Reads of subject requests, with their one access rule: the DPO handles them, nobody else."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django_filters.utils import translate_validation

from gdpr import deadlines
from gdpr.models import (
    RequestAttachment,
    RequestLetter,
    RequestNote,
    RequestState,
    RequestStep,
    SubjectRequest,
)
from gdpr.models.requests import OPEN_STATES
from rcu.normalisation.dates import normalise_birth_date, paris_today
from rcu.normalisation.emails import normalise_email
from rcu.normalisation.names import name_key
from rcu.normalisation.phones import normalise_phone

HANDLE_REQUESTS = "gdpr.handle_subjectrequest"


def user_handles_requests(user: Any) -> bool:
    """The DPO role (never a department, never staff or superuser rights)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(HANDLE_REQUESTS))


def subject_requests_for_user(*, user: Any) -> QuerySet[SubjectRequest]:
    if not user_handles_requests(user):
        raise PermissionDenied
    return SubjectRequest.objects.select_related("created_by", "identity_verified_by")


def subject_request_get_for_user(*, user: Any, pk: int) -> SubjectRequest:
    """The request `pk` if `user` handles requests: 403 for anyone else, 404 if absent."""
    try:
        return subject_requests_for_user(user=user).get(pk=pk)
    except SubjectRequest.DoesNotExist:
        raise Http404 from None


# --- Possible duplicates -------------------------------------------------------


def subject_keys(subject: Mapping[str, Any]) -> frozenset[str]:
    """What identifies the person in the identifiers given, compared as the engine
    compares records: the normalised e-mail, the normalised phone, and the name with the
    birth date (the name alone is not enough: namesakes are common)."""
    keys: set[str] = set()
    email = normalise_email(str(subject.get("email") or "")).key
    if email:
        keys.add(f"email:{email}")
    for field in ("phone", "mobile"):
        phone = normalise_phone(str(subject.get(field) or "")).key
        if phone:
            keys.add(f"phone:{phone}")
    first = name_key(str(subject.get("first_name") or ""))
    last = name_key(str(subject.get("last_name") or ""))
    birth = normalise_birth_date(str(subject.get("birth_date") or "")).key
    if first and last and birth:
        keys.add(f"person:{first}|{last}|{birth}")
    return frozenset(keys)


def duplicates_among(
    requests: Iterable[SubjectRequest],
) -> dict[int, list[SubjectRequest]]:
    """For each of `requests`, the other open requests whose identifiers overlap (one
    read of the open requests, compared in memory: a DPO has dozens open, not millions)."""
    open_requests = list(SubjectRequest.objects.filter(OPEN_STATES).only(
        "id", "subject", "received_on", "kind", "state", "due_on", "extended_due_on",
    ))
    by_key: dict[str, list[SubjectRequest]] = defaultdict(list)
    for other in open_requests:
        for key in subject_keys(other.subject):
            by_key[key].append(other)
    found: dict[int, list[SubjectRequest]] = {}
    for request in requests:
        others = {
            other.pk: other for key in subject_keys(request.subject) for other in by_key.get(key, ())
            if other.pk != request.pk
        }
        if others:
            found[request.pk] = sorted(others.values(), key=lambda other: other.pk)
    return found


def possible_duplicates(*, request: SubjectRequest) -> list[SubjectRequest]:
    """The other open requests from (probably) the same person."""
    return duplicates_among([request]).get(request.pk, [])


# --- The dashboard and the API's list -------------------------------------------


def subject_request_list(*, user: Any, filters: Mapping[str, Any]) -> QuerySet[SubjectRequest]:
    """The requests the DPO asked for (open ones by default), soonest deadline first."""
    from gdpr.filters import SubjectRequestFilter

    filterset = SubjectRequestFilter(filters, queryset=subject_requests_for_user(user=user))
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs


@dataclass(frozen=True, slots=True)
class Urgency:
    """Where a request stands against its deadline, in working days (gdpr.deadlines)."""

    overdue: bool
    due_soon: bool  # due within DUE_SOON_WORKING_DAYS working days, not overdue
    working_days_left: int


DUE_SOON_WORKING_DAYS = 5  # a working week


def request_urgency(request: SubjectRequest, *, today: date | None = None) -> Urgency:
    today = today or paris_today()
    if not request.is_open:
        return Urgency(overdue=False, due_soon=False, working_days_left=0)
    left = deadlines.working_days_between(today, request.deadline)
    overdue = request.deadline < today
    return Urgency(overdue=overdue, due_soon=not overdue and left <= DUE_SOON_WORKING_DAYS,
                   working_days_left=left)


@dataclass(frozen=True, slots=True)
class RequestCounts:
    open: int
    overdue: int
    due_soon: int
    closed: int
    by_state: dict[str, int]


def request_counts(*, user: Any, today: date | None = None) -> RequestCounts:
    """The dashboard's figures over every request (whatever the filters)."""
    requests = subject_requests_for_user(user=user)
    by_state = dict(requests.order_by().values_list("state").annotate(n=Count("id")))
    urgencies = [
        request_urgency(request, today=today)
        for request in requests.filter(OPEN_STATES).select_related(None).only(
            "state", "due_on", "extended_due_on",
        )
    ]
    return RequestCounts(
        open=len(urgencies),
        overdue=sum(u.overdue for u in urgencies),
        due_soon=sum(u.due_soon for u in urgencies),
        closed=sum(by_state.get(state, 0) for state in RequestState.closed()),
        by_state=by_state,
    )


def request_detail_for_user(*, user: Any, pk: int) -> SubjectRequest:
    """The request with its trail, notes, attachments and letters, ready to show."""
    request = subject_request_get_for_user(user=user, pk=pk)
    prefetch_related_objects(
        [request], Prefetch("steps", RequestStep.objects.select_related("by")),
        Prefetch("notes", RequestNote.objects.select_related("author")),
        Prefetch("attachments", RequestAttachment.objects.select_related("uploaded_by")),
        Prefetch("letters", RequestLetter.objects.select_related("created_by", "sent_by")),
    )
    return request


def request_letter_get_for_user(*, user: Any, request_pk: int, pk: int) -> RequestLetter:
    request = subject_request_get_for_user(user=user, pk=request_pk)
    letter = request.letters.filter(pk=pk).first()
    if letter is None:
        raise Http404
    return letter


def request_attachment_get_for_user(*, user: Any, request_pk: int, pk: int) -> RequestAttachment:
    request = subject_request_get_for_user(user=user, pk=request_pk)
    attachment = request.attachments.filter(pk=pk, deleted_at__isnull=True).first()
    if attachment is None or not attachment.file:
        raise Http404
    return attachment
