"""A subject request's life: its states, its deadline extended once, refused with a
reason, its proofs of identity deleted when it closes, and requests from the same person
flagged as possible duplicates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from gdpr import deadlines
from gdpr.models import LetterKind, RequestState
from gdpr.selectors.requests import duplicates_among, possible_duplicates, request_urgency
from gdpr.services.letters import request_letter_draft, request_letter_mark_sent
from gdpr.services.requests import (
    RequestConflict,
    RequestInvalid,
    request_attachment_add,
    request_note_add,
    subject_request_create,
    subject_request_extend,
    subject_request_identity_verify,
    subject_request_refuse,
    subject_request_transition,
)
from rcu.normalisation.dates import paris_today

pytestmark = pytest.mark.django_db


def _request(dpo, *, received_on: date | None = None, **subject):
    return subject_request_create(
        kind="access", received_on=received_on or paris_today(),
        subject=subject or {"email": "helene.lefevre@orange.fr"}, acting_user=dpo,
    )


def _actions(request) -> list[str]:
    return list(request.steps.values_list("action", flat=True))


# --- States ---------------------------------------------------------------------


def test_a_request_goes_from_received_to_done_and_every_step_says_who(dpo):
    request = _request(dpo)
    subject_request_transition(request=request, state="identity_to_verify", acting_user=dpo)
    subject_request_identity_verify(request=request, acting_user=dpo)
    subject_request_transition(request=request, state="waiting_for_sources", acting_user=dpo)
    subject_request_transition(request=request, state="in_progress", acting_user=dpo)
    request = subject_request_transition(request=request, state="done", acting_user=dpo)

    assert request.state == RequestState.DONE and request.closed_at is not None
    assert request.identity_verified_by == dpo and request.identity_verified_at is not None
    steps = list(request.steps.all())
    assert [(s.state_before, s.state_after) for s in steps if s.action == "state_changed"] == [
        ("received", "identity_to_verify"), ("in_progress", "waiting_for_sources"),
        ("waiting_for_sources", "in_progress"), ("in_progress", "done"),
    ]
    assert {s.by for s in steps} == {dpo}
    # Asking for a proof of identity drafts the letter that asks for it.
    assert list(request.letters.values_list("kind", flat=True)) == [LetterKind.IDENTITY]


@pytest.mark.parametrize(("path", "forbidden"), [
    ([], "done"),                                        # nothing done yet
    ([], "waiting_for_sources"),
    (["in_progress"], "received"),                       # no way back to received
    (["in_progress", "done"], "in_progress"),            # done is final
])
def test_a_transition_off_the_state_machine_is_refused_and_writes_nothing(dpo, path, forbidden):
    request = _request(dpo)
    for state in path:
        request = subject_request_transition(request=request, state=state, acting_user=dpo)
    steps_before = request.steps.count()
    with pytest.raises(RequestConflict):
        subject_request_transition(request=request, state=forbidden, acting_user=dpo)
    request.refresh_from_db()
    assert request.state == (path[-1] if path else "received")
    assert request.steps.count() == steps_before


def test_identity_to_verify_goes_on_only_once_the_identity_is_verified(dpo):
    request = _request(dpo)
    subject_request_transition(request=request, state="identity_to_verify", acting_user=dpo)
    with pytest.raises(RequestConflict, match="identit"):
        subject_request_transition(request=request, state="in_progress", acting_user=dpo)
    request = subject_request_identity_verify(request=request, acting_user=dpo)
    assert request.state == RequestState.IN_PROGRESS


def test_refused_only_with_a_reason_which_the_refusal_letter_gives_with_the_right_to_complain(dpo):
    request = _request(dpo)
    with pytest.raises(RequestInvalid) as error:
        subject_request_refuse(request=request, reason="  ", acting_user=dpo)
    assert error.value.field == "reason"
    with pytest.raises(RequestInvalid):
        subject_request_transition(request=request, state="refused", acting_user=dpo)

    request = subject_request_refuse(request=request, reason="Demande manifestement excessive.",
                                     acting_user=dpo)
    assert request.state == RequestState.REFUSED and request.closed_at is not None
    letter = request.letters.get()
    assert letter.kind == LetterKind.REFUSAL and letter.sent_on is None
    assert request.reference in letter.subject_line
    assert "Demande manifestement excessive." in letter.body
    assert "CNIL" in letter.body and "recours juridictionnel" in letter.body
    with pytest.raises(RequestConflict):  # closed
        subject_request_refuse(request=request, reason="again", acting_user=dpo)


def test_a_request_cannot_be_received_in_the_future_or_without_an_identifier(dpo):
    with pytest.raises(RequestInvalid):
        _request(dpo, received_on=paris_today() + timedelta(days=1))
    with pytest.raises(RequestInvalid) as error:
        subject_request_create(kind="access", received_on=paris_today(), subject={"email": " "},
                               acting_user=dpo)
    assert error.value.field == "subject"


# --- Extension ------------------------------------------------------------------


def test_an_extension_runs_three_months_from_receipt_and_drafts_the_letter(dpo):
    received = paris_today() - timedelta(days=10)
    request = subject_request_extend(request=_request(dpo, received_on=received),
                                     reason="Plusieurs sources à interroger.", acting_user=dpo)
    assert request.extended_due_on == deadlines.extended_due_on(received)
    assert request.deadline == request.extended_due_on
    letter = request.letters.get()
    assert letter.kind == LetterKind.EXTENSION
    assert "Plusieurs sources à interroger." in letter.body
    assert _actions(request) == ["received", "extended", "letter_drafted"]


def test_an_extension_is_refused_once_the_first_deadline_has_passed(dpo):
    request = _request(dpo, received_on=date(2026, 1, 31))  # due 2 March 2026 (a Monday)
    assert request.due_on == date(2026, 3, 2)
    # On the deadline itself it is still possible...
    subject_request_extend(request=request, reason="r", acting_user=dpo, today=date(2026, 3, 2))

    late = _request(dpo, received_on=date(2026, 1, 31))
    with pytest.raises(RequestConflict, match="2026-03-02"):
        subject_request_extend(request=late, reason="r", acting_user=dpo, today=date(2026, 3, 3))
    late.refresh_from_db()
    assert late.extended_due_on is None and _actions(late) == ["received"]


def test_an_extension_is_granted_only_once_and_only_with_a_reason(dpo):
    request = _request(dpo)
    with pytest.raises(RequestInvalid):
        subject_request_extend(request=request, reason="", acting_user=dpo)
    subject_request_extend(request=request, reason="complex", acting_user=dpo)
    with pytest.raises(RequestConflict, match="une fois"):
        subject_request_extend(request=request, reason="still complex", acting_user=dpo)


# --- Proofs of identity ---------------------------------------------------------


def test_proofs_of_identity_are_deleted_when_the_request_closes_and_their_rows_kept(
    dpo, django_capture_on_commit_callbacks,
):
    request = _request(dpo)
    proof = request_attachment_add(
        request=request, kind="identity_proof", acting_user=dpo,
        upload=SimpleUploadedFile("cni.pdf", b"%PDF-1.4 identity"),
    )
    letter = request_attachment_add(
        request=request, kind="correspondence", acting_user=dpo,
        upload=SimpleUploadedFile("courrier.pdf", b"%PDF-1.4 letter"),
    )
    proof_path = proof.file.name
    assert "/identity_proof/" in proof_path and default_storage.exists(proof_path)

    # The files go once the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        subject_request_refuse(request=request, reason="r", acting_user=dpo)

    proof.refresh_from_db()
    letter.refresh_from_db()
    assert proof.deleted_at is not None and not proof.file and proof.name == "cni.pdf"
    assert not default_storage.exists(proof_path)
    assert letter.deleted_at is None and default_storage.exists(letter.file.name)
    assert "identity_proofs_deleted" in _actions(request)
    with pytest.raises(RequestConflict):  # no new proof on a closed request
        request_attachment_add(request=request, kind="identity_proof", acting_user=dpo,
                               upload=SimpleUploadedFile("cni2.pdf", b"x"))


# --- Notes and letters ----------------------------------------------------------


def test_a_note_is_the_authors_and_leaves_a_step_without_its_text(dpo):
    request = _request(dpo)
    note = request_note_add(request=request, text="Appelée le 3, rappeler.", acting_user=dpo)
    assert note.author == dpo
    step = request.steps.get(action="note_added")
    assert step.by == dpo and "rappeler" not in step.detail


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Objet", "CNIL", "accès"]),
    ("en", ["CNIL", "judicial remedy"]),
])
def test_letters_come_in_the_requests_language_with_its_reference_and_dates(dpo, language, words):
    request = subject_request_create(
        kind="access", received_on=date(2026, 4, 14), subject={"email": "a@example.fr"},
        acting_user=dpo, language=language,
    )
    letter = request_letter_draft(request=request, kind="acknowledgement", acting_user=dpo)
    assert request.reference in letter.subject_line
    assert not letter.subject_line.startswith(("Objet", "Subject"))
    written = {"fr": ["14 avril 2026", "15 mai 2026"], "en": ["April 14, 2026", "May 15, 2026"]}
    for text in written[language]:
        assert text in letter.body
    for word in words[1:]:
        assert word in letter.body
    assert "&#x27;" not in letter.body  # plain text, not HTML-escaped


def test_a_letter_is_marked_sent_once_on_a_day_between_receipt_and_today(dpo):
    request = _request(dpo, received_on=paris_today() - timedelta(days=3))
    letter = request_letter_draft(request=request, kind="acknowledgement", acting_user=dpo)
    with pytest.raises(RequestInvalid):
        request_letter_mark_sent(letter=letter, sent_on=paris_today() - timedelta(days=4),
                                 acting_user=dpo)
    letter = request_letter_mark_sent(letter=letter, sent_on=paris_today(), acting_user=dpo)
    assert letter.sent_on == paris_today() and letter.sent_by == dpo
    with pytest.raises(RequestConflict):
        request_letter_mark_sent(letter=letter, sent_on=paris_today(), acting_user=dpo)


# --- Possible duplicates --------------------------------------------------------


def test_a_request_sharing_an_email_or_phone_with_an_open_one_is_a_possible_duplicate(dpo):
    first = _request(dpo, email="Helene.Lefevre@Orange.fr")
    second = _request(dpo, email=" helene.lefevre@orange.fr ")  # normalised: the same
    by_phone = _request(dpo, phone="06 12 34 56 78")
    phone_again = _request(dpo, phone="+33 6 12 34 56 78")
    stranger = _request(dpo, email="someone.else@example.fr")

    assert possible_duplicates(request=second) == [first]
    assert possible_duplicates(request=first) == [second]
    assert possible_duplicates(request=phone_again) == [by_phone]
    assert possible_duplicates(request=stranger) == []
    assert second.steps.get().detail == f"possible_duplicates={first.reference}"


def test_a_namesake_is_a_duplicate_only_with_the_same_birth_date(dpo):
    first = _request(dpo, first_name="Hélène", last_name="LEFÈVRE", birth_date="1984-03-12")
    same = _request(dpo, first_name="helene", last_name="Lefevre", birth_date="1984-03-12")
    namesake = _request(dpo, first_name="Hélène", last_name="Lefèvre", birth_date="1990-07-01")
    name_only = _request(dpo, first_name="Hélène", last_name="Lefèvre")

    found = duplicates_among([first, same, namesake, name_only])
    assert found == {first.pk: [same], same.pk: [first]}


def test_a_closed_request_is_no_longer_a_duplicate_of_a_new_one(dpo):
    first = _request(dpo, email="a@example.fr")
    subject_request_refuse(request=first, reason="r", acting_user=dpo)
    assert possible_duplicates(request=_request(dpo, email="a@example.fr")) == []


# --- Urgency ---------------------------------------------------------------------


def test_overdue_and_due_this_week_are_counted_in_working_days(dpo):
    request = _request(dpo, received_on=date(2026, 1, 31))  # due Monday 2 March 2026
    assert request_urgency(request, today=date(2026, 3, 3)).overdue
    soon = request_urgency(request, today=date(2026, 2, 23))  # five working days before
    assert soon.due_soon and not soon.overdue and soon.working_days_left == 5
    assert not request_urgency(request, today=date(2026, 2, 20)).due_soon  # six
