"""The DPO's erasure workflow on a request: preview, legal holds, four eyes, execution,
acknowledgements by delivery and by hand, closing, and a receipt and request row that
hold nothing of the person."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from gdpr.models import ErasureStatus, RequestState, SubjectRequest
from gdpr.selectors.erasure import erasure_receipt, erasure_state
from gdpr.services.erasure_requests import (
    request_erasure_acknowledge,
    request_erasure_approve,
    request_erasure_ask,
    request_erasure_execute,
    request_erasure_preview,
    request_erasure_refuse,
    request_legal_hold_add,
    request_legal_hold_remove,
)
from gdpr.services.letters import request_letter_draft
from gdpr.services.requests import (
    RequestConflict,
    RequestInvalid,
    request_note_add,
    subject_request_identity_verify,
    subject_request_refuse,
    subject_request_transition,
)
from gdpr.services.scope import request_scope_set
from rcu.models import ChangeEvent, Customer, Delivery, SourceRecord, public_id_pseudonym
from rcu.roles import Role
from rcu.services.deliveries import deliveries_fan_out
from tests.factories import make_user
from tests.gdpr.builders import (
    HELENE_CRM,
    HELENE_ESHOP,
    HELENE_SC,
    access_request,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield

PERSON_VALUES = (
    "Hélène", "Lefèvre", "LEFEVRE", "helene.lefevre@orange.fr", "h.lefevre84@gmail.com",
    "1984-03-12", "CRM-1001", "SC-2002", "ES-3003", "Victor Hugo", "06 12 34 56 78",
    "0612345678", "+33612345678", "01 42 11 22 33", "+33142112233",
)


@pytest.fixture
def second_dpo(db):
    return make_user("dpo2", roles=[Role.DPO])


@pytest.fixture
def erasure(dpo, scenario) -> SubjectRequest:
    request = access_request(dpo=dpo, kind="erasure")
    subject_request_identity_verify(request=request, acting_user=dpo)
    request_scope_set(request=request, customer_public_ids=[scenario.person.public_id],
                      record_ids=[], acting_user=dpo)
    request.refresh_from_db()
    return request


def approved(erasure, dpo, approver):
    request_erasure_ask(request=erasure, acting_user=dpo)
    request_erasure_approve(request=erasure, acting_user=approver)
    return erasure


def delivered_to(subscription, request: SubjectRequest) -> None:
    """The subscriber answers 2xx to every event of the request (what a send records)."""
    from rcu import hooks

    deliveries_fan_out(subscription_id=subscription.pk)
    approval = erasure_state(request).approval
    Delivery.objects.filter(subscription=subscription).update(status="delivered",
                                                              delivered_at="2026-12-01T10:00Z")
    hooks.erasure_delivered(subscription_id=subscription.pk, event_ids=approval.event_ids)


def test_the_preview_counts_what_the_erasure_would_do_and_keeps_everything(dpo, scenario, erasure):
    preview = request_erasure_preview(request=erasure, acting_user=dpo)
    assert preview.customers >= 1 and preview.records == 3
    counts = {(c.store, c.action): c.count for c in preview.counts}
    assert counts[("rcu.SourceRecord", "deleted")] == 3
    assert [s.code for s in preview.sources] == sorted(r.source.code for r in scenario.records)
    assert Customer.objects.filter(pk=scenario.person.pk).exists()
    assert SourceRecord.objects.filter(pk__in=[r.pk for r in scenario.records]).count() == 3


def test_a_legal_hold_keeps_only_the_attributes_it_names(dpo, second_dpo, scenario, erasure, crm):
    hold = request_legal_hold_add(
        request=erasure, source_code=crm.code, attributes=["last_name", "postcode"],
        legal_basis="Code de commerce L123-22", reason="invoices are kept ten years",
        keep_until=timezone.localdate() + timedelta(days=3650), acting_user=dpo,
    )
    preview = request_erasure_preview(request=erasure, acting_user=dpo)
    assert next(s for s in preview.sources if s.code == crm.code).held
    approved(erasure, dpo, second_dpo)
    request_erasure_execute(request=erasure, acting_user=dpo)
    (kept,) = SourceRecord.objects.filter(source=crm, external_id=HELENE_CRM["id"])
    assert kept.customer_id is None and kept.deleted_at_source is not None
    assert set(kept.attributes) == {"last_name", "postcode"}
    assert set(kept.raw) == {"id", "last_name", "postcode"}
    assert kept.keys == {}
    assert not SourceRecord.objects.filter(external_id__in=[HELENE_SC["id"], HELENE_ESHOP["id"]]).exists()
    # The source keeping the records is not asked to erase them: not among those told.
    assert crm.code not in {a.name for a in erasure_state(erasure).acknowledgements}
    receipt = erasure_receipt(erasure)
    assert receipt["legal_holds"] == [{
        "source": crm.code, "attributes": ["last_name", "postcode"],
        "legal_basis": "Code de commerce L123-22", "reason": "invoices are kept ten years",
        "keep_until": hold.keep_until.isoformat(), "recorded_by": dpo.username,
        "recorded_at": hold.created_at.isoformat(),
    }]


def test_holds_are_refused_when_unknown_unreasoned_or_once_asked(dpo, scenario, erasure, crm):
    until = timezone.localdate() + timedelta(days=30)
    with pytest.raises(RequestInvalid) as unknown:
        request_legal_hold_add(request=erasure, source_code="nope", legal_basis="x", reason="y",
                               keep_until=until, acting_user=dpo)
    assert unknown.value.field == "source"
    with pytest.raises(RequestInvalid) as attribute:
        request_legal_hold_add(request=erasure, source_code=crm.code, attributes=["shoe_size"],
                               legal_basis="x", reason="y", keep_until=until, acting_user=dpo)
    assert attribute.value.field == "attributes"
    with pytest.raises(RequestInvalid) as reason:
        request_legal_hold_add(request=erasure, source_code=crm.code, legal_basis="x", reason=" ",
                               keep_until=until, acting_user=dpo)
    assert reason.value.field == "reason"
    hold = request_legal_hold_add(request=erasure, source_code=crm.code, legal_basis="x",
                                  reason="y", keep_until=until, acting_user=dpo)
    request_erasure_ask(request=erasure, acting_user=dpo)
    with pytest.raises(RequestConflict):
        request_legal_hold_remove(request=erasure, hold_id=hold.pk, acting_user=dpo)


def test_who_asked_cannot_approve_and_a_steward_cannot_either(
    dpo, second_dpo, steward_everywhere, scenario, erasure
):
    request_erasure_ask(request=erasure, acting_user=dpo)
    with pytest.raises(RequestConflict, match="second person"):
        request_erasure_approve(request=erasure, acting_user=dpo)
    with pytest.raises(RequestConflict, match="DPO or an administrator"):
        request_erasure_approve(request=erasure, acting_user=steward_everywhere)
    with pytest.raises(RequestConflict, match="approve the execution first"):
        request_erasure_execute(request=erasure, acting_user=dpo)
    assert Customer.objects.filter(pk=scenario.person.pk).exists()
    request_erasure_approve(request=erasure, acting_user=second_dpo)
    assert erasure_state(erasure).approval.status == ErasureStatus.APPROVED


def test_an_admin_approves_but_only_the_dpo_executes(dpo, admin_user, scenario, erasure):
    request_erasure_ask(request=erasure, acting_user=dpo)
    request_erasure_approve(request=erasure, acting_user=admin_user)
    with pytest.raises(RequestConflict, match="Only the DPO executes"):
        request_erasure_execute(request=erasure, acting_user=admin_user)
    request_erasure_execute(request=erasure, acting_user=dpo)
    assert not Customer.objects.filter(pk=scenario.person.pk).exists()


def test_a_refused_execution_is_asked_again_and_the_trail_keeps_both(dpo, second_dpo, scenario, erasure):
    request_erasure_ask(request=erasure, acting_user=dpo)
    with pytest.raises(RequestInvalid):
        request_erasure_refuse(request=erasure, reason="", acting_user=second_dpo)
    request_erasure_refuse(request=erasure, reason="the eshop record is someone else's",
                           acting_user=second_dpo)
    with pytest.raises(RequestConflict):
        request_erasure_execute(request=erasure, acting_user=dpo)
    request_erasure_ask(request=erasure, acting_user=dpo)
    state = erasure_state(erasure)
    assert state.approval.status == ErasureStatus.ASKED
    assert [r.refusal_reason for r in state.refused] == ["the eshop record is someone else's"]
    actions = list(erasure.steps.values_list("action", flat=True))
    assert actions[-3:] == ["erasure_asked", "erasure_refused", "erasure_asked"]


def test_identity_must_be_verified_and_the_scope_confirmed_before_asking(dpo, scenario):
    request = access_request(dpo=dpo, kind="erasure")
    with pytest.raises(RequestConflict, match="identity"):
        request_erasure_ask(request=request, acting_user=dpo)
    subject_request_identity_verify(request=request, acting_user=dpo)
    with pytest.raises(RequestConflict, match="scope"):
        request_erasure_ask(request=request, acting_user=dpo)


def test_a_scope_changed_after_approval_is_not_executed(dpo, second_dpo, scenario, erasure):
    approved(erasure, dpo, second_dpo)
    request_scope_set(request=erasure, customer_public_ids=[scenario.person.public_id],
                      record_ids=[scenario.lookalike.records.get().pk], acting_user=dpo)
    with pytest.raises(RequestConflict, match="scope changed"):
        request_erasure_execute(request=erasure, acting_user=dpo)
    assert Customer.objects.filter(pk=scenario.lookalike.pk).exists()


def test_executed_the_request_waits_for_each_system_then_closes_and_pseudonymises(
    dpo, second_dpo, scenario, erasure, django_capture_on_commit_callbacks
):
    approved(erasure, dpo, second_dpo)
    approval = request_erasure_execute(request=erasure, acting_user=dpo)
    erasure.refresh_from_db()
    assert erasure.state == RequestState.WAITING_FOR_SOURCES
    state = erasure_state(erasure)
    told = {(a.kind, a.name) for a in state.acknowledgements}
    # The subscriber by delivery; the three sources, which have no subscription, by hand.
    assert told == {("subscriber", "loyalty"), *(("source", r.source.code) for r in scenario.records)}
    assert approval.event_ids
    # Not closed by hand while systems have not acknowledged.
    with pytest.raises(RequestConflict, match="acknowledged"):
        subject_request_transition(request=erasure, state="done", acting_user=dpo)
    with pytest.raises(RequestConflict, match="acknowledged"):
        subject_request_transition(request=erasure, state="in_progress", acting_user=dpo)
    with pytest.raises(RequestConflict, match="acknowledged"):
        subject_request_refuse(request=erasure, reason="changed my mind", acting_user=dpo)
    for ack in state.acknowledgements:
        if ack.kind == "source":
            request_erasure_acknowledge(request=erasure, acknowledgement_id=ack.pk,
                                        note="confirmed by the CRM team's ticket 4411",
                                        acting_user=dpo)
    erasure.refresh_from_db()
    assert erasure.state == RequestState.WAITING_FOR_SOURCES  # the subscriber has not
    events = ChangeEvent.objects.filter(pk__in=approval.event_ids)
    assert all(e.data.get("source_refs") is not None or e.data == {} for e in events)
    delivered_to(scenario.subscription, erasure)
    erasure.refresh_from_db()
    assert erasure.state == RequestState.DONE and erasure.closed_at is not None
    assert erasure.steps.filter(action="erasure_acknowledged").exists()
    pseudonym = public_id_pseudonym(scenario.person.public_id)
    for event in ChangeEvent.objects.filter(customer_id=scenario.person.pk):
        assert event.customer_public_id == pseudonym
        assert event.data == {} and event.changes == {}
    assert not ChangeEvent.objects.filter(customer_public_id=scenario.person.public_id).exists()


def test_a_subscriber_that_cannot_is_acknowledged_by_hand_with_why(dpo, second_dpo, scenario, erasure):
    approved(erasure, dpo, second_dpo)
    request_erasure_execute(request=erasure, acting_user=dpo)
    with pytest.raises(RequestInvalid):
        request_erasure_acknowledge(request=erasure, acknowledgement_id=erasure_state(erasure)
                                    .acknowledgements[0].pk, note=" ", acting_user=dpo)
    for ack in erasure_state(erasure).acknowledgements:
        request_erasure_acknowledge(request=erasure, acknowledgement_id=ack.pk,
                                    note="decommissioned: its base was wiped", acting_user=dpo)
    erasure.refresh_from_db()
    assert erasure.state == RequestState.DONE
    receipt = erasure_receipt(erasure)
    assert {a["how"] for a in receipt["acknowledgements"]} == {"by_hand"}


def test_the_receipt_and_the_request_row_hold_nothing_of_the_person(
    dpo, second_dpo, scenario, erasure
):
    request_note_add(request=erasure, text="Mme Hélène Lefèvre called, helene.lefevre@orange.fr",
                     acting_user=dpo)
    request_letter_draft(request=erasure, kind="acknowledgement", acting_user=dpo)
    public_ids = [str(scenario.person.public_id)]
    approved(erasure, dpo, second_dpo)
    request_erasure_execute(request=erasure, acting_user=dpo)
    for ack in erasure_state(erasure).acknowledgements:
        request_erasure_acknowledge(request=erasure, acknowledgement_id=ack.pk,
                                    note="done on their side", acting_user=dpo)
    erasure.refresh_from_db()
    receipt = json.dumps(erasure_receipt(erasure), ensure_ascii=False).lower()
    row = SubjectRequest.objects.filter(pk=erasure.pk).values().get()
    row_text = json.dumps(row, default=str, ensure_ascii=False).lower()
    texts = [*erasure.notes.values_list("text", flat=True),
             *erasure.letters.values_list("body", flat=True)]
    for value in (*PERSON_VALUES, *public_ids):
        assert value.lower() not in receipt, value
        assert value.lower() not in row_text, value
        for text in texts:
            assert value.lower() not in text.lower(), value
    # What it does say: counts, sources, acknowledgements, dates, who, the request.
    parsed = erasure_receipt(erasure)
    assert parsed["request"]["reference"] == erasure.reference
    assert parsed["erased"]["records"] == 3
    assert parsed["asked"]["by"] == dpo.username and parsed["approved"]["by"] == second_dpo.username
    assert {a["name"] for a in parsed["acknowledgements"]} >= {"loyalty"}
    assert row["subject"] == {} and row["reply_to"] == "" and row["description"] == ""
