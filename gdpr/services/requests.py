"""Subject requests: recorded, moved through their states, extended, refused, closed.

Every service records its step in the request's trail (`request_step_record`) in the
same transaction; the trail is what the DPO shows the CNIL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction

from gdpr import deadlines
from gdpr.models import RequestKind, RequestStep, SubjectRequest
from rcu.services.changes import actor_user


def request_step_record(
    *, request: SubjectRequest, action: str, acting_user: Any, state_before: str = "",
    detail: str = "",
) -> RequestStep:
    """The one way a step enters a request's trail (no personal data in `detail`)."""
    return RequestStep.objects.create(
        request=request, action=action, by=actor_user(acting_user), state_before=state_before,
        state_after=request.state, detail=detail,
    )


@transaction.atomic
def subject_request_create(
    *, kind: RequestKind | str, received_on: date, subject: Mapping[str, Any],
    acting_user: Any, channel: str = "email", reply_to: str = "", language: str = "fr",
    description: str = "",
) -> SubjectRequest:
    """Record a request received on `received_on`; its deadline follows (gdpr.deadlines)."""
    request = SubjectRequest.objects.create(
        kind=RequestKind(kind), received_on=received_on, due_on=deadlines.due_on(received_on),
        subject=dict(subject), channel=channel, reply_to=reply_to, language=language,
        description=description, created_by=actor_user(acting_user),
    )
    request_step_record(request=request, action="received", acting_user=acting_user)
    return request
