"""The GDPR's periodic work: each retention purge deletes exactly what is past its
retention; deadline reminders reach the DPO once per request, threshold and deadline; a
run retried after a crash midway does not act twice; every run leaves its record."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gdpr.models import (
    AccessLogEntry,
    DeadlineReminder,
    ErasedIdentifier,
    RequestAttachment,
    RequestState,
    SubjectRequest,
)
from gdpr.retention import RETENTION_PURGES, RetentionPurge
from gdpr.services.access_log import access_log_record
from gdpr.services.reminders import deadline_reminders_send, reminder_threshold
from gdpr.services.requests import (
    request_attachment_add,
    subject_request_create,
    subject_request_identity_verify,
    subject_request_refuse,
)
from gdpr.services.retention import identity_proofs_purge, retention_purges_run
from gdpr.tasks import deadline_reminders_task, retention_purge_task
from rcu.models import PeriodicRun
from rcu.roles import Role
from rcu.services.periodic import periodic_run_begin
from tests.factories import make_user
from tests.gdpr.test_access_log import HELENE
from tests.gdpr.test_access_log import customer as _customer


def customer(source, external_id: str):
    return _customer(source, external_id, HELENE)


def _request(dpo, *, received_on: date = date(2026, 11, 20), **extra) -> SubjectRequest:
    return subject_request_create(kind="access", received_on=received_on,
                                  subject={"email": "helene.lefevre@orange.fr", **extra}, acting_user=dpo)


def _proof(request, dpo, name: str = "cni.pdf") -> RequestAttachment:
    return request_attachment_add(request=request, kind="identity_proof", acting_user=dpo,
                                  upload=SimpleUploadedFile(name, b"%PDF-1.4 identity"))


def _run(key: str = "test-run") -> PeriodicRun:
    run, _ = periodic_run_begin(task="gdpr.tasks.retention_purge_task", key=key, trigger="beat")
    return run


# --- identity proofs -------------------------------------------------------------------

def test_proofs_go_once_the_identity_is_verified_and_unverified_ones_stay(
    dpo, settings, django_capture_on_commit_callbacks,
):
    settings.RCU_GDPR_IDENTITY_PROOF_DAYS = 0
    verified, waiting = _request(dpo), _request(dpo)
    verified_proof, waiting_proof = _proof(verified, dpo), _proof(waiting, dpo)
    correspondence = request_attachment_add(request=verified, kind="correspondence", acting_user=dpo,
                                            upload=SimpleUploadedFile("lettre.pdf", b"letter"))
    subject_request_identity_verify(request=verified, acting_user=dpo)
    path = verified_proof.file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert identity_proofs_purge() == 1

    verified_proof.refresh_from_db()
    waiting_proof.refresh_from_db()
    correspondence.refresh_from_db()
    assert verified_proof.deleted_at is not None and not verified_proof.file
    assert not default_storage.exists(path)
    assert waiting_proof.deleted_at is None and default_storage.exists(waiting_proof.file.name)
    assert correspondence.deleted_at is None and correspondence.file
    assert verified.steps.filter(action="identity_proofs_deleted", detail="1").exists()
    assert identity_proofs_purge() == 0  # nothing more: safe to run again


def test_proofs_are_kept_the_configured_days_after_the_verification(dpo, settings):
    settings.RCU_GDPR_IDENTITY_PROOF_DAYS = 7
    request = _request(dpo)
    proof = _proof(request, dpo)
    subject_request_identity_verify(request=request, acting_user=dpo)

    assert identity_proofs_purge(now=timezone.now() + timedelta(days=6)) == 0
    assert identity_proofs_purge(now=timezone.now() + timedelta(days=7, minutes=1)) == 1
    proof.refresh_from_db()
    assert proof.deleted_at is not None


def test_a_proof_the_closing_missed_goes_with_the_next_run(dpo):
    request = _request(dpo)
    proof = _proof(request, dpo)
    subject_request_refuse(request=request, reason="identité non établie", acting_user=dpo)
    # As if the closing had failed to delete it (a request closed before this purge).
    RequestAttachment.objects.filter(pk=proof.pk).update(deleted_at=None, file=proof.file.name)

    assert identity_proofs_purge() == 1
    assert RequestAttachment.objects.get(pk=proof.pk).deleted_at is not None


# --- the registry and the nightly run --------------------------------------------------

def test_every_registered_purge_resolves_and_takes_now():
    import inspect

    assert [p.code for p in RETENTION_PURGES] == [
        "access_log", "access_packs", "identity_proofs", "quarantine_hashes"]
    for purge in RETENTION_PURGES:
        parameters = inspect.signature(purge.purge).parameters
        assert "now" in parameters and parameters["now"].kind is inspect.Parameter.KEYWORD_ONLY, purge.code


def test_the_nightly_run_deletes_what_is_past_retention_and_records_the_counts(
    dpo, crm, settings, django_capture_on_commit_callbacks,
):
    settings.RCU_ACCESS_LOG_RETENTION_DAYS = 30
    person = customer(crm, "C1")
    for _ in range(3):
        access_log_record(user=dpo, customers=[person], purpose="customer_page")
    AccessLogEntry.objects.update(at=timezone.now() - timedelta(days=31))
    access_log_record(user=dpo, customers=[person], purpose="api_customer")  # recent: kept
    verified = _request(dpo)
    _proof(verified, dpo)
    subject_request_identity_verify(request=verified, acting_user=dpo)
    now = timezone.now()
    for digest, expires in (("a" * 64, now - timedelta(days=1)), ("b" * 64, now + timedelta(days=1))):
        ErasedIdentifier.objects.create(kind="email", digest=digest, erased_at=now - timedelta(days=1095),
                                        expires_at=expires)

    with django_capture_on_commit_callbacks(execute=True):
        result = retention_purge_task.apply(task_id="nightly-1").get()

    assert result == {"access_log": 3, "access_packs": 0, "identity_proofs": 1, "quarantine_hashes": 1}
    assert list(ErasedIdentifier.objects.values_list("digest", flat=True)) == ["b" * 64]
    assert list(AccessLogEntry.objects.values_list("purpose", flat=True)) == ["api_customer"]
    run = PeriodicRun.objects.get(key="nightly-1")
    assert run.state == PeriodicRun.State.SUCCEEDED and run.result == result
    assert run.task == "gdpr.tasks.retention_purge_task" and run.finished_at is not None


def test_a_run_retried_after_a_crash_midway_counts_each_deletion_once(dpo, crm, settings):
    """The access log purge dies after its first chunk: the retry (same task id) resumes
    the run; the chunk already committed is neither redone nor counted twice, and the
    recent entry survives both."""
    settings.RCU_ACCESS_LOG_RETENTION_DAYS = 30
    person = customer(crm, "C1")
    for _ in range(5):
        access_log_record(user=dpo, customers=[person], purpose="customer_page")
    AccessLogEntry.objects.update(at=timezone.now() - timedelta(days=31))
    access_log_record(user=dpo, customers=[person], purpose="api_customer")
    real = RETENTION_PURGES[0].purge
    calls = []

    def dies_on_second_chunk(*, now, limit):
        calls.append(limit)
        if len(calls) == 2:
            raise ConnectionError("worker killed")
        return real(now=now, limit=limit)

    crashing = RetentionPurge("access_log", "access log", "gdpr.services.access_log.access_log_purge")
    crashing.__dict__["purge"] = dies_on_second_chunk
    run = _run("crashy")
    with mock.patch("gdpr.services.retention.CHUNK", 2), pytest.raises(Exception, match="access_log"):
        retention_purges_run(run=run, purges=(crashing,))
    assert AccessLogEntry.objects.count() == 4 and run.result == {"access_log": 2}

    again, act = periodic_run_begin(task=run.task, key="crashy", trigger="beat")
    assert act and again.pk == run.pk
    with mock.patch("gdpr.services.retention.CHUNK", 2):
        retention_purges_run(run=again, purges=(RETENTION_PURGES[0],))

    assert PeriodicRun.objects.get(pk=run.pk).result == {"access_log": 5}
    assert list(AccessLogEntry.objects.values_list("purpose", flat=True)) == ["api_customer"]


def test_a_finished_run_delivered_again_does_nothing(dpo, crm, settings):
    settings.RCU_ACCESS_LOG_RETENTION_DAYS = 30
    person = customer(crm, "C1")
    access_log_record(user=dpo, customers=[person], purpose="customer_page")
    AccessLogEntry.objects.update(at=timezone.now() - timedelta(days=31))
    first = retention_purge_task.apply(task_id="redelivered").get()
    access_log_record(user=dpo, customers=[person], purpose="customer_page")
    AccessLogEntry.objects.update(at=timezone.now() - timedelta(days=31))

    assert retention_purge_task.apply(task_id="redelivered").get() == first
    assert AccessLogEntry.objects.count() == 1  # the same message acts once
    assert PeriodicRun.objects.filter(key="redelivered").count() == 1


# --- deadline reminders ----------------------------------------------------------------

@pytest.mark.parametrize(("deadline", "today", "expected"), [
    (date(2026, 12, 18), date(2026, 12, 1), None),  # 13 working days left
    (date(2026, 12, 18), date(2026, 12, 11), "due_5"),  # 5 left
    (date(2026, 12, 18), date(2026, 12, 17), "due_1"),  # 1 left: the tightest only
    (date(2026, 12, 18), date(2026, 12, 18), "due_1"),  # due today
    (date(2026, 12, 18), date(2026, 12, 21), "overdue"),
])
def test_the_tightest_threshold_reached_is_the_one_reminded(deadline, today, expected):
    assert reminder_threshold(deadline=deadline, today=today, thresholds=[5, 1]) == expected


@pytest.fixture
def dpo_with_mail(dpo):
    """The one DPO user, with an address; a second DPO without one gets nothing."""
    dpo.email = "dpo@exemple.fr"
    dpo.save(update_fields=["email"])
    mute = make_user("dpo_without_address", roles=[Role.DPO])
    mute.email = ""
    mute.save(update_fields=["email"])
    return dpo


def _due_in_days(dpo, today: date, working_days: int) -> SubjectRequest:
    request = _request(dpo)
    from gdpr import deadlines

    deadline = today
    while deadlines.working_days_between(today, deadline) < working_days:
        deadline += timedelta(days=1)
    SubjectRequest.objects.filter(pk=request.pk).update(due_on=deadline)
    request.refresh_from_db()
    return request


def test_reminders_are_noticed_and_mailed_once_per_request_and_threshold(dpo, dpo_with_mail, settings, client):
    settings.RCU_GDPR_REMINDER_WORKING_DAYS = [5, 1]
    today = date(2026, 12, 7)
    soon = _due_in_days(dpo, today, 3)
    late = _due_in_days(dpo, today, 0)
    SubjectRequest.objects.filter(pk=late.pk).update(due_on=today - timedelta(days=2))
    far = _due_in_days(dpo, today, 12)
    closed = _due_in_days(dpo, today, 2)
    SubjectRequest.objects.filter(pk=closed.pk).update(state=RequestState.DONE)
    mail.outbox = []

    deadline_reminders_send(today=today)
    deadline_reminders_send(today=today)  # again the same day: nothing new
    deadline_reminders_send(today=today + timedelta(days=1))  # the next day: same thresholds

    reminders = {(r.request_id, r.threshold) for r in DeadlineReminder.objects.all()}
    assert reminders == {(soon.pk, "due_5"), (late.pk, "overdue")}
    assert far.pk not in {pk for pk, _ in reminders}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dpo@exemple.fr"]
    assert soon.reference in mail.outbox[0].body and late.reference in mail.outbox[0].body
    # The in-app notice on the DPO dashboard.
    client.force_login(dpo)
    page = client.get("/gdpr/").content.decode()
    assert f'data-reminder="{soon.pk}" data-threshold="due_5"' in page
    assert f'data-reminder="{late.pk}" data-threshold="overdue"' in page


def test_a_closer_threshold_and_an_extension_remind_again(dpo, dpo_with_mail, settings):
    settings.RCU_GDPR_REMINDER_WORKING_DAYS = [5, 1]
    today = date(2026, 12, 7)
    request = _due_in_days(dpo, today, 4)
    deadline_reminders_send(today=today)
    day_before = request.deadline - timedelta(days=1)
    while not __import__("gdpr.deadlines").deadlines.is_working_day(day_before):
        day_before -= timedelta(days=1)
    deadline_reminders_send(today=day_before)
    SubjectRequest.objects.filter(pk=request.pk).update(extended_due_on=request.deadline + timedelta(days=3))
    deadline_reminders_send(today=day_before)

    assert sorted(DeadlineReminder.objects.filter(request=request).values_list("threshold", flat=True)) == [
        "due_1", "due_5", "due_5"]
    assert len(mail.outbox) == 3


def test_a_reminder_run_that_died_after_sending_never_mails_again(dpo, dpo_with_mail, settings):
    settings.RCU_GDPR_REMINDER_WORKING_DAYS = [5]
    today = date(2026, 12, 7)
    _due_in_days(dpo, today, 2)
    real_update = DeadlineReminder.objects.none().update

    def dies_when_marking(self, **values):
        if "emailed_at" in values:
            raise ConnectionError("worker killed after sending")
        return real_update.__func__(self, **values)

    with mock.patch("django.db.models.query.QuerySet.update", dies_when_marking), \
            pytest.raises(ConnectionError):
        deadline_reminders_task.apply(task_id="reminders-1").get()
    assert len(mail.outbox) == 1
    assert PeriodicRun.objects.get(key="reminders-1").state == PeriodicRun.State.FAILED

    deadline_reminders_task.apply(task_id="reminders-1").get()  # the retry
    deadline_reminders_task.apply(task_id="reminders-2").get()  # the next day's run

    assert len(mail.outbox) == 1
    assert DeadlineReminder.objects.count() == 1


def test_a_failed_send_leaves_the_reminders_for_the_next_run(dpo, dpo_with_mail, settings):
    settings.RCU_GDPR_REMINDER_WORKING_DAYS = [5]
    today = date(2026, 12, 7)
    _due_in_days(dpo, today, 2)
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages",
                    side_effect=OSError("mail server down")), pytest.raises(OSError):
        deadline_reminders_send(today=today)
    assert mail.outbox == []

    deadline_reminders_send(today=today)

    assert len(mail.outbox) == 1
    assert DeadlineReminder.objects.get().emailed_at is not None


def test_the_dpo_dashboard_shows_the_last_runs(dpo, client):
    retention_purge_task.apply(task_id="shown").get()
    client.force_login(dpo)

    page = client.get("/gdpr/").content.decode()

    assert 'data-task="gdpr.tasks.retention_purge_task"' in page
