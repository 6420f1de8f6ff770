"""The GDPR app's demo data, added by `seed_demo` through `rcu.hooks.demo_seeded`.

Subject requests at different ages, so that the DPO's dashboard shows what it is for:
one overdue, one due this week, one extended, one received today (from the person of the overdue one: a possible
duplicate), one done. Safe to run
again: it seeds only when there is no request yet.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from gdpr import deadlines
from gdpr.models import LetterKind, RequestKind, RequestState, SubjectRequest
from gdpr.services.letters import request_letter_draft, request_letter_mark_sent
from gdpr.services.requests import (
    request_note_add,
    subject_request_create,
    subject_request_extend,
    subject_request_identity_verify,
    subject_request_transition,
)
from rcu.normalisation.dates import paris_today

DEMO_DPO = "dpo"


@transaction.atomic
def demo_seed(*, acting_user: Any) -> None:
    """Every piece of the GDPR demo (requests today; the register will join them)."""
    dpo = get_user_model().objects.filter(username=DEMO_DPO).first() or acting_user
    _seed_requests(acting_user=dpo)


def _received_for_due_in(today: date, working_days: int) -> date:
    """A receipt day whose deadline falls `working_days` working days after today."""
    received = today - timedelta(days=31)
    while deadlines.working_days_between(today, deadlines.due_on(received)) < working_days:
        received += timedelta(days=1)
    return received


def _seed_requests(*, acting_user: Any) -> list[SubjectRequest]:
    if SubjectRequest.objects.exists():
        return []
    today = paris_today()
    seeded = []

    overdue = subject_request_create(
        kind=RequestKind.ACCESS, received_on=today - timedelta(days=45), acting_user=acting_user,
        subject={"email": "martine.garnier@laposte.net", "first_name": "Martine",
                 "last_name": "Garnier"},
        reply_to="martine.garnier@laposte.net",
    )
    subject_request_transition(request=overdue, state=RequestState.IN_PROGRESS,
                               acting_user=acting_user)
    subject_request_transition(request=overdue, state=RequestState.WAITING_FOR_SOURCES,
                               acting_user=acting_user,
                               note="La boutique en ligne n'a pas encore répondu.")
    seeded.append(overdue)

    due_soon = subject_request_create(
        kind=RequestKind.RECTIFICATION, received_on=_received_for_due_in(today, 3),
        acting_user=acting_user, channel="letter",
        subject={"first_name": "Julien", "last_name": "Roussel", "birth_date": "1979-11-02",
                 "address": "8 rue des Lilas", "postcode": "69003", "city": "Lyon"},
        description="Corriger l'adresse postale : 8 rue des Lilas, 69003 Lyon.",
    )
    subject_request_transition(request=due_soon, state=RequestState.IDENTITY_TO_VERIFY,
                               acting_user=acting_user)
    seeded.append(due_soon)

    extended_received = today - timedelta(days=25)
    extended = subject_request_create(
        kind=RequestKind.PORTABILITY, received_on=extended_received, acting_user=acting_user,
        subject={"email": "c.dupont@free.fr", "phone": "06 45 12 78 90"}, language="en",
        reply_to="c.dupont@free.fr",
    )
    subject_request_identity_verify(request=extended, acting_user=acting_user)
    subject_request_extend(
        request=extended, acting_user=acting_user, today=extended_received + timedelta(days=20),
        reason="Four sources to query, two of them archived off-line.",
    )
    seeded.append(extended)

    received_today = subject_request_create(
        kind=RequestKind.ERASURE, received_on=today, acting_user=acting_user,
        # The person of the overdue request again: the dashboard flags a possible duplicate.
        channel="web_form", subject={"email": "Martine.Garnier@laposte.net"},
    )
    letter = request_letter_draft(request=received_today, kind=LetterKind.ACKNOWLEDGEMENT,
                                  acting_user=acting_user)
    request_letter_mark_sent(letter=letter, sent_on=today, acting_user=acting_user)
    seeded.append(received_today)

    done = subject_request_create(
        kind=RequestKind.OBJECTION, received_on=today - timedelta(days=60),
        acting_user=acting_user, subject={"phone": "01 47 20 33 18", "last_name": "Petit"},
    )
    subject_request_transition(request=done, state=RequestState.IN_PROGRESS,
                               acting_user=acting_user)
    request_note_add(request=done, text="Opposition à la prospection : désinscrit du CRM.",
                     acting_user=acting_user)
    subject_request_transition(request=done, state=RequestState.DONE, acting_user=acting_user)
    seeded.append(done)
    return seeded
