"""Letters to the person: drafted from a template in the request's language, edited by
the DPO, then marked sent on a date.

Templates: templates/gdpr/letters/<language>/<kind>.txt (French and English). The first
line is the subject ("Objet : …" / "Subject: …" is stripped), the rest the body. They
receive `request`, `reference`, `received_on`, `deadline`, `due_on`, `extended_due_on`
(dates already written in the letter's language) and `today`. Blanks to fill by hand
are in square brackets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from gdpr.models import LetterKind, RequestLetter, SubjectRequest
from gdpr.services.requests import RequestConflict, RequestInvalid, _person, request_step_record
from rcu.normalisation.dates import paris_today

LETTER_LANGUAGES = ("fr", "en")
SUBJECT_PREFIXES = ("Objet :", "Objet:", "Subject:")


@dataclass(frozen=True, slots=True)
class LetterText:
    subject_line: str
    body: str


def _language(request: SubjectRequest) -> str:
    return request.language if request.language in LETTER_LANGUAGES else LETTER_LANGUAGES[0]


def letter_render(*, request: SubjectRequest, kind: LetterKind | str, today: date | None = None) -> LetterText:
    """The letter `kind` for `request`, in the request's language, as the template writes it."""
    language = _language(request)
    with translation.override(language):
        def written(day: date | None) -> str:
            return formats.date_format(day, "DATE_FORMAT") if day else ""

        text = render_to_string(f"gdpr/letters/{language}/{LetterKind(kind).value}.txt", {
            "request": request,
            "reference": request.reference,
            "kind": request.get_kind_display(),
            "received_on": written(request.received_on),
            "due_on": written(request.due_on),
            "extended_due_on": written(request.extended_due_on),
            "deadline": written(request.deadline),
            "today": written(today or paris_today()),
        })
    first, _sep, rest = text.strip().partition("\n")
    for prefix in SUBJECT_PREFIXES:
        if first.startswith(prefix):
            first = first[len(prefix):]
    return LetterText(subject_line=first.strip()[:200], body=rest.strip() + "\n")


@transaction.atomic
def request_letter_draft(
    *, request: SubjectRequest, kind: LetterKind | str, acting_user: Any,
) -> RequestLetter:
    """A new draft of the letter `kind`, from its template; edit it, then mark it sent."""
    try:
        kind = LetterKind(kind)
    except ValueError:
        raise RequestInvalid(_("Unknown kind of letter: %(kind)s.") % {"kind": kind}, field="kind") from None
    text = letter_render(request=request, kind=kind)
    letter = RequestLetter.objects.create(
        request=request, kind=kind, language=_language(request), subject_line=text.subject_line,
        body=text.body, created_by=_person(acting_user),
    )
    request_step_record(request=request, action="letter_drafted", acting_user=acting_user,
                        detail=kind.value)
    return letter


@transaction.atomic
def request_letter_update(
    *, letter: RequestLetter, subject_line: str, body: str, acting_user: Any,
) -> RequestLetter:
    """Edit a draft (a letter already sent stays as it was sent)."""
    letter = RequestLetter.objects.select_for_update().get(pk=letter.pk)
    if letter.sent_on is not None:
        raise RequestConflict(_("This letter was sent: it can no longer be edited."))
    if not subject_line.strip() or not body.strip():
        raise RequestInvalid(_("A letter needs a subject and a text."), field="body")
    letter.subject_line, letter.body = subject_line.strip()[:200], body
    letter.save(update_fields=["subject_line", "body"])
    request_step_record(request=letter.request, action="letter_edited", acting_user=acting_user,
                        detail=letter.kind)
    return letter


@transaction.atomic
def request_letter_mark_sent(
    *, letter: RequestLetter, sent_on: date, acting_user: Any,
) -> RequestLetter:
    """Record the day the letter was sent (not before the request was received)."""
    letter = RequestLetter.objects.select_for_update().select_related("request").get(pk=letter.pk)
    if letter.sent_on is not None:
        raise RequestConflict(_("This letter was already marked sent."))
    if sent_on < letter.request.received_on or sent_on > paris_today():
        raise RequestInvalid(
            _("A letter is sent between the request's receipt and today."), field="sent_on"
        )
    letter.sent_on, letter.sent_by = sent_on, _person(acting_user)
    letter.save(update_fields=["sent_on", "sent_by"])
    request_step_record(request=letter.request, action="letter_sent", acting_user=acting_user,
                        detail=f"{letter.kind} {sent_on.isoformat()}")
    return letter
