"""The GDPR app's demo data, added by `seed_demo` through `rcu.hooks.demo_seeded`.

Subject requests at different ages, so that the DPO's dashboard shows what it is for:
one overdue, one due this week, one extended, one received today (from the person of the overdue one: a possible
duplicate), one done. Safe to run
again: it seeds only when there is no request yet.

Consents: a share of the customers said yes or no through the web forms over the past
three years (the wording of the form as proof), some of them withdrawn since, so that
the contactable list and the customer page's consent panel show something. Written in
bulk, then the consents in force computed once per chunk of customers; seeded only
when nobody stated anything yet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gdpr import deadlines
from gdpr.models import (
    Channel,
    ConsentPurpose,
    ConsentStatement,
    LetterKind,
    RequestKind,
    RequestState,
    StatementOrigin,
    SubjectRequest,
)
from gdpr.services.consents import consents_refresh
from gdpr.services.letters import request_letter_draft, request_letter_mark_sent
from gdpr.services.requests import (
    request_note_add,
    subject_request_create,
    subject_request_extend,
    subject_request_identity_verify,
    subject_request_transition,
)
from rcu.models import Customer
from rcu.normalisation.dates import paris_today
from rcu.services.changes import system_actor

DEMO_DPO = "dpo"


@transaction.atomic
def demo_seed(*, acting_user: Any) -> None:
    """Every piece of the GDPR demo (requests today; the register will join them)."""
    dpo = get_user_model().objects.filter(username=DEMO_DPO).first() or acting_user
    _seed_requests(acting_user=dpo)
    _seed_consents(now=timezone.now())


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


# (purpose, channel, the golden value the channel needs, which customers said yes, which
# of them withdrew later, which said no from the start, the form's wording): decided by
# the customer's id, so that the demo is the same on every run.
DEMO_CONSENTS: tuple[tuple[str, str, str, int, int, int, str], ...] = (
    # purpose, channel, needs, yes if id % 10 < this, withdrawn if id % 10 == this - 1 too,
    # no from the start if id % 10 == this, wording
    ("newsletter", Channel.EMAIL, "email", 6, 5, 6, "Inscription à la lettre d'information (formulaire web, v3)"),
    ("offers", Channel.EMAIL, "email", 4, 3, 8, "Création de compte e-boutique : offres par e-mail (v2)"),
    ("offers", Channel.SMS, "mobile", 3, 2, 9, "Carte de fidélité en magasin : offres par SMS (v1)"),
    ("partner_offers", Channel.EMAIL, "email", 1, -1, 7, "Création de compte e-boutique : offres des partenaires (v2)"),
    ("surveys", Channel.POST, "city", 2, -1, 5, "Carte de fidélité en magasin : enquêtes de satisfaction (v1)"),
)


def _seed_consents(*, now: datetime) -> int:
    """Statements on the active customers, as web forms and the store's loyalty card would
    have recorded them; returns how many statements were written."""
    if ConsentStatement.objects.exists():
        return 0
    purposes = dict(ConsentPurpose.objects.filter(active=True).values_list("code", "pk"))
    actor = system_actor("seed_demo (web forms)")
    rows: list[ConsentStatement] = []
    holders: set[int] = set()
    for code, channel, needs, yes_below, withdrawn_at, no_at, wording in DEMO_CONSENTS:
        if code not in purposes:
            continue  # renamed or retired by an admin
        for pk in (Customer.objects.filter(merged_into__isnull=True).filter(**{f"{needs}__gt": ""})
                   .order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000)):
            said_at = now - timedelta(days=60 + (pk * 37) % 1000, hours=pk % 11)
            answers = []
            if pk % 10 < yes_below:
                answers.append((True, said_at))
                if pk % 10 == withdrawn_at:
                    answers.append((False, said_at + timedelta(days=20 + pk % 40)))
            elif pk % 10 == no_at:
                answers.append((False, said_at))
            for granted, stated_at in answers:
                rows.append(ConsentStatement(
                    purpose_id=purposes[code], channel=channel, granted=granted, stated_at=stated_at,
                    origin=StatementOrigin.FORM, stated_on_id=pk, holder_id=pk, wording=wording,
                    recorded_by=None, actor_job=actor.job,
                ))
                holders.add(pk)
    ConsentStatement.objects.bulk_create(rows, batch_size=2000)
    consents_refresh(customer_ids=holders, acting_user=actor)
    return len(rows)
